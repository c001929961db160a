"""Platform self-checks and the pages that render the API description."""
