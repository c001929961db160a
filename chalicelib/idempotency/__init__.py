"""``Idempotency-Key`` for every creating POST, through powertools' idempotency utility."""
