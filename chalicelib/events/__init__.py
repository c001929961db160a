"""Platform events: every inbound delivery, lifecycle change and run outcome, recorded once."""
