"""Runs: operations executed against vendor APIs, and their inspectable records."""
