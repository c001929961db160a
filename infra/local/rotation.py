"""Secrets Manager's side of rotation, locally: invoke the rotation function with the four steps in order.

moto's ``RotateSecret`` cannot do this (it looks the function up in its own
Lambda backend), so with ``ROTATION_INVOKER=local`` the API hands the request
here instead. Steps run on one background thread, as Secrets Manager runs them
after ``RotateSecret`` has returned. A step that raises is invoked again up to
``STEP_RETRIES`` times (the steps are idempotent per token, and Lambda retries a
failed asynchronous invocation twice); one that still fails ends the rotation,
as it does in AWS, and the sweeper then closes it with the reason.
"""

from __future__ import annotations

import logging
import queue
import threading
import time

from chalice.app import Chalice

from infra.local.invoke import LocalFunction

log = logging.getLogger(__name__)
STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")
STEP_RETRIES = 2
RETRY_PAUSE_SECONDS = 1.0


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


def install(app: Chalice, stage: str, region: str) -> LocalFunction | None:
    """Register the app's rotation function (the one ``lambda_function``) as the rotation invoker."""
    from chalicelib.credentials.rotation import register_local_invoker

    functions = [f for f in app.pure_lambda_functions if f.name == "credential_rotation"]
    if not functions:
        return None
    function = LocalFunction(app, functions[0], stage, region)
    register_local_invoker(LocalRotation(function))
    return function
