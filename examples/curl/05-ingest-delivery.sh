#!/usr/bin/env bash
# 004 "Ingest an inbound webhook delivery": POST /webhooks/deliveries -> 202.
set -euo pipefail
source "$(dirname "$0")/_common.sh"

# Deviations from the seed:
# - The seed names only the provider (X-CS-Provider). A delivery also needs its
#   connection, in X-CS-Connection (or ?connectionId=): the signature is checked with
#   that connection's webhook secret. Set CONNECTION_ID and WEBHOOK_SECRET, or a GitHub
#   connection is established first (01) and its generated webhookSecret is used.
# - "sha256=..." must be a real signature: HMAC-SHA256 of the exact body bytes with the
#   webhook secret, computed here with openssl. A wrong one is 401 and nothing is stored.
# - No bearer token: the signature authenticates the vendor.
# - It goes to INGEST_URL, the vendor-facing front (a deployed stage's IngestURL; locally
#   the same server as BASE_URL).
# - The seed's answer is what comes back (plus a Location header); a second send of the
#   same providerDeliveryId is 200 "Duplicate", so the id is made unique per run.
if [[ -z "${CONNECTION_ID:-}" || -z "${WEBHOOK_SECRET:-}" ]]; then
  created="$("$EXAMPLES_DIR/01-establish-connection.sh" 2>/dev/null)"
  CONNECTION_ID="$(field connectionId <<<"$created")"
  WEBHOOK_SECRET="$(field webhookSecret <<<"$created")"
fi
body="{\"providerDeliveryId\": \"gh-12345-$(date +%s)-$$\", \"eventName\": \"pull_request\", \"payload\": { \"action\": \"closed\", \"merged\": true }}"
signature="sha256=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$WEBHOOK_SECRET" | sed 's/^.*= //')"

BASE_URL="$INGEST_URL" call 202 POST /webhooks/deliveries \
  -H "X-CS-Provider: github" \
  -H "X-CS-Connection: $CONNECTION_ID" \
  -H "X-Hub-Signature-256: $signature" \
  -H "Content-Type: application/json" \
  --data-binary "$body"
