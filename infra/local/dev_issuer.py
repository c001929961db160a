"""The development token issuer used by the local runtime and the tests.

It holds one RSA key pair on disk, publishes the public half as a JWKS and
signs tokens exactly as a real issuer would, so the API validates them through
the same code path as Cognito or Auth0 tokens. It never ships to a deployed
stage: the prod stage points ``JWKS_URL`` at the real issuer.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from chalicelib.auth.principal import ALL_SCOPES

DEV_ISSUER = "https://dev-issuer.integration-platform.local"
DEV_AUDIENCE = "integration-platform"
KEY_ID = "dev-issuer-1"


class DevIssuer:
    def __init__(self, key_path: Path) -> None:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        if key_path.exists():
            key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        else:
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            key_path.parent.mkdir(parents=True, exist_ok=True)
            key_path.write_bytes(
                key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
            key_path.chmod(0o600)
        self._key = key

    def jwks(self) -> dict[str, Any]:
        from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
        from jwt.algorithms import RSAAlgorithm

        public_key = self._key.public_key()
        assert isinstance(public_key, RSAPublicKey)
        jwk = json.loads(RSAAlgorithm.to_jwk(public_key))
        jwk.update({"kid": KEY_ID, "use": "sig", "alg": "RS256"})
        return {"keys": [jwk]}

    def token(
        self,
        tenant_id: str,
        scopes: list[str] | None = None,
        *,
        subject: str = "dev-user",
        ttl_seconds: int = 3600,
        issuer: str = DEV_ISSUER,
        audience: str = DEV_AUDIENCE,
        extra_claims: dict[str, Any] | None = None,
    ) -> str:
        import jwt

        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": issuer,
            "aud": audience,
            "sub": subject,
            "iat": now,
            "exp": now + ttl_seconds,
            "tenant_id": tenant_id,
            "scope": " ".join(ALL_SCOPES if scopes is None else scopes),
        }
        claims.update(extra_claims or {})
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": KEY_ID})  # type: ignore[arg-type]
