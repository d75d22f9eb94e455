#!/usr/bin/env bash
# Property-based robustness check: schemathesis drives the committed OpenAPI document
# against a live server on loopback (fresh SQLite database, demo network, a partner
# system's client-credentials token with referrals:read/write) and fails on any 5xx or any response the document does not describe.
# Bounded: FUZZ_MAX_EXAMPLES cases per operation and FUZZ_MAX_SECONDS overall.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN="${BIN:-.venv/bin}"
MAX_EXAMPLES="${FUZZ_MAX_EXAMPLES:-30}"
MAX_SECONDS="${FUZZ_MAX_SECONDS:-100}"
WORKDIR="$(mktemp -d -t rx-fuzz-XXXXXX)"
PORT="$("$BIN/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
BASE="http://127.0.0.1:$PORT"
SERVER_PID=""

cleanup() {
    if [[ -n "$SERVER_PID" ]]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    rm -rf "$WORKDIR"
}
trap cleanup EXIT

export ENVIRONMENT=development
export DATABASE_URL="sqlite+aiosqlite:///$WORKDIR/fuzz.db"
export AUDIT_SIGNING_KEY_FILE="$WORKDIR/audit-signing-key"
# Cheap hashing keeps token-endpoint cases fast; the fuzzer's bursts are not what the
# rate limits are for, so they are off for this server only.
export PASSWORD_HASH_TIME_COST=1 PASSWORD_HASH_MEMORY_KIB=1024 RATE_LIMIT_ENABLED=false

"$BIN/referral-exchange" migrate >/dev/null
"$BIN/referral-exchange" seed-demo --json >"$WORKDIR/demo.json"
"$BIN/referral-exchange" serve --host 127.0.0.1 --port "$PORT" >"$WORKDIR/server.log" 2>&1 &
SERVER_PID=$!

for _ in $(seq 1 50); do
    "$BIN/python" -c 'import sys, httpx; httpx.get(sys.argv[1]).raise_for_status()' "$BASE/healthz" \
        >/dev/null 2>&1 && break
    sleep 0.2
done

TOKEN="$("$BIN/python" -m bench.fuzz_prepare "$WORKDIR/demo.json" "$BASE" "$WORKDIR/schemathesis.toml")"

status=0
timeout --kill-after=10 "$((MAX_SECONDS + 60))" "$BIN/schemathesis" --no-color --config-file "$WORKDIR/schemathesis.toml" run openapi/openapi.json \
    --url "$BASE" \
    --header "Authorization: Bearer $TOKEN" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
    --phases examples,coverage,fuzzing \
    --max-examples "$MAX_EXAMPLES" \
    --max-time "$MAX_SECONDS" \
    --request-timeout 10 \
    --workers 2 \
    --seed "${FUZZ_SEED:-20261123}" \
    --suppress-health-check all \
    --generation-database none || status=$?

if grep -q "Traceback" "$WORKDIR/server.log"; then
    echo "server log has tracebacks:" >&2
    grep -B2 -A30 "Traceback" "$WORKDIR/server.log" | head -120 >&2
    status=1
fi
exit "$status"
