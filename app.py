"""The Chalice app: blueprints and event sources, nothing else."""

from __future__ import annotations

from chalice.app import Chalice

from chalicelib.api.connections import connections
from chalicelib.api.middleware import http_middleware
from chalicelib.api.providers import providers
from chalicelib.api.runs import runs
from chalicelib.api.system import system

app = Chalice(app_name="integration-platform")
app.register_middleware(http_middleware, "http")
app.register_blueprint(system)
app.register_blueprint(providers)
app.register_blueprint(connections)
app.register_blueprint(runs)
