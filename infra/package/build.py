"""``make package``'s first step: ``chalice package``, installing exactly the locked wheels for Lambda.

Chalice's packager reads ``requirements.txt`` (the lock: every package pinned,
with hashes) and resolves the Lambda wheels itself, in passes of ``pip``:

1. ``pip download -r requirements.txt``: for this machine's platform. With
   hashes in the file pip checks every download, but on a newer glibc it
   picks wheels Lambda cannot load (cryptography's ``manylinux_2_34``);
2. for each of those, ``pip download --no-deps --platform manylinux... NAME==VERSION``:
   the name alone, so **without** the hashes;
3. sdists left over are built on this machine.

So the packager's pip runs with settings (pip reads ``PIP_*`` variables as its
options) that make pass 1 download the Lambda platform's wheels (CPython 3.11,
glibc 2.26 and older, x86_64: what Chalice itself accepts for ``python3.11``),
binaries only, hashes required. Pass 1 then leaves nothing for 2 and 3, and if
a wheel were ever missing, pass 2 could not download it unchecked: it fails
for want of a hash and the package with it. The same files go in on any
machine, whatever its pip configuration points at: a mirror's file whose hash
is not in the lock is refused.

Then the one change a merge template cannot make, since it can only add and
override: the routes the merge template puts on the ingest HTTP API (the
vendor-facing ones) are taken out of the REST API Chalice generates, so each
route has one front in a deployed stage (docs/deploy.md "Two fronts").

    python -m infra.package.build --stage prod --merge-template infra/template.json build
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

RUNTIME_GLIBC_MINOR = 26
LAMBDA_PIP = {
    "PIP_REQUIRE_HASHES": "1",
    "PIP_ONLY_BINARY": ":all:",
    "PIP_IMPLEMENTATION": "cp",
    "PIP_PYTHON_VERSION": "3.11",
    "PIP_ABI": "cp311",
    # pip takes each --platform literally: every glibc up to the runtime's, and the legacy alias.
    "PIP_PLATFORM": " ".join(
        [*(f"manylinux_2_{minor}_x86_64" for minor in range(17, RUNTIME_GLIBC_MINOR + 1)), "manylinux2014_x86_64"]
    ),
}
CHALICE = Path(sys.executable).parent / "chalice"


def chalice_package(
    project: Path, out: Path, merge_template: Path, stage: str, environment: Mapping[str, str] = os.environ
) -> None:
    """``chalice package`` of ``project`` into ``out`` (sam.json, deployment.zip), its pip held to the lock."""
    env = {**environment, **LAMBDA_PIP, "AWS_DEFAULT_REGION": environment.get("AWS_DEFAULT_REGION", "us-east-1")}
    command = [str(CHALICE), "package", "--stage", stage, "--pkg-format", "cloudformation"]
    command += ["--template-format", "json", "--merge-template", str(merge_template), str(out)]
    subprocess.run(command, cwd=project, env=env, check=True, capture_output=True, text=True, timeout=300)
    sam = out / "sam.json"
    template = json.loads(sam.read_text())
    rest_only(template)
    sam.write_text(json.dumps(template, indent=2, separators=(",", ": ")) + "\n")  # as Chalice writes it


def http_api_routes(template: dict[str, Any]) -> set[tuple[str, str]]:
    """``(method, path)`` of every route on an HTTP API of ``template`` (the WebSocket API's are not HTTP)."""
    resources = template["Resources"]
    http_apis = {
        name
        for name, resource in resources.items()
        if resource["Type"] == "AWS::ApiGatewayV2::Api" and resource["Properties"].get("ProtocolType") == "HTTP"
    }
    routes = set()
    for resource in resources.values():
        if resource["Type"] == "AWS::ApiGatewayV2::Route" and resource["Properties"]["ApiId"].get("Ref") in http_apis:
            method, _, path = resource["Properties"]["RouteKey"].partition(" ")
            routes.add((method.lower(), path))
    return routes


def rest_only(template: dict[str, Any]) -> None:
    """Take the HTTP API's routes out of the REST API's definition: API Gateway answers them 404 there."""
    routes = http_api_routes(template)
    if not routes:
        return
    paths: dict[str, dict[str, Any]] = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]["paths"]
    for method, path in routes:
        operations = paths.get(path, {})
        if operations.pop(method, None) is None:
            raise ValueError(f"the HTTP API routes {method.upper()} {path}, which the app does not declare")
        if not operations:
            del paths[path]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--stage", required=True)
    parser.add_argument("--merge-template", type=Path, required=True)
    parser.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    try:
        chalice_package(Path.cwd(), args.out.resolve(), args.merge_template.resolve(), args.stage)
    except subprocess.CalledProcessError as exc:
        print(f"make package: chalice package failed:\n{exc.stdout}{exc.stderr}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
