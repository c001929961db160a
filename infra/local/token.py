"""Print a bearer token the local runtime accepts: ``make token TENANT=acme [SCOPES="a b"]``.

The token is signed with the same key file the runtime publishes as its JWKS,
so it works against a runtime started before or after it. The token is the
last line of stdout (``TOKEN=$(make token)`` captures just it); the
explanation goes to stderr.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from infra.local.invoke import PROJECT_DIR

TTL_SECONDS = 12 * 3600


def key_path() -> Path:
    """The dev issuer's key; ``DEV_ISSUER_KEY`` moves it (tests use a temporary one)."""
    return Path(os.environ.get("DEV_ISSUER_KEY") or PROJECT_DIR / ".local" / "dev-issuer.pem")


def main(argv: list[str] | None = None) -> int:
    from infra.local.dev_issuer import DevIssuer

    parser = argparse.ArgumentParser(prog="make token", description=__doc__)
    parser.add_argument("--tenant", required=True, help="tenant id carried in the tenant_id claim")
    parser.add_argument("--scopes", default="", help="space-separated scopes; empty grants every scope")
    parser.add_argument("--subject", default="dev-user")
    parser.add_argument("--ttl", type=int, default=TTL_SECONDS, help="lifetime in seconds")
    args = parser.parse_args(argv)
    if not args.tenant.strip():
        parser.error("--tenant must not be empty")
    scopes = args.scopes.split() or None
    token = DevIssuer(key_path()).token(args.tenant, scopes, subject=args.subject, ttl_seconds=args.ttl)
    granted = "every scope" if scopes is None else " ".join(scopes)
    print(f"# tenant {args.tenant}, {granted}, valid {args.ttl}s. Use it as:", file=sys.stderr)
    api = f"http://127.0.0.1:{os.environ.get('PORT', '8000')}"
    print(f'#   curl -H "Authorization: Bearer $TOKEN" {api}/integrations/connections', file=sys.stderr)
    print(token)
    return 0


if __name__ == "__main__":
    sys.exit(main())
