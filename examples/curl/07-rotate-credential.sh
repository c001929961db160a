#!/usr/bin/env bash
# 004 "Rotate a credential": POST /integrations/credentials/rotate -> 202.
set -euo pipefail
source "$(dirname "$0")/_common.sh"

# Deviations from the seed:
# - The seed rotates cred-github-booking. Credential ids are derived from the tenant and
#   the secret's path (cred- and a hash), so set CREDENTIAL_ID, or a connection is
#   established first (01, OAuth2ClientCredentials) and its credentialId is rotated.
# - The answer is 202 (accepted, not done) and carries a traceId; newVersionRef names
#   the pending Secrets Manager version (?version=<AWS version id>, not ?version=2).
#   GET /integrations/credentials/{id} shows how the rotation ends: the new version is
#   promoted only after the verification run succeeds against the vendor.
# - A credential the platform cannot renew itself (BearerToken, Basic, ApiKey) needs the
#   new value in "credentials" (422 otherwise); OAuth2 client credentials need none.
if [[ -z "${CREDENTIAL_ID:-}" ]]; then
  CREDENTIAL_ID="$("$EXAMPLES_DIR/01-establish-connection.sh" 2>/dev/null | field credentialId)"
fi

call 202 POST /integrations/credentials/rotate "${AUTH[@]}" -d @- <<JSON
{
  "tenantId": "$TENANT",
  "credentialId": "$CREDENTIAL_ID",
  "reason": "ScheduledRotation"
}
JSON
