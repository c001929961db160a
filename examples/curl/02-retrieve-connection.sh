#!/usr/bin/env bash
# 004 "Retrieve a connection": GET /integrations/connections/{connectionId} -> 200.
set -euo pipefail
source "$(dirname "$0")/_common.sh"

# Deviations from the seed:
# - The seed reads conn-7b3c1f9a, which exists nowhere: ids are generated
#   (conn- and 12 hex digits). Set CONNECTION_ID, or one is established first (01).
# - "lastRunId" appears only once a run was started on the connection, and
#   "lastCheckedAt" once a health check ran (the sweep, or POST .../health/check).
if [[ -z "${CONNECTION_ID:-}" ]]; then
  CONNECTION_ID="$("$EXAMPLES_DIR/01-establish-connection.sh" 2>/dev/null | field connectionId)"
fi

call 200 GET "/integrations/connections/$CONNECTION_ID" -H "Authorization: Bearer $TOKEN"
