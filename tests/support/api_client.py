"""An HTTP-shaped client over the local gateway, with the tenant's token attached."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from infra.local.gateway import GatewayResponse, LocalApi


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    def header(self, name: str) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None


class ApiClient:
    def __init__(self, api: LocalApi, token: str | None = None) -> None:
        self._api = api
        self.token = token

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        token: str | None = None,
    ) -> Reply:
        all_headers = {"Content-Type": "application/json"} if json_body is not None else {}
        bearer = token if token is not None else self.token
        if bearer:
            all_headers["Authorization"] = f"Bearer {bearer}"
        all_headers.update(headers or {})
        payload = json.dumps(json_body).encode() if json_body is not None else (body or b"")
        raw: GatewayResponse = self._api.handle(method, path, all_headers, payload)
        return Reply(raw.status, raw.headers, raw.body)

    def get(self, path: str, **kwargs: Any) -> Reply:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, json_body: Any = None, **kwargs: Any) -> Reply:
        return self.request("POST", path, json_body=json_body, **kwargs)
