# Sourced by every example script: settings from the environment and one helper, `call`.
#
#   PORT       where `make run` listens (default 8000); BASE_URL follows it
#   BASE_URL   the API (default http://127.0.0.1:$PORT)
#   INGEST_URL where vendors post (default BASE_URL: locally one server serves both; a
#              deployed stage's IngestURL output, docs/deploy.md "Two fronts")
#   TENANT     the tenant the default token is minted for (default connectsoft, as in 004)
#   TOKEN      a bearer token; by default minted with the local token command
#              (`make -s token`), which only works against the local runtime
#   PYTHON     the interpreter for the token command and for reading JSON answers
#              (default: the project's .venv, else python3)

EXAMPLES_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PROJECT_DIR="$(cd "$EXAMPLES_DIR/../.." && pwd)"
PORT="${PORT:-8000}"
BASE_URL="${BASE_URL:-http://127.0.0.1:$PORT}"
INGEST_URL="${INGEST_URL:-$BASE_URL}"
TENANT="${TENANT:-connectsoft}"
if [[ -z "${PYTHON:-}" ]]; then
  if [[ -x "$PROJECT_DIR/.venv/bin/python" ]]; then PYTHON="$PROJECT_DIR/.venv/bin/python"; else PYTHON=python3; fi
fi
if [[ -z "${TOKEN:-}" ]]; then
  TOKEN="$(cd "$PROJECT_DIR" && "$PYTHON" -m infra.local.token --tenant "$TENANT" 2>/dev/null | tail -n 1)" || TOKEN=""
  [[ -n "$TOKEN" ]] || { echo "no TOKEN and the local token command failed; export TOKEN=..." >&2; exit 2; }
fi
export PORT BASE_URL INGEST_URL TENANT TOKEN PYTHON

# call EXPECTED_STATUS METHOD PATH [curl arguments...]
# Sends the request, echoes it and its status to stderr, prints the body on stdout,
# and exits 1 when the status is not the expected one (so `set -e` stops the script).
call() {
  local expected="$1" method="$2" path="$3"
  shift 3
  local body status
  body="$(mktemp)"
  status="$(curl -sS -o "$body" -w '%{http_code}' -X "$method" "$BASE_URL$path" "$@")"
  echo ">> $method $path -> $status" >&2
  cat "$body"
  echo
  if [[ "$status" != "$expected" ]]; then
    echo "!! expected $expected, got $status" >&2
    rm -f "$body"
    return 1
  fi
  rm -f "$body"
}

# field NAME: one top-level field of the JSON document on stdin.
field() {
  "$PYTHON" -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

# Bearer and JSON headers, for `call ... "${AUTH[@]}"`.
AUTH=(-H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json")
