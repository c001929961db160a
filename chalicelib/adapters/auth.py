"""Putting a connection's credential on a vendor request, for each auth mode.

The credential is the secret's JSON as the connection stored it (camelCase keys:
``token``, ``apiKey``, ``username``/``password``, ``clientId``/``clientSecret``/
``tokenUrl``/``scope``). Where an API key goes is connection configuration
(``apiKeyHeader``, default ``X-API-Key``, or ``apiKeyQueryParam``), because it is
a property of the vendor's API, not a secret.

OAuth2 client-credentials access tokens are cached per process until shortly
before they expire; a vendor 401 drops the cached token and fetches a new one once.
"""

from __future__ import annotations

import base64
import hashlib
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from chalicelib.adapters.errors import ConfigurationError, VendorBadResponse, VendorUnauthorized
from chalicelib.adapters.http import VendorRequest, raise_for_status, send
from chalicelib.providers.models import AuthModel

DEFAULT_API_KEY_HEADER = "X-API-Key"
EXPIRY_SKEW_SECONDS = 30.0
DEFAULT_TOKEN_SECONDS = 300.0


@dataclass(frozen=True)
class Credential:
    auth_mode: AuthModel
    values: dict[str, Any]

    def field(self, name: str) -> str:
        value = self.values.get(name)
        if not isinstance(value, str) or not value:
            raise ConfigurationError(f"The {self.auth_mode} credential has no '{name}'.")
        return value

    def secrets(self) -> list[str]:
        """Every value that must never appear in a stored message."""
        keys = ("token", "apiKey", "password", "clientSecret")
        found = [str(self.values[k]) for k in keys if self.values.get(k)]
        if self.auth_mode is AuthModel.BASIC and "username" in self.values:
            found.append(_basic(str(self.values.get("username", "")), str(self.values.get("password", ""))))
        return found


def _basic(username: str, password: str) -> str:
    return base64.b64encode(f"{username}:{password}".encode()).decode()


@dataclass
class _Token:
    value: str
    expires_at: float


_tokens: dict[str, _Token] = {}
_tokens_lock = threading.Lock()


@dataclass
class Authenticator:
    """Applies one credential; holds the OAuth2 token it used so ``refresh`` can drop exactly that one."""

    credential: Credential
    configuration: dict[str, Any]
    timeout: float
    _issued: list[str] = field(default_factory=list)

    @property
    def refreshable(self) -> bool:
        return self.credential.auth_mode is AuthModel.OAUTH2_CLIENT_CREDENTIALS

    def apply(self, request: VendorRequest) -> VendorRequest:
        mode = self.credential.auth_mode
        if mode is AuthModel.BEARER_TOKEN:
            return request.with_headers({"Authorization": f"Bearer {self.credential.field('token')}"})
        if mode is AuthModel.BASIC:
            token = _basic(self.credential.field("username"), self.credential.field("password"))
            return request.with_headers({"Authorization": f"Basic {token}"})
        if mode is AuthModel.API_KEY:
            key = self.credential.field("apiKey")
            query_param = self.configuration.get("apiKeyQueryParam")
            if isinstance(query_param, str) and query_param:
                return request.with_query({query_param: key})
            header = self.configuration.get("apiKeyHeader")
            return request.with_headers({header if isinstance(header, str) and header else DEFAULT_API_KEY_HEADER: key})
        return request.with_headers({"Authorization": f"Bearer {self._access_token()}"})

    def refresh(self) -> None:
        """Forget the access token the vendor just refused, so the next ``apply`` fetches a new one."""
        with _tokens_lock:
            cached = _tokens.get(self._cache_key())
            if cached is not None and cached.value in self._issued:
                del _tokens[self._cache_key()]

    def secrets(self) -> list[str]:
        return [*self.credential.secrets(), *self._issued]

    def _token_url(self) -> str:
        url = self.credential.values.get("tokenUrl") or self.configuration.get("tokenUrl")
        if not isinstance(url, str) or not url:
            raise ConfigurationError("OAuth2 client credentials need a tokenUrl (credential or configuration).")
        return url

    def _cache_key(self) -> str:
        values = self.credential.values
        material = "\0".join(
            str(part)
            for part in (self._token_url(), values.get("clientId"), values.get("clientSecret"), values.get("scope"))
        )
        return hashlib.sha256(material.encode()).hexdigest()

    def _access_token(self) -> str:
        key = self._cache_key()
        with _tokens_lock:
            cached = _tokens.get(key)
        if cached is not None and cached.expires_at > time.monotonic():
            self._issued.append(cached.value)
            return cached.value
        token = self._fetch_token()
        with _tokens_lock:
            _tokens[key] = token
        self._issued.append(token.value)
        return token.value

    def _fetch_token(self) -> _Token:
        form = {"grant_type": "client_credentials"}
        scope = self.credential.values.get("scope")
        if isinstance(scope, str) and scope:
            form["scope"] = scope
        client = _basic(self.credential.field("clientId"), self.credential.field("clientSecret"))
        request = VendorRequest("POST", "", headers={"Authorization": f"Basic {client}"}, form=form)
        response = send(self._token_url(), request, self.timeout)
        if response.status in (400, 401):
            raise VendorUnauthorized("The token endpoint refused the client credentials.", response.status)
        raise_for_status(response, self.credential.secrets())
        document = response.json()
        if not isinstance(document, dict) or not isinstance(document.get("access_token"), str):
            raise VendorBadResponse("The token endpoint's answer has no access_token.")
        lifetime = document.get("expires_in")
        seconds = float(lifetime) if isinstance(lifetime, int | float) else DEFAULT_TOKEN_SECONDS
        return _Token(document["access_token"], time.monotonic() + max(0.0, seconds - EXPIRY_SKEW_SECONDS))
