"""Which Lambda function this process runs, so a queue, stream or schedule function skips the API.

Lambda sets ``_HANDLER`` to the function's handler (``app.app`` for the REST
API, ``app.outbound_dispatch`` for a queue consumer, ...) before the runtime
imports ``app``. Only the API function needs the blueprints, their models and
the request pipeline; loading them in every other function cost a third of its
cold start (docs/performance.md "Cold start and package"). Without ``_HANDLER``
(``chalice package``, ``chalice local``, the tests, the local runtime) the whole
app is loaded, so packaging still sees every route.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

API_HANDLER = "app.app"


def serves_api(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether this process must register the API's routes."""
    return (environ.get("_HANDLER") or API_HANDLER) == API_HANDLER
