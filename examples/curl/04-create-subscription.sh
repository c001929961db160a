#!/usr/bin/env bash
# 004 "Create an outbound webhook subscription": POST /webhooks/subscriptions -> 201.
set -euo pipefail
source "$(dirname "$0")/_common.sh"

# Deviations from the seed:
# - "endpointUrl": hooks.partner.example does not resolve, and an endpoint must (400
#   otherwise). The default is ENDPOINT_URL=http://127.0.0.1:9/connectsoft: the local
#   stage accepts http and loopback endpoints (deployed stages only public https).
#   Nothing listens there, so deliveries to it are retried and logged as attempts.
# - "signingSecretRef" names a secret the tenant keeps; a fresh platform has none (422),
#   so it is left out and the platform generates the secret and returns it once as
#   "signingSecret". Set SIGNING_SECRET_REF to send the seed's form.
# - The answer has more than the seed shows (eventTypes, endpointUrl, updatedAt, ...).
ref=""
[[ -n "${SIGNING_SECRET_REF:-}" ]] && ref="\"signingSecretRef\": \"$SIGNING_SECRET_REF\","

call 201 POST /webhooks/subscriptions "${AUTH[@]}" -d @- <<JSON
{
  "tenantId": "$TENANT",
  "projectId": "proj-booking-saas",
  "eventType": "DeploymentPromoted",
  "endpointUrl": "${ENDPOINT_URL:-http://127.0.0.1:9/connectsoft}",
  $ref
  "active": true
}
JSON
