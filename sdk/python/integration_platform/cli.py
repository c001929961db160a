"""``ipctl``: the platform from a shell, on top of ``Client``.

Tables for people, ``--json`` for scripts (the API's own JSON, lists as one
array of every page). Exit codes are documented in sdk/python/README.md and
fixed here so scripts can branch on them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from integration_platform import destinations, jsonread, models
from integration_platform.client import Client
from integration_platform.errors import (
    ApiError,
    AuthenticationError,
    NotFoundError,
    PermissionDeniedError,
    ServerError,
    TransportError,
    WaitTimeoutError,
)

EXIT_OK = 0
EXIT_RUN_FAILED = 1  # runs start/wait --wait: the run ended Failed or Cancelled
EXIT_USAGE = 2  # argparse's own code for a bad command line
EXIT_AUTH = 3  # 401 or 403
EXIT_NOT_FOUND = 4  # 404
EXIT_CLIENT_ERROR = 5  # any other 4xx (validation, conflict, rate limit after retries)
EXIT_UNAVAILABLE = 6  # 5xx, unreachable platform, or a --wait that timed out
EXIT_BROKEN_PIPE = 141  # stdout closed early (``ipctl ... | head -1``): what a shell shows for SIGPIPE

Handler = Callable[[Client, argparse.Namespace], Any]

COLUMNS: dict[str, list[str]] = {
    "connections": ["connectionId", "providerId", "displayName", "status", "health", "establishedAt"],
    "providers": ["providerId", "displayName", "category", "authModel", "builtIn"],
    "subscriptions": ["subscriptionId", "status", "eventTypes", "destination", "createdAt"],
    "runs": ["runId", "connectionId", "operation", "status", "createdAt", "completedAt"],
    "deliveries": ["deliveryId", "connectionId", "normalizedEventType", "status", "receivedAt"],
    "attempts": ["attemptId", "eventId", "eventType", "attempt", "status", "statusCode", "attemptedAt"],
    "api-keys": ["apiKeyId", "name", "prefix", "status", "scopes", "expiresAt"],
}


def _json_arg(text: str) -> Any:
    try:
        return jsonread.read(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not JSON: {error}") from error


def _cell(value: Any, key: str = "") -> str:
    if value is None:
        return ""
    if key == "destination" and isinstance(value, dict):
        return destinations.describe(value)
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def render_table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    cells = [[_cell(row.get(column), column) for column in columns] for row in rows]
    widths = [max([len(column), *(len(line[i]) for line in cells)]) for i, column in enumerate(columns)]
    lines = [columns, *cells]
    return "\n".join(
        "  ".join(text.ljust(width) for text, width in zip(line, widths, strict=True)).rstrip() for line in lines
    )


def render_record(record: dict[str, Any]) -> str:
    width = max((len(key) for key in record), default=0)
    return "\n".join(f"{key.ljust(width)}  {_cell(value, key)}" for key, value in record.items())


def _limited(items: Iterable[Any], limit: int | None) -> list[Any]:
    out: list[Any] = []
    for item in items:
        if limit is not None and len(out) >= limit:
            break
        out.append(item)
    return out


class Progress:
    """A one-line status on stderr while waiting: redrawn on a terminal, one line per change otherwise."""

    def __init__(self, run_id: str) -> None:
        self.run_id, self.started, self.last = run_id, time.monotonic(), ""
        self.tty = sys.stderr.isatty()

    def __call__(self, run: models.Run) -> None:
        status, elapsed = run["status"], time.monotonic() - self.started
        if self.tty:
            sys.stderr.write(f"\r{self.run_id}  {status:<10} {elapsed:5.1f}s")
            if status in {"Completed", "Failed", "Cancelled"}:
                sys.stderr.write("\n")
        elif status != self.last:
            sys.stderr.write(f"{self.run_id}  {status}  {elapsed:.1f}s\n")
        self.last = status
        sys.stderr.flush()


def _wait(client: Client, run: models.Run, args: argparse.Namespace) -> models.Run:
    progress = None if args.quiet else Progress(run["runId"])
    return client.wait_for_run(run["runId"], timeout=args.timeout, interval=args.interval, on_poll=progress)


# ``subscriptions create --sqs ARN`` and the like: each AWS destination type by its ARN (``--endpoint`` is a webhook).
DESTINATION_OPTIONS: dict[str, Callable[[str], models.Destination]] = {
    "sqs": destinations.sqs,
    "sns": destinations.sns,
    "eventbridge": destinations.eventbridge,
    "kinesis": destinations.kinesis,
}


def _subscription_request(args: argparse.Namespace) -> models.CreateSubscriptionRequest:
    request: models.CreateSubscriptionRequest = {"eventTypes": args.event_type}
    if args.endpoint:
        request["endpointUrl"] = args.endpoint  # a webhook, as every platform version reads it
    for name, make in DESTINATION_OPTIONS.items():
        if getattr(args, name):
            request["destination"] = make(getattr(args, name))
    if args.description:
        request["description"] = args.description
    return request


def _connection_request(args: argparse.Namespace) -> models.CreateConnectionRequest:
    request: models.CreateConnectionRequest = {"providerId": args.provider, "displayName": args.name}
    if args.credentials is not None:
        request["credentials"] = args.credentials
    if args.configuration is not None:
        request["configuration"] = args.configuration
    if args.project:
        request["projectId"] = args.project
    return request


def _build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--url", default=argparse.SUPPRESS, help="platform URL (env IPCTL_URL, else 127.0.0.1:$PORT)")
    common.add_argument("--token", default=argparse.SUPPRESS, help="bearer token (env IPCTL_TOKEN)")
    common.add_argument("--api-key", default=argparse.SUPPRESS, help="API key (env IPCTL_API_KEY)")
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print the API's JSON")
    parser = argparse.ArgumentParser(prog="ipctl", description="Integration Platform CLI", parents=[common])
    groups = parser.add_subparsers(dest="group", required=True, metavar="<resource>")

    def group(name: str, help_text: str) -> Any:
        return groups.add_parser(name, help=help_text).add_subparsers(dest="action", required=True, metavar="<action>")

    def command(actions: Any, name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = actions.add_parser(name, help=help_text, parents=[common])
        sub.set_defaults(handler=handler)
        return sub

    def listing(actions: Any, handler: Handler, what: str) -> argparse.ArgumentParser:
        sub = command(actions, "list", handler, f"list {what} (every page)")
        sub.add_argument("--limit", type=int, help="stop after this many items")
        sub.add_argument("--page-size", type=int, help="items per request (1-100)")
        return sub

    def waiting(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--timeout", type=float, default=300.0, help="seconds to wait (default 300)")
        sub.add_argument("--interval", type=float, default=1.0, help="seconds between polls (default 1)")
        sub.add_argument("--quiet", action="store_true", help="no progress on stderr")

    actions = group("connections", "connections to vendors")
    sub = listing(
        actions,
        lambda c, a: c.iter_connections(page_size=a.page_size, status=a.status, provider_id=a.provider),
        "connections",
    )
    sub.add_argument("--status")
    sub.add_argument("--provider")
    command(actions, "get", lambda c, a: c.get_connection(a.id), "show a connection").add_argument("id")
    sub = command(
        actions,
        "create",
        lambda c, a: c.create_connection(_connection_request(a), idempotency_key=a.idempotency_key),
        "connect a provider",
    )
    sub.add_argument("--provider", required=True)
    sub.add_argument("--name", required=True)
    sub.add_argument("--credentials", type=_json_arg, help='JSON, e.g. \'{"token": "..."}\'')
    sub.add_argument("--configuration", type=_json_arg, help='JSON, e.g. \'{"baseUrl": "..."}\'')
    sub.add_argument("--project")
    sub.add_argument("--idempotency-key")
    command(actions, "delete", lambda c, a: c.delete_connection(a.id), "delete a connection").add_argument("id")
    command(actions, "activate", lambda c, a: c.activate_connection(a.id), "activate").add_argument("id")
    command(actions, "deactivate", lambda c, a: c.deactivate_connection(a.id), "deactivate").add_argument("id")
    command(actions, "test", lambda c, a: c.test_connection(a.id), "test the credentials").add_argument("id")
    command(actions, "health", lambda c, a: c.check_health(a.id), "check health now").add_argument("id")
    sub = command(actions, "operations", lambda c, a: c.list_operations(a.id)["items"], "operations it can run")
    sub.add_argument("id")

    actions = group("providers", "built-in and registered providers")
    listing(actions, lambda c, a: c.iter_providers(page_size=a.page_size), "providers")
    command(actions, "get", lambda c, a: c.get_provider(a.id), "show a provider").add_argument("id")

    actions = group("subscriptions", "outbound subscriptions: webhooks, SQS, SNS, EventBridge, Kinesis")
    listing(actions, lambda c, a: c.iter_subscriptions(page_size=a.page_size), "subscriptions")
    command(actions, "get", lambda c, a: c.get_subscription(a.id), "show a subscription").add_argument("id")
    sub = command(
        actions,
        "create",
        lambda c, a: c.create_subscription(_subscription_request(a), idempotency_key=a.idempotency_key),
        "subscribe a webhook endpoint, queue, topic, bus or stream",
    )
    where = sub.add_mutually_exclusive_group(required=True)
    where.add_argument("--endpoint", metavar="URL", help="a webhook: the endpoint URL")
    for name in DESTINATION_OPTIONS:
        where.add_argument(f"--{name}", metavar="ARN", help=f"an {name} destination: its ARN")
    sub.add_argument("--event-type", action="append", required=True, help="repeat for several")
    sub.add_argument("--description")
    sub.add_argument("--idempotency-key")
    command(actions, "delete", lambda c, a: c.delete_subscription(a.id), "delete").add_argument("id")
    command(actions, "rotate-secret", lambda c, a: c.rotate_secret(a.id), "new signing secret").add_argument("id")
    sub = command(actions, "recover", lambda c, a: c.recover_subscription(a.id, a.since), "resend failed events")
    sub.add_argument("id")
    sub.add_argument("--since", required=True, help="RFC 3339 UTC time")

    actions = group("attempts", "delivery attempts of a subscription")
    sub = listing(actions, lambda c, a: c.iter_attempts(a.subscription, page_size=a.page_size), "attempts")
    sub.add_argument("subscription")

    actions = group("runs", "operation runs")
    sub = listing(
        actions, lambda c, a: c.iter_runs(page_size=a.page_size, connection_id=a.connection, status=a.status), "runs"
    )
    sub.add_argument("--connection")
    sub.add_argument("--status")
    command(actions, "get", lambda c, a: c.get_run(a.id), "show a run").add_argument("id")
    command(actions, "cancel", lambda c, a: c.cancel_run(a.id), "cancel a pending run").add_argument("id")
    sub = command(actions, "start", _start_run, "start an operation on a connection")
    sub.add_argument("connection")
    sub.add_argument("operation")
    sub.add_argument("--params", type=_json_arg, default={}, help="JSON object of parameters")
    sub.add_argument("--idempotency-key")
    sub.add_argument("--wait", action="store_true", help="wait for the run to end (progress on stderr)")
    waiting(sub)
    sub = command(actions, "wait", lambda c, a: _wait(c, c.get_run(a.id), a), "wait for a run to end")
    sub.add_argument("id")
    waiting(sub)

    actions = group("deliveries", "inbound vendor deliveries")
    sub = listing(actions, lambda c, a: c.iter_deliveries(a.connection, page_size=a.page_size), "deliveries")
    sub.add_argument("--connection", required=True)
    command(actions, "get", lambda c, a: c.get_delivery(a.id), "show a delivery").add_argument("id")
    command(actions, "redrive", lambda c, a: c.redrive_delivery(a.id), "process a delivery again").add_argument("id")

    actions = group("events", "platform events")
    command(actions, "get", lambda c, a: c.get_event(a.id), "show an event and its deliveries").add_argument("id")
    command(actions, "redeliver", lambda c, a: c.redeliver_event(a.id), "send an event again").add_argument("id")
    sub = command(
        actions, "publish", lambda c, a: c.publish_event({"type": a.type, "data": a.data}), "publish an event"
    )
    sub.add_argument("--type", required=True)
    sub.add_argument("--data", type=_json_arg, default={})
    command(actions, "bus", lambda c, a: c.get_event_bus(), "the platform's EventBridge bus, for --eventbridge")

    sub = groups.add_parser("listen", help="forward live events to a local URL, signed", parents=[common])
    sub.set_defaults(handler=_listen, action="listen")
    target = sub.add_mutually_exclusive_group(required=True)
    target.add_argument("--forward-to", metavar="URL", help="POST each event here as a signed webhook")
    target.add_argument("--print-json", action="store_true", help="print each event as JSON instead")
    sub.add_argument("--events", type=lambda text: [t for t in text.split(",") if t], default=[], help="T1,T2")
    sub.add_argument("--connection", metavar="ID", help="only events of this connection")
    sub.add_argument("--secret", help="sign with this whsec_ secret (default: a new one per session)")
    sub.add_argument("--ws-url", help="the live WebSocket URL (default: IPCTL_URL's /ws)")
    sub.add_argument("--state", type=Path, help="where the listener remembers what it forwarded")

    actions = group("api-keys", "API keys of the tenant")
    listing(actions, lambda c, a: c.iter_api_keys(page_size=a.page_size), "API keys")
    sub = command(actions, "create", lambda c, a: c.create_api_key({"name": a.name, "scopes": a.scope}), "create a key")
    sub.add_argument("--name", required=True)
    sub.add_argument("--scope", action="append", required=True, help="repeat for several")
    command(actions, "revoke", lambda c, a: c.revoke_api_key(a.id), "revoke a key").add_argument("id")
    return parser


def _listen(client: Client, args: argparse.Namespace) -> None:
    from integration_platform.listen import AuthRefused, Listener, State, default_state_path, ws_url_for
    from integration_platform.webhooks import PREFIX, new_secret

    if args.secret is not None and not args.secret.startswith(PREFIX):
        raise SystemExit(f"ipctl: error: --secret must start with {PREFIX}")
    secret = args.secret or new_secret()
    ws_url = args.ws_url or ws_url_for(client.transport.base_url)
    forward_to = None if args.print_json else args.forward_to
    scope = (ws_url, forward_to or "print", ",".join(args.events), args.connection or "")
    state_path = args.state or default_state_path(*scope)
    if forward_to:
        print(f"Signing secret: {secret}", flush=True)
    listener = Listener(client, ws_url, State.load(state_path), forward_to, secret, args.events, args.connection)
    try:
        listener.run()
    except AuthRefused as refused:
        raise PermissionDeniedError(403, "LIVE_SOCKET_REFUSED", str(refused)) from refused
    except KeyboardInterrupt:
        return


def _start_run(client: Client, args: argparse.Namespace) -> models.Run:
    if not isinstance(args.params, dict):
        raise SystemExit("ipctl: error: --params must be a JSON object")
    run = client.execute_operation(args.connection, args.operation, args.params, idempotency_key=args.idempotency_key)
    return _wait(client, run, args) if args.wait else run


def _print(result: Any, args: argparse.Namespace) -> None:
    if result is None:
        return
    if args.json:
        print(json.dumps(result, indent=2))
    elif isinstance(result, list):
        columns = COLUMNS.get(args.group) or sorted({key for row in result for key in row})
        print(render_table(result, columns))
    elif isinstance(result, dict):
        print(render_record(result))
    else:
        print(result)


def _emit(result: Any, args: argparse.Namespace) -> bool:
    """Print ``result``; False, quietly, when the reader has gone (``| head -1``), as ``cat`` does."""
    try:
        _print(result, args)
        sys.stdout.flush()
    except BrokenPipeError:
        # Python flushes stdout once more at exit: pointed at /dev/null, that flush cannot fail a second time.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return False
    return True


def exit_code(error: Exception) -> int:
    if isinstance(error, AuthenticationError | PermissionDeniedError):
        return EXIT_AUTH
    if isinstance(error, NotFoundError):
        return EXIT_NOT_FOUND
    if isinstance(error, ServerError | TransportError | WaitTimeoutError):
        return EXIT_UNAVAILABLE
    return EXIT_CLIENT_ERROR


def main(argv: Sequence[str] | None = None) -> int:
    args = _build_parser().parse_args(argv)
    args.json = getattr(args, "json", False)
    client = Client.from_env(
        url=getattr(args, "url", None), token=getattr(args, "token", None), api_key=getattr(args, "api_key", None)
    )
    try:
        result = args.handler(client, args)
        if args.action == "list":
            result = _limited(result, args.limit)
        if not _emit(result, args):
            return EXIT_BROKEN_PIPE
    except ApiError as error:
        print(f"ipctl: {error}", file=sys.stderr)
        return exit_code(error)
    except (TransportError, WaitTimeoutError) as error:
        print(f"ipctl: {error}", file=sys.stderr)
        return exit_code(error)
    if (
        isinstance(result, dict)
        and result.get("runId")
        and args.action in {"start", "wait"}
        and getattr(args, "wait", True)
    ):
        return EXIT_RUN_FAILED if result.get("status") in {"Failed", "Cancelled"} else EXIT_OK
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
