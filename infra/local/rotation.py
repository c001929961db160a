"""Secrets Manager's side of rotation, locally: moto's ``RotateSecret`` invokes the app's rotation function.

moto cannot do this itself: with a ``RotationLambdaARN`` it looks the function
up in its own Lambda backend (which runs functions in Docker), and without one
it moves AWSCURRENT to an empty version. So the process that hosts moto
(``make run``, ``make aws``) registers the app's ``credential_rotation``
function here, and a ``RotateSecret`` that names it (by function name, as the
API stage's ``ROTATION_FUNCTION_ARN`` does) records the rotation on the secret
and returns; the four steps then run on one background thread, as Secrets
Manager runs them after ``RotateSecret`` has returned. The API may live in
another process (``chalice local``): it only calls ``RotateSecret``.

Unlike Secrets Manager, no empty AWSPENDING placeholder is made for the token:
``createSecret`` writes the pending version itself. A step that raises is
invoked again up to ``STEP_RETRIES`` times (the steps are idempotent per token,
and Lambda retries a failed asynchronous invocation twice); one that still
fails ends the rotation, as it does in AWS, and the sweeper then closes it with
the reason. ``RotateSecret`` naming any other function keeps moto's behaviour.
"""

from __future__ import annotations

import functools
import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from chalice.app import Chalice

from chalicelib.core.config import get_settings
from infra.local.atomic_writes import secrets_lock
from infra.local.invoke import LocalFunction

log = logging.getLogger(__name__)
STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")
STEP_RETRIES = 2
RETRY_PAUSE_SECONDS = 1.0
ROTATION_FUNCTION = "credential_rotation"
_rotations: dict[str, LocalRotation] = {}


class LocalRotation:
    def __init__(self, function: LocalFunction) -> None:
        self.function = function
        self._requests: queue.Queue[tuple[str, str]] = queue.Queue()
        threading.Thread(target=self._run, name="rotation", daemon=True).start()

    def __call__(self, secret_id: str, token: str) -> None:
        self._requests.put((secret_id, token))

    def _run(self) -> None:
        while True:
            secret_id, token = self._requests.get()
            for step in STEPS:
                if not self._step(secret_id, token, step):
                    break

    def _step(self, secret_id: str, token: str, step: str) -> bool:
        for attempt in range(1 + STEP_RETRIES):
            try:
                self.function.invoke({"SecretId": secret_id, "ClientRequestToken": token, "Step": step})
            except Exception:
                log.exception("rotation step %s failed for %s (try %d)", step, secret_id, attempt + 1)
                time.sleep(RETRY_PAUSE_SECONDS)
            else:
                return True
        return False


def _rotate_secret(original: Callable[..., str]) -> Callable[..., str]:
    @functools.wraps(original)
    def rotate_secret(
        backend: Any,
        secret_id: str,
        client_request_token: str | None = None,
        rotation_lambda_arn: str | None = None,
        rotation_rules: dict[str, Any] | None = None,
        rotate_immediately: bool = True,
    ) -> str:
        from moto.secretsmanager.exceptions import InvalidRequestException, SecretNotFoundException

        rotation = _rotations.get((rotation_lambda_arn or "").rsplit(":", 1)[-1])
        if rotation is None:
            return original(
                backend, secret_id, client_request_token, rotation_lambda_arn, rotation_rules, rotate_immediately
            )
        # Under the lock every other backend method takes (atomic_writes); released before the rotation
        # itself, whose steps call Secrets Manager again from the moto server's other threads.
        with secrets_lock:
            if not backend._is_valid_identifier(secret_id):
                raise SecretNotFoundException()
            secret = backend.secrets[secret_id]
            if secret.is_deleted():
                raise InvalidRequestException("You can't rotate a secret that's marked for deletion.")
            days = int((rotation_rules or {}).get("AutomaticallyAfterDays", 0))
            if days:
                secret.auto_rotate_after_days = days
                secret.next_rotation_date = int(time.time()) + days * 86400
                secret.rotation_enabled = True
            secret.rotation_requested = True
            secret.rotation_lambda_arn = rotation_lambda_arn
            secret.last_rotation_date = int(time.time())
        token = client_request_token or str(uuid.uuid4())
        rotation(secret.name, token)
        with secrets_lock:
            answer: str = secret.to_short_dict(version_id=token)
        return answer

    rotate_secret.__local__ = True  # type: ignore[attr-defined]
    return rotate_secret


def install(app: Chalice, stage: str, region: str) -> LocalFunction | None:
    """Make moto's ``RotateSecret`` run the app's rotation function; None if the app has none."""
    from moto.secretsmanager.models import SecretsManagerBackend

    functions = [f for f in app.pure_lambda_functions if f.name == ROTATION_FUNCTION]
    if not functions:
        return None
    function = LocalFunction(app, functions[0], stage, region)
    # Registered under the name the API's RotateSecret gives (ROTATION_FUNCTION_ARN), which the deployed
    # template sets; by default that is the name Chalice would deploy the function as.
    named = get_settings().rotation_function_arn.rsplit(":", 1)[-1] or function.function_name
    _rotations[named] = LocalRotation(function)
    if not getattr(SecretsManagerBackend.rotate_secret, "__local__", False):
        SecretsManagerBackend.rotate_secret = _rotate_secret(SecretsManagerBackend.rotate_secret)  # type: ignore[method-assign]
    return function
