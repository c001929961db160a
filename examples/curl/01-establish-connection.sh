#!/usr/bin/env bash
# 004 "Establish a connection": POST /integrations/connections -> 201.
# Prints the answer (connectionId, credentialId, webhookSecret...) on stdout.
set -euo pipefail
source "$(dirname "$0")/_common.sh"

# Deviations from the seed:
# - The seed names "credentialRef": "kv://factory-integration/github-booking", a secret
#   the tenant already keeps in Secrets Manager. A fresh platform holds no such secret
#   (a missing one is 422 on credentialRef), so by default the credential goes inline in
#   `credentials` and the platform stores it at kv://connections/<connectionId>
#   (the answer names that credentialRef). Set CREDENTIAL_REF to send the seed's form.
# - OAuth2ClientCredentials needs the client's id, secret and token URL; the values are
#   placeholders (set TOKEN_URL to point at a real token endpoint).
# - "tenantId" is kept: it must equal the token's tenant (TENANT, default connectsoft).
# - The answer has more than the seed shows: credentialRef, credentialId and, because
#   GitHub signs its webhooks, webhookUrl and the generated webhookSecret (shown once).
# - GITHUB_BASE_URL (optional) sends configuration.baseUrl, so runs go to a fake
#   GitHub on this machine instead of api.github.com (the local stage allows http).
if [[ -n "${CREDENTIAL_REF:-}" ]]; then
  credential="\"credentialRef\": \"$CREDENTIAL_REF\""
else
  credential="\"credentials\": {\"clientId\": \"booking-saas\", \"clientSecret\": \"example-secret\",
                 \"tokenUrl\": \"${TOKEN_URL:-https://github.example/oauth/token}\"}"
fi
base_url=""
[[ -n "${GITHUB_BASE_URL:-}" ]] && base_url=", \"baseUrl\": \"$GITHUB_BASE_URL\""

call 201 POST /integrations/connections "${AUTH[@]}" -d @- <<JSON
{
  "tenantId": "$TENANT",
  "projectId": "proj-booking-saas",
  "providerId": "prov-github",
  "displayName": "Booking SaaS GitHub",
  "authMode": "${AUTH_MODE:-OAuth2ClientCredentials}",
  $credential,
  "configuration": {
    "organization": "connectsoft-booking",
    "defaultBranch": "main"$base_url
  }
}
JSON
