"""The development token issuer used by the local runtime and the tests.

It holds one RSA key pair on disk, publishes the public half as a JWKS and
signs tokens exactly as a real issuer would, so the API validates them through
the same code path as Cognito or Auth0 tokens. It never ships to a deployed
stage: the prod stage points ``JWKS_URL`` at the real issuer.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from chalicelib.auth.principal import ALL_SCOPES

DEV_ISSUER = "https://dev-issuer.integration-platform.local"
DEV_AUDIENCE = "integration-platform"
KEY_ID = "dev-issuer-1"


def create_once(path: Path, content: bytes) -> bool:
    """Write ``path`` whole, unless it exists; False if another process got there first.

    The content goes to a private temporary file beside it, then ``os.link`` publishes it under the
    final name, which fails if the name exists (O_EXCL semantics): a reader never sees half a key and a
    second writer never replaces the first one's key.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.link(temporary, path)
    except FileExistsError:
        return False
    finally:
        temporary.unlink(missing_ok=True)
    return True


class DevIssuer:
    def __init__(self, key_path: Path) -> None:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        if not key_path.exists():
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            pem = key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            create_once(key_path, pem)
        # Whoever created it, the file on disk is the key: two first starts end with the same one.
        self._key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)

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
