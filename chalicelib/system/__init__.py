"""Platform self-checks and API description."""
