"""Scheduled runs: an operation a connection runs on a rate or a cron, fired by EventBridge Scheduler."""
