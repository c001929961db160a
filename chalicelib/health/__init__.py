"""The scheduled health sweep: pages of active connections fanned out as one SQS check job each."""
