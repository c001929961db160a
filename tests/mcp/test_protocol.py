"""``POST /mcp`` parses its body with the guarded reader: nesting that crashed ``json.loads`` is a JSON-RPC error."""

from __future__ import annotations

from chalicelib.mcp import protocol
from tests.support.api_client import ApiClient

DEEP = b"[" * 1000 + b"]" * 1000


def test_a_deeply_nested_body_is_a_parse_error_not_a_500(client: ApiClient) -> None:
    """Issue 21: it answered 500 (RecursionError at protocol.handle's json.loads)."""
    for body in (DEEP, b'{"jsonrpc": "2.0", "id": 1, "method": "ping", "params": ' + DEEP + b"}"):
        reply = client.request("POST", "/mcp", body=body, headers={"Content-Type": "application/json"})
        assert reply.status == 400, reply.body
        assert reply.json["error"]["code"] == protocol.PARSE_ERROR
        assert "nested too deeply" in reply.json["error"]["message"]
    ping = client.request(
        "POST",
        "/mcp",
        body=b'{"jsonrpc": "2.0", "id": 1, "method": "ping"}',
        headers={"Content-Type": "application/json"},
    )
    assert (ping.status, ping.json["result"]) == (200, {})


def test_the_protocol_refuses_what_is_not_json() -> None:
    answer = protocol.handle(b"{not json", None, {})
    assert answer.status == 400 and answer.body is not None
    assert answer.body["error"]["message"] == "The body is not JSON."
