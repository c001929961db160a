#!/usr/bin/env bash
# 004 "Register a provider": POST /integrations/providers -> 201.
set -euo pipefail
source "$(dirname "$0")/_common.sh"

# Deviations from the seed:
# - "key": "twilio-sms" is taken: prov-twilio-sms is a built-in provider, so the seed's
#   body is 409 DUPLICATE_RESOURCE. A provider key is also unique per tenant, so a second
#   run of this script would be 409 too. The key is therefore PROVIDER_KEY, by default
#   "twilio-sms-" plus the time, and the answer's providerId is prov-<key>.
# - "apiClient" is accepted and recorded; the answer's apiClientId is derived from the key.
PROVIDER_KEY="${PROVIDER_KEY:-twilio-sms-$(date +%s)-$$}"

call 201 POST /integrations/providers "${AUTH[@]}" -d @- <<JSON
{
  "tenantId": "$TENANT",
  "key": "$PROVIDER_KEY",
  "displayName": "Twilio SMS",
  "category": "Communication",
  "authModel": "ApiKey",
  "apiClient": "ConnectSoft.Sms.Providers.Twilio",
  "capabilities": ["sms.send", "sms.status"],
  "baseUrl": "https://api.twilio.com"
}
JSON
