"""Usage numbers per connection and subscription: hourly buckets in the ``stats`` table (docs/observability.md).

``record`` counts one observation with one ``UpdateItem ... ADD`` (or adds it to the batch a
handler opened with ``collecting``); ``read`` turns the buckets into the ``stats``, health
``metrics`` and ``GET /metrics`` shapes. The numbers are best effort: a failed write is logged
and dropped, never raised into the flow it counts.
"""
