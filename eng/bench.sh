#!/usr/bin/env bash
# Benchmark: how fast the export pipeline is, measured against its limits (issue 7). Not part of
# the test run. Starts a private PostgreSQL (eng/start-postgres.sh, stopped and deleted at the end),
# builds Release, runs bench/OrderExport.Benchmarks, prints a Markdown report and writes it to
# docs/benchmarks.md. A full run takes about 15 minutes. `eng/bench.sh --quick` is a smoke run of
# about 2 that writes artifacts/bench/benchmarks-quick.md instead. Other arguments go to the harness
# (see bench/OrderExport.Benchmarks/BenchProgram.cs), for example:
#   eng/bench.sh --only drain --set Outbox:BatchSize=2000 --out /tmp/drain.md
set -euo pipefail
cd "$(dirname "$0")/.."

eval "$(eng/start-postgres.sh)"
trap eng/stop-postgres.sh EXIT

echo "[bench] building Release" >&2
dotnet build bench/OrderExport.Benchmarks -c Release --nologo -v q -clp:NoSummary

# Numbers from a busy machine mean little: give a passing build or test run up to a minute to end.
if [[ " $* " != *" --quick "* ]]; then
  cores="$(nproc)"
  for _ in $(seq 12); do
    awk -v cores="$cores" '{ exit !($1 < cores) }' /proc/loadavg && break
    echo "[bench] load average $(cut -d' ' -f1 /proc/loadavg) on $cores cores; waiting 5 s for it to settle" >&2
    sleep 5
  done
fi

# The service exports spans and metrics when this is set; measure it without an exporter.
unset OTEL_EXPORTER_OTLP_ENDPOINT
export ORDEREXPORT_CLK_TCK="$(getconf CLK_TCK)"
if commit="$(git rev-parse --short HEAD 2>/dev/null)"; then
  [[ -n "$(git status --porcelain -- src 2>/dev/null)" ]] && commit="$commit + uncommitted changes in src/"
  export ORDEREXPORT_BENCH_COMMIT="$commit"
fi

dotnet run --project bench/OrderExport.Benchmarks -c Release --no-build -- "$@"
