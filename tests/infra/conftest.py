"""The deployable artefact, packaged once per test run exactly as ``make package`` does it.

Packaging takes tens of seconds, so every xdist worker of one run shares one
build: the first to get here packages under a file lock, the others wait and
read it (the recipe of pytest-xdist's docs, with ``fcntl`` as the lock).
"""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from infra.package import build
from infra.package.translate import translate

ROOT = Path(__file__).resolve().parents[2]
MERGE_TEMPLATE = ROOT / "infra" / "template.json"
STAGE = "prod"
JWT_PARAMETERS = {
    "JWT_ISSUER": "JwtIssuer",
    "JWKS_URL": "JwksUrl",
    "JWT_AUDIENCE": "JwtAudience",
    "TENANT_CLAIM": "TenantClaim",
}
# Variables the test process sets for the app; packaging must read only the stage's config.
APP_ENVIRONMENT = {"STAGE", "RESOURCE_PREFIX", "ALLOW_INSECURE_URLS", "AWS_ENDPOINT_URL", *JWT_PARAMETERS}


@dataclass(frozen=True)
class Package:
    directory: Path
    template: dict[str, Any]
    text: str

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {name: r for name, r in self.template["Resources"].items() if r.get("Type") == resource_type}


def chalice_package(project: Path, out: Path, merge_template: Path, stage: str = STAGE) -> None:
    env = {k: v for k, v in os.environ.items() if k not in APP_ENVIRONMENT}
    build.chalice_package(project, out, merge_template, stage, {**env, "AWS_DEFAULT_REGION": "us-east-1"})


@pytest.fixture(scope="session")
def package(tmp_path_factory: pytest.TempPathFactory) -> Package:
    base = tmp_path_factory.getbasetemp()
    # Under xdist each worker's base is a directory of this run's: their parent is shared by this run alone.
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    out = shared / "package" / "build"
    with open(shared / "package.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (out / "sam.json").exists():
            chalice_package(ROOT, out, MERGE_TEMPLATE)
    text = (out / "sam.json").read_text()
    return Package(out, json.loads(text), text)


@pytest.fixture(scope="session")
def translated(package: Package) -> dict[str, Any]:
    """The packaged template after the SAM transform: what CloudFormation creates."""
    return translate(package.template)
