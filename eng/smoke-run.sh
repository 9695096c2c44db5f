#!/usr/bin/env bash
# Smoke of README command 1: starts eng/run.sh on a free loopback port, creates and confirms an
# order, waits until it is Exported, stops the service with SIGTERM and prints one line with the
# result. Exits non-zero if any step fails. Used by .ci/run after the tests.
set -euo pipefail
cd "$(dirname "$0")/.."

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
log="$(mktemp "${TMPDIR:-/tmp}/orderexport-smoke.XXXXXX.log")"
started=$SECONDS

# setsid: the service gets its own process group, so SIGTERM reaches `dotnet run` and the app.
setsid eng/run.sh --urls "$base" >"$log" 2>&1 &
pid=$!
fail() {
  echo "smoke: FAILED: $* (service log: $log)" >&2
  tail -n 40 "$log" >&2
  kill -KILL -- "-$pid" 2>/dev/null || true
  echo "smoke: eng/run.sh FAILED: $*"
  exit 1
}

# Build and start-up: at most 5 minutes (a cold build on 2 cores takes about one).
for _ in $(seq 300); do
  curl -sf "$base/health/live" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || fail "eng/run.sh exited before answering"
  sleep 1
done
curl -sf "$base/health/live" >/dev/null || fail "no answer on $base/health/live within 300 s"

json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
order="$(curl -sf -X POST "$base/orders" -H 'content-type: application/json' \
  -d '{"customerId":"smoke-1","amount":12.50,"currency":"EUR"}' | json "['id']")" || fail "POST /orders"
curl -sf -X POST "$base/orders/confirm" -H 'content-type: application/json' -d "{\"orderId\":\"$order\"}" >/dev/null \
  || fail "POST /orders/confirm"
confirmed=$SECONDS

status=""
for _ in $(seq 120); do
  status="$(curl -sf "$base/orders/$order" | json "['exportStatus']")" || fail "GET /orders/$order"
  [[ "$status" == "Exported" ]] && break
  sleep 0.5
done
[[ "$status" == "Exported" ]] || fail "order $order still $status 60 s after its confirm"
exported=$((SECONDS - confirmed))

stop_at=$SECONDS
kill -TERM -- "-$pid"
for _ in $(seq 60); do
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.5
done
kill -0 "$pid" 2>/dev/null && fail "still running 30 s after SIGTERM"
set +e
wait "$pid"
code=$?
set -e
# 143 = ended by the SIGTERM itself (dotnet run's own exit); 0 = the app stopped cleanly.
[[ "$code" == 0 || "$code" == 143 ]] || fail "exit code $code after SIGTERM"
grep -q "Application is shutting down" "$log" || fail "the service did not log a graceful shutdown"
rm -f "$log"
echo "smoke: eng/run.sh started in $((confirmed - started)) s, order $order Exported ${exported} s after its confirm, stopped by SIGTERM in $((SECONDS - stop_at)) s (exit $code)"
