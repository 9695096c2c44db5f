#!/usr/bin/env bash
# Runs the reliability suite (tests/OrderExport.IntegrationTests/Reliability: fault injection
# against real PostgreSQL and the embedded Kafka-protocol broker) through eng/test.sh, with
# ORDEREXPORT_RELIABILITY_REPORT set so every scenario records its numbers, then renders
# docs/reliability.md from them. Usage:
#   eng/reliability-report.sh
# If a test fails, docs/reliability.md is left alone; the rendering of the failed run goes to
# artifacts/reliability/reliability.md and the script exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."

out="artifacts/reliability"
mkdir -p "$out"
export ORDEREXPORT_RELIABILITY_REPORT="$PWD/$out/results.jsonl"
rm -f "$ORDEREXPORT_RELIABILITY_REPORT"

started=$(date +%s)
set +e
eng/test.sh --filter "FullyQualifiedName~Reliability" 2>&1 | tee "$out/test-output.txt"
status=${PIPESTATUS[0]}
set -e
elapsed=$(($(date +%s) - started))

target="docs/reliability.md"
((status == 0)) || target="$out/reliability.md"
# Rendered aside first: redirecting straight into the tracked page would make the renderer's
# "uncommitted changes" check see the page it is writing.
python3 eng/render-reliability-report.py "$ORDEREXPORT_RELIABILITY_REPORT" \
  --wall-clock-seconds "$elapsed" --summary "$(tail -n 1 "$out/test-output.txt")" >"$out/rendered.md"
mv "$out/rendered.md" "$target"
echo "rendered $target"
exit "$status"
