"""The finished ``deployment.zip`` still runs everything: the proof that what it leaves out is unused.

The app is packaged as ``make package`` does it, unpacked read-only, and a fresh
interpreter with only that directory and the runtime's boto3 on its path imports
every handler and every ``chalicelib`` module, and runs the library paths the
functions reach lazily: partial batches (``chalicelib.core.batch``), idempotency, JWTs (RS256, ES256,
EdDSA), the OpenAPI document, logs and metrics. A left-out module that something
needs fails the import here; loading one that should be unused fails the check.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench.cold_start import lambda_env, unpacked
from infra.package.finish import finish
from infra.package.trim import UNUSED
from tests.infra.conftest import Package

EXERCISE = """
import importlib, json, pkgutil, sys
import app
import chalicelib
for found in pkgutil.walk_packages(chalicelib.__path__, "chalicelib."):
    importlib.import_module(found.name)
handlers = [name for name, value in vars(app).items() if type(value).__module__ == "chalice.app"]

from chalicelib.core.batch import handle_in_turn, handle_stream_in_steps
sqs = {"messageId": "m", "receiptHandle": "h", "body": "{}", "attributes": {}, "messageAttributes": {},
       "md5OfBody": "", "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:1:q"}
stream = {"eventID": "1", "eventName": "INSERT", "eventSource": "aws:dynamodb", "dynamodb": {"SequenceNumber": "1"}}
assert handle_in_turn({"Records": [sqs]}, lambda record: None) == {"batchItemFailures": []}
assert handle_stream_in_steps({"Records": [stream]}, str, len, lambda plan: None) == {"batchItemFailures": []}
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig
from aws_lambda_powertools.utilities.idempotency.base import IdempotencyHandler
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyValidationError

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
for key, algorithm in ((rsa.generate_private_key(65537, 2048), "RS256"),
                       (ec.generate_private_key(ec.SECP256R1()), "ES256"),
                       (ed25519.Ed25519PrivateKey.generate(), "EdDSA")):
    token = jwt.encode({"sub": "x"}, key, algorithm=algorithm)
    assert jwt.decode(token, key.public_key(), algorithms=[algorithm]) == {"sub": "x"}

import aws_xray_sdk.core  # chalicelib.core.tracing's recorder, over the runtime's botocore

import importlib.metadata
assert importlib.metadata.version("pydantic") and importlib.metadata.version("aws-lambda-powertools")
assert importlib.metadata.metadata("pydantic").get_payload() == ""  # the long description is left out

from chalicelib.api.openapi import document_json
assert json.loads(document_json())["paths"]
from chalicelib.core.logging import logger
from chalicelib.core.metrics import count
logger.info("packaged", extra={"k": "v"})
count("PackagedImportTest")
files = sorted({getattr(m, "__file__", None) or "" for m in list(sys.modules.values())})
print("RESULT " + json.dumps({"handlers": handlers, "files": files}))
"""


@pytest.fixture(scope="module")
def archive(package: Package, tmp_path_factory: pytest.TempPathFactory) -> Path:
    finished = tmp_path_factory.mktemp("finished") / "deployment.zip"
    shutil.copyfile(package.directory / "deployment.zip", finished)
    finish(finished)
    return finished


def test_every_module_and_library_path_runs_from_the_trimmed_read_only_package(archive: Path) -> None:
    with unpacked(archive) as (task, runtime):
        env = lambda_env() | {"PYTHONPATH": f"{task}{os.pathsep}{runtime}"}
        done = subprocess.run(
            [sys.executable, "-S", "-c", EXERCISE], cwd=task, env=env, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stderr
        result = json.loads(done.stdout.split("RESULT ", 1)[1])
        loaded = [os.path.relpath(path, task) for path in result["files"] if path.startswith(str(task))]
    assert {"events_stream_failures", "events_stream", "credential_rotation", "health_sweep"} <= set(result["handlers"])
    assert "chalicelib/outbound/dispatcher.py" in loaded
    assert [path for path in loaded if any(path.startswith(prefix) for prefix in UNUSED)] == []
    # Libraries load from their bytecode: the package carries no source for them.
    assert "pydantic/main.pyc" in loaded and "aws_lambda_powertools/logging/logger.pyc" in loaded


def test_every_function_reaches_its_first_aws_client_from_the_package(package: Package, archive: Path) -> None:
    """What ``bench.cold_start`` times: each function's handler, given its source's event, gets as far as a client.

    The bench aborts when a handler returns before any client (its event no longer matches what the
    handler reads), which is how a change to a message shape used to surface only in ``make bench``.
    """
    from bench.cold_start import CONTEXT, FUNCTION, event_for, functions, sample

    rows = functions(package.template)
    assert len(rows) >= 10
    with unpacked(archive) as (task, runtime):
        reached = {
            logical_id: sample(
                CONTEXT + FUNCTION.format(attribute=attribute, event=event_for(attribute, source)),
                task,
                runtime,
                lambda_env() | {"_HANDLER": f"app.{attribute}"},
            )[2]
            for logical_id, attribute, source in rows
        }
    assert [name for name, client in reached.items() if not client] == []
