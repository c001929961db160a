from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.fake_vendor import FakeVendor, serve_vendor


@pytest.fixture
def vendor() -> Iterator[FakeVendor]:
    with serve_vendor() as fake:
        yield fake
