"""The Chalice app: blueprints and event sources, nothing else."""

from __future__ import annotations

from typing import Any

from chalice.app import Chalice, CloudWatchEvent, DynamoDBEvent, Rate, SQSEvent, WebsocketEvent

from chalicelib.core.config import get_settings
from chalicelib.core.handler import serves_api

app = Chalice(app_name="integration-platform")
app.experimental_feature_flags.update(["WEBSOCKETS"])  # the live WebSocket API (docs/live.md)
# Queue, stream and schedule functions import only their own handler's modules (chalicelib/core/handler.py).
if serves_api():
    from chalicelib.api.blueprints import register

    register(app)


@app.on_sqs_message(queue=get_settings().queue_name("outbound-dispatch"), batch_size=10)
def outbound_dispatch(event: SQSEvent) -> dict[str, Any]:
    from chalicelib.outbound.dispatcher import handle

    return handle(event.to_dict())


@app.on_sqs_message(queue=get_settings().queue_name("outbound-ordered.fifo"), batch_size=10)
def outbound_ordered(event: SQSEvent) -> dict[str, Any]:
    from chalicelib.outbound.ordered import handle

    return handle(event.to_dict())


# The stream ARN is known only once the table exists: the merge template puts the real one in.
@app.on_dynamodb_record(stream_arn=get_settings().events_stream_arn, batch_size=100, starting_position="TRIM_HORIZON")
def events_stream(event: DynamoDBEvent) -> dict[str, Any]:
    from chalicelib.outbound.stream import handle

    return handle(event.to_dict())


# The events stream mapping's failure destination: a batch that failed past its retries (infra/template.json).
@app.on_sqs_message(queue=get_settings().queue_name("events-stream-failures"), batch_size=10)
def events_stream_failures(event: SQSEvent) -> dict[str, Any]:
    from chalicelib.outbound.stream_failures import handle

    return handle(event.to_dict())


@app.on_sqs_message(queue=get_settings().queue_name("bus-events"), batch_size=10)
def bus_events(event: SQSEvent) -> dict[str, Any]:
    from chalicelib.events.receiver import handle

    return handle(event.to_dict())


@app.on_sqs_message(queue=get_settings().queue_name("runs"), batch_size=5)
def run_operations(event: SQSEvent) -> dict[str, Any]:
    from chalicelib.runs.worker import handle_runs

    return handle_runs(event.to_dict(), event.context)


@app.on_sqs_message(queue=get_settings().dead_letter_queue_name("runs"), batch_size=10)
def run_dead_letters(event: SQSEvent) -> dict[str, Any]:
    from chalicelib.runs.worker import handle_dead_letters

    return handle_dead_letters(event.to_dict(), event.context)


# The rate is per stage (.chalice/config.json) and part of the packaged template, so it is read at import.
@app.schedule(Rate(get_settings().health_check_rate_minutes, unit=Rate.MINUTES))
def health_sweep(event: CloudWatchEvent) -> None:
    from chalicelib.health.sweep import start

    start()


@app.on_sqs_message(queue=get_settings().queue_name("health-checks"), batch_size=10)
def health_checks(event: SQSEvent) -> dict[str, Any]:
    from chalicelib.health.sweep import handle

    return handle(event.to_dict(), event.context)


@app.lambda_function(name="credential_rotation")
def credential_rotation(event: dict[str, Any], context: Any) -> None:
    """Secrets Manager's rotation function: ``{"SecretId", "ClientRequestToken", "Step"}``."""
    from chalicelib.rotation.steps import handle

    handle(event)


@app.on_sqs_message(queue=get_settings().dead_letter_queue_name("bus-events"), batch_size=10)
def bus_event_dead_letters(event: SQSEvent) -> dict[str, Any]:
    from chalicelib.events.receiver import handle_dead_letters

    return handle_dead_letters(event.to_dict())


@app.on_sqs_message(queue=get_settings().dead_letter_queue_name("health-checks"), batch_size=10)
def health_check_dead_letters(event: SQSEvent) -> dict[str, Any]:
    from chalicelib.health.dead_letters import handle_dead_letters

    return handle_dead_letters(event.to_dict(), event.context)


# Re-queues, re-sends or fails what stayed in flight past its deadline (docs/adapters.md "Sweeper").
@app.schedule(Rate(get_settings().inflight_sweep_rate_minutes, unit=Rate.MINUTES))
def inflight_sweep(event: CloudWatchEvent) -> None:
    from chalicelib.sweeper.sweep import run

    run()


# The live WebSocket API (docs/live.md): three functions, each importing only chalicelib.live.
@app.on_ws_connect()
def live_connect(event: WebsocketEvent) -> dict[str, Any]:
    from chalicelib.live.sockets import on_connect

    return on_connect(event.to_dict())


@app.on_ws_message()
def live_message(event: WebsocketEvent) -> dict[str, Any]:
    from chalicelib.live.sockets import on_message

    return on_message(event.to_dict())


@app.on_ws_disconnect()
def live_disconnect(event: WebsocketEvent) -> dict[str, Any]:
    from chalicelib.live.sockets import on_disconnect

    return on_disconnect(event.to_dict())
