"""Names that are the platform's own, which no tenant and no other service can take.

``EVENT_SOURCE`` is the ``source`` of every entry the platform puts on an
EventBridge bus; the inbound rule on the platform's bus matches every source
but this one, so what the platform writes never comes back in as a tenant's
event (``chalicelib.events.bus``, ``chalicelib.destinations.delivery`` and the
rule in infra/template.json must agree, hence one definition).

``PROBE_TENANT`` is the ``tenantId`` session tag of the access check's "no
tenant" write (``chalicelib.destinations.access``): a value the writer role's
trust policy admits (any non-empty tag) but no tenant can have, because a
tenant id never starts with a dot (``is_tenant_id``, enforced where a tenant
enters: the bearer token's claim).
"""

from __future__ import annotations

EVENT_SOURCE = "integration-platform"
PROBE_TENANT = ".no-tenant"


def is_tenant_id(value: object) -> bool:
    """Whether ``value`` can name a tenant: a non-empty string that does not start with a dot (dot-led names
    are the platform's: the probe tag, the ``.platform`` secrets folder)."""
    return isinstance(value, str) and bool(value) and not value.startswith(".")
