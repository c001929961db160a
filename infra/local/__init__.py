"""The local runtime: moto as AWS, the API over HTTP, SQS pollers and schedules."""
