"""The development signing key is created once: processes that start together end with the same key."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from infra.local.dev_issuer import DevIssuer, create_once
from tests.e2e.conftest import PROJECT_DIR
from tests.support.waiting import poll

PROCESSES = 4
# Each process waits for the start file, then creates the issuer and prints the JWKS it will publish.
RACER = """
import pathlib, sys, time
from infra.local.dev_issuer import DevIssuer
go = pathlib.Path(sys.argv[2])
while not go.exists():
    time.sleep(0.001)
print(DevIssuer(pathlib.Path(sys.argv[1])).jwks()["keys"][0]["n"])
"""


def test_first_starts_together_share_one_key(tmp_path: Path) -> None:
    key, go = tmp_path / "keys" / "dev-issuer.pem", tmp_path / "go"
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, str(key), str(go)], cwd=PROJECT_DIR, stdout=subprocess.PIPE, text=True
        )
        for _ in range(PROCESSES)
    ]
    go.touch()
    poll(lambda: all(racer.poll() is not None for racer in racers), "every racer to print its key")
    published = {racer.communicate()[0].strip() for racer in racers}
    assert all(racer.returncode == 0 for racer in racers)
    assert published == {DevIssuer(key).jwks()["keys"][0]["n"]}
    assert sorted(p.name for p in key.parent.iterdir()) == ["dev-issuer.pem"]  # no temporary file left behind
    assert key.stat().st_mode & 0o777 == 0o600


def test_create_once_never_replaces_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "key.pem"
    assert create_once(path, b"first") is True
    assert create_once(path, b"second") is False
    assert path.read_bytes() == b"first"
    assert os.listdir(tmp_path) == ["key.pem"]
