"""Event destinations beyond webhooks: SQS, SNS, EventBridge and Kinesis, written under a tenant-tagged role session."""
