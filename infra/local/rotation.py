"""Secrets Manager's side of rotation, locally: invoke the rotation function with the four steps in order.

moto's ``RotateSecret`` cannot do this (it looks the function up in its own
Lambda backend), so with ``ROTATION_INVOKER=local`` the API hands the request
here instead. Steps run on one background thread, as Secrets Manager runs them
after ``RotateSecret`` has returned; a step that raises ends the rotation, as
it does in AWS.
"""

from __future__ import annotations

import logging
import queue
import threading

from chalice.app import Chalice

from infra.local.invoke import LocalFunction

log = logging.getLogger(__name__)
STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")


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
                try:
                    self.function.invoke({"SecretId": secret_id, "ClientRequestToken": token, "Step": step})
                except Exception:
                    log.exception("rotation step %s failed for %s", step, secret_id)
                    break


def install(app: Chalice, stage: str, region: str) -> LocalFunction | None:
    """Register the app's rotation function (the one ``lambda_function``) as the rotation invoker."""
    from chalicelib.credentials.rotation import register_local_invoker

    functions = [f for f in app.pure_lambda_functions if f.name == "credential_rotation"]
    if not functions:
        return None
    function = LocalFunction(app, functions[0], stage, region)
    register_local_invoker(LocalRotation(function))
    return function
