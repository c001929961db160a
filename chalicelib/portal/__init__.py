"""The subscriber portal: short-lived, scoped links a tenant hands to one of its own customers."""
