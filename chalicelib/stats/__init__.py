"""Usage numbers per connection and subscription: hour and minute items in the ``stats`` table (docs/observability.md).

``record`` counts observations: summed per batch (``collecting``) or per container (``tally``) and
written at most once per series every few seconds, or at once for a lone API action; ``read`` turns
the items into the ``stats``, health ``metrics`` and ``GET /metrics`` shapes. The numbers are best
effort: a failed write is logged and held for the next flush, never raised into the flow it counts.
"""
