"""The API over real HTTP on 127.0.0.1 (the local runtime's front, in a thread, inside the moto session)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from infra.local.dev_issuer import DevIssuer
from tests.outbound.conftest import driver, outbound_env

__all__ = ["driver", "outbound_env"]  # the outbound package's fixtures, for the secret scan's workflow


@pytest.fixture(scope="session")
def http_api(local_api: object, issuer: DevIssuer) -> Iterator[str]:
    from infra.local.gateway import LocalApi
    from infra.local.server import LocalHttpServer

    assert isinstance(local_api, LocalApi)
    server = LocalHttpServer(0)
    server.attach(local_api, issuer.jwks())
    thread = threading.Thread(target=server.serve_forever, name="reliability-http", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
