"""The REST API as one unit: the request middleware and every resource's Blueprint.

``app.py`` registers it only in processes that serve HTTP (``chalicelib.core.handler``).
Importing these modules loads the request pipeline and no domain module: each view
imports its services, and each declaration names its models by dotted path
(``chalicelib.api.routing``), so registering every route stays cheap.
"""

from __future__ import annotations

from chalice.app import Chalice

from chalicelib.api.api_keys import api_keys
from chalicelib.api.connections import connections
from chalicelib.api.credentials import credentials
from chalicelib.api.event_publishing import event_publishing
from chalicelib.api.events import events
from chalicelib.api.mcp import mcp
from chalicelib.api.metrics import metrics
from chalicelib.api.middleware import http_middleware
from chalicelib.api.operations import operations
from chalicelib.api.portal import portal
from chalicelib.api.providers import providers
from chalicelib.api.runs import runs
from chalicelib.api.schedules import schedules
from chalicelib.api.subscriptions import subscriptions
from chalicelib.api.system import system
from chalicelib.api.webhooks import webhooks

BLUEPRINTS = (
    system,
    providers,
    connections,
    runs,
    operations,
    webhooks,
    events,
    subscriptions,
    event_publishing,
    api_keys,
    credentials,
    mcp,
    metrics,
    portal,
    schedules,
)


def register(app: Chalice) -> None:
    app.register_middleware(http_middleware, "http")
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
