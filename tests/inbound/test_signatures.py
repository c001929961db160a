"""Each scheme's accept and reject paths, signed the way the vendors sign, against the verifiers directly."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable, Iterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from standardwebhooks import Webhook

from chalicelib.inbound.signatures import SignatureRejected, SignedRequest, verify
from chalicelib.inbound.signatures.base import TOLERANCE_SECONDS
from chalicelib.providers.catalog import BUILTIN_PROVIDERS
from chalicelib.providers.models import WebhookSignature
from tests.inbound import signers
from tests.support.jwks_server import serve_jwks

BODY = b'{"id":"evt_1","type":"payment_intent.succeeded","data":{"object":{"amount":2000}}}'
SECRET = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
OTHER = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def settings(provider_key: str) -> WebhookSignature:
    return BUILTIN_PROVIDERS[f"prov-{provider_key}"].webhook_signature


def check(scheme: WebhookSignature, headers: dict[str, str], body: bytes = BODY, keys: list[str] | None = None) -> Any:
    return verify(SignedRequest(headers, body, time.time()), scheme, keys if keys is not None else [SECRET])


def rejected(
    scheme: WebhookSignature, headers: dict[str, str], body: bytes = BODY, keys: list[str] | None = None
) -> str:
    with pytest.raises(SignatureRejected) as caught:
        check(scheme, headers, body, keys)
    return caught.value.reason


Signer = Callable[[str, bytes], dict[str, str]]
SIMPLE: dict[str, Signer] = {
    "github": signers.github,
    "stripe": signers.stripe,
    "slack": signers.slack,
    "shopify": signers.shopify,
    "standard-webhooks": lambda key, body: signers.standard_webhooks(key, body, "msg_2K9"),
}


@pytest.mark.parametrize("provider", sorted(SIMPLE))
def test_vendor_signature_accepted(provider: str) -> None:
    assert check(settings(provider), SIMPLE[provider](SECRET, BODY)) is None


@pytest.mark.parametrize("provider", sorted(SIMPLE))
def test_wrong_secret_tampered_body_and_missing_header_rejected(provider: str) -> None:
    assert rejected(settings(provider), SIMPLE[provider](OTHER, BODY)) == "signature does not match"
    assert rejected(settings(provider), SIMPLE[provider](SECRET, BODY), body=BODY + b" ")
    assert rejected(settings(provider), {}).startswith("missing")
    assert (
        rejected(settings(provider), SIMPLE[provider](SECRET, BODY), keys=[]) == "the connection has no webhook secret"
    )


@pytest.mark.parametrize("provider", sorted(SIMPLE))
def test_either_secret_verifies_during_an_overlap(provider: str) -> None:
    """During a secret change the verifier gets [new, old]; a sender still on the old one passes."""
    assert check(settings(provider), SIMPLE[provider](OTHER, BODY), keys=[SECRET, OTHER]) is None
    assert check(settings(provider), SIMPLE[provider](SECRET, BODY), keys=[SECRET, OTHER]) is None


def test_raw_body_is_verified_as_received_not_reserialized() -> None:
    """Odd whitespace, key order, escapes and non-ASCII all survive: re-serializing would break them."""
    body = '{ "zeta" :1,\n\t"alpha":"caf\u00e9 \\u00e9 \U0001f600",  "n": 1.50 }\r\n'.encode()
    assert json.dumps(json.loads(body)).encode() != body
    for provider, signer in SIMPLE.items():
        assert check(settings(provider), signer(SECRET, body), body=body) is None


@pytest.mark.parametrize("skew", [TOLERANCE_SECONDS + 5, -(TOLERANCE_SECONDS + 5)])
def test_timestamps_outside_tolerance_rejected(skew: int) -> None:
    stamp = int(time.time()) - skew
    assert "tolerance" in rejected(settings("stripe"), signers.stripe(SECRET, BODY, timestamp=stamp))
    assert "tolerance" in rejected(settings("slack"), signers.slack(SECRET, BODY, timestamp=stamp))
    standard = signers.standard_webhooks(SECRET, BODY, "msg_1", timestamp=stamp)
    assert "tolerance" in rejected(settings("standard-webhooks"), standard)


def test_timestamps_inside_tolerance_accepted() -> None:
    stamp = int(time.time()) - TOLERANCE_SECONDS + 30
    assert check(settings("stripe"), signers.stripe(SECRET, BODY, timestamp=stamp)) is None
    assert check(settings("slack"), signers.slack(SECRET, BODY, timestamp=stamp)) is None
    assert check(settings("standard-webhooks"), signers.standard_webhooks(SECRET, BODY, "m", timestamp=stamp)) is None


def test_stripe_timestamp_is_part_of_what_is_signed() -> None:
    headers = signers.stripe(SECRET, BODY)
    moved = headers["Stripe-Signature"].replace("t=", "t=1", 1)
    assert rejected(settings("stripe"), {"Stripe-Signature": moved}) == "signature does not match"


def test_multiple_signatures_any_one_valid_is_enough() -> None:
    """Stripe sends several v1= (and a v0=) while rolling; Standard Webhooks space-separates several v1,."""
    stripe_headers = signers.stripe(SECRET, BODY, extra_secrets=(OTHER,))
    assert stripe_headers["Stripe-Signature"].count("v1=") == 2
    assert check(settings("stripe"), stripe_headers) is None
    assert check(settings("stripe"), stripe_headers, keys=[OTHER]) is None
    standard = signers.standard_webhooks(SECRET, BODY, "msg_x", extra_secrets=(OTHER,))
    assert len(standard["webhook-signature"].split()) == 2
    assert check(settings("standard-webhooks"), standard, keys=[OTHER]) is None
    only_v0 = {"Stripe-Signature": f"t={int(time.time())},v0=" + "a" * 64}
    assert rejected(settings("stripe"), only_v0) == "Stripe-Signature lacks t= or v1="


def test_standard_webhooks_interop_with_the_reference_library() -> None:
    """Our verifier accepts what the library signs, and the library accepts what we would accept."""
    headers = signers.standard_webhooks(SECRET, BODY, "msg_interop")
    assert check(settings("standard-webhooks"), headers) is None
    assert Webhook(SECRET).verify(BODY.decode(), headers) == json.loads(BODY)
    svix = {k.replace("webhook-", "svix-"): v for k, v in headers.items()}
    assert check(settings("standard-webhooks"), svix) is None
    assert rejected(settings("standard-webhooks"), {**headers, "webhook-id": "msg_other"}) == "signature does not match"


def test_slack_rejects_other_versions() -> None:
    headers = signers.slack(SECRET, BODY)
    headers["X-Slack-Signature"] = headers["X-Slack-Signature"].replace("v0=", "v1=")
    assert rejected(settings("slack"), headers) == "X-Slack-Signature is not v0=<hex>"


@pytest.mark.parametrize(
    ("algorithm", "encoding", "prefix"),
    [("sha1", "hex", "sha1="), ("sha256", "base64", None), ("sha512", "hex", None), ("sha256", "hex", "sha256=")],
)
def test_generic_hmac_follows_the_provider_settings(algorithm: str, encoding: str, prefix: str | None) -> None:
    scheme = WebhookSignature.model_validate(
        {"scheme": "hmac", "header": "X-Acme-Signature", "algorithm": algorithm, "encoding": encoding, "prefix": prefix}
    )
    digest = hmac.new(SECRET.encode(), BODY, getattr(hashlib, algorithm)).digest()
    value = digest.hex() if encoding == "hex" else base64.b64encode(digest).decode()
    assert check(scheme, {"X-Acme-Signature": (prefix or "") + value}) is None
    assert (
        rejected(scheme, {"X-Acme-Signature": (prefix or "") + value}, body=BODY + b"\n") == "signature does not match"
    )
    if prefix:
        assert "does not start with" in rejected(scheme, {"X-Acme-Signature": value})


def test_jws_hs256_body_token_and_header_token() -> None:
    claims = {"type": "order.created", "id": "ord_1", "iat": int(time.time())}
    token = jwt.encode(claims, SECRET, algorithm="HS256")
    body_mode = WebhookSignature(scheme="jws", algorithm="HS256")
    assert check(body_mode, {}, body=token.encode()) == claims
    assert (
        rejected(body_mode, {}, body=jwt.encode(claims, OTHER, algorithm="HS256").encode())
        == "signature does not match"
    )
    stale = jwt.encode({**claims, "iat": int(time.time()) - 3600}, SECRET, algorithm="HS256")
    assert "tolerance" in rejected(body_mode, {}, body=stale.encode())
    none_alg = jwt.encode(claims, "", algorithm="none")
    assert rejected(body_mode, {}, body=none_alg.encode()).startswith("token rejected")

    header_mode = WebhookSignature(scheme="jws", algorithm="HS256", header="X-Signature-Jwt")
    bound = jwt.encode({"iat": int(time.time()), "request_body_sha256": hashlib.sha256(BODY).hexdigest()}, SECRET)
    assert check(header_mode, {"X-Signature-Jwt": bound}) is None
    assert (
        rejected(header_mode, {"X-Signature-Jwt": bound}, body=BODY + b" ")
        == "request_body_sha256 does not match the body"
    )


@pytest.fixture(scope="module")
def signing_keys() -> Iterator[tuple[str, dict[str, Any]]]:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    rsa_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key.public_key()))
    ec_jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(ec_key.public_key()))
    rsa_jwk.update(kid="rsa-1", alg="RS256", use="sig")
    ec_jwk.update(kid="ec-1", alg="ES256", use="sig")
    with serve_jwks({"keys": [rsa_jwk, ec_jwk]}) as url:
        yield url, {"RS256": (rsa_key, "rsa-1"), "ES256": (ec_key, "ec-1")}


@pytest.mark.parametrize("algorithm", ["RS256", "ES256"])
def test_jws_against_the_provider_jwks(signing_keys: tuple[str, dict[str, Any]], algorithm: str) -> None:
    url, keys = signing_keys
    private, kid = keys[algorithm]
    scheme = WebhookSignature.model_validate(
        {"scheme": "jws", "algorithm": algorithm, "header": "Plaid-Verification", "jwksUrl": url}
    )
    claims = {"iat": int(time.time()), "request_body_sha256": hashlib.sha256(BODY).hexdigest()}
    token = jwt.encode(claims, private, algorithm=algorithm, headers={"kid": kid})
    assert check(scheme, {"Plaid-Verification": token}, keys=[]) is None
    forged = jwt.encode(claims, rsa.generate_private_key(65537, 2048), algorithm="RS256", headers={"kid": "rsa-1"})
    assert rejected(scheme, {"Plaid-Verification": forged}, keys=[])
    unknown_kid = jwt.encode(claims, private, algorithm=algorithm, headers={"kid": "nope"})
    assert rejected(scheme, {"Plaid-Verification": unknown_kid}, keys=[]) == "no signing key matches the token"
