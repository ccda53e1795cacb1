#!/usr/bin/env bash
# `make fuzz`: schemathesis against our own /openapi.json on a throwaway server, a bounded number of
# examples per operation. Only one verdict is asked for: no request, however odd, gets a 5xx.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
EXAMPLES=${FUZZ_EXAMPLES:-10}
work=$(mktemp -d)
port=$("$BIN/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export CAPI_DATA_DIR="$work/data" CAPI_PORT="$port" CAPI_LOG_LEVEL=warning
"$BIN/capi-packages" serve >"$work/serve.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 150); do curl -sf "http://127.0.0.1:$port/" >/dev/null && break; sleep 0.2; done
token=$("$BIN/capi-packages" token --user-id fuzz --admin)
"$BIN/schemathesis" run "http://127.0.0.1:$port/openapi.json" \
  --checks not_a_server_error --max-examples "$EXAMPLES" --workers 1 --request-timeout 30 \
  --generation-deterministic -H "Authorization: bearer $token"
