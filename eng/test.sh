#!/usr/bin/env bash
# README command 2: builds and runs every test against a real PostgreSQL (started here, in a
# temp folder) and the embedded Kafka-protocol broker (or the broker in ORDEREXPORT_TEST_KAFKA).
# Exits non-zero if any test fails, and ends with the line "N passed, N failed, N skipped".
# Extra arguments go to `dotnet test` (for example: --filter "FullyQualifiedName~Outbox").
set -euo pipefail
cd "$(dirname "$0")/.."

eng/ensure-tools.sh

eval "$(eng/start-postgres.sh)"
trap eng/stop-postgres.sh EXIT

results="artifacts/test-results"
rm -rf "$results"
# From here on a failure still ends in the summary line (a failed build counts as a failure).
set +e
restore_start=$SECONDS
dotnet restore OrderExport.sln --nologo -v q \
  && echo "[build] restore took $((SECONDS - restore_start)) s (NuGet packages folder: ${NUGET_PACKAGES:-$HOME/.nuget/packages})" >&2 \
  && dotnet build OrderExport.sln -c Release --no-restore --nologo -v q -clp:NoSummary \
  && dotnet test OrderExport.sln -c Release --no-build --nologo \
    --logger "trx" --logger "console;verbosity=normal" --results-directory "$results" "$@"
status=$?
set -e

# dotnet test's own summary is not one our CI reads; add up the TRX counters instead.
passed=0 failed=0 skipped=0 files=0
for trx in "$results"/*.trx; do
  [[ -f "$trx" ]] || continue
  files=$((files + 1))
  counters="$(grep -o '<Counters [^>]*>' "$trx")"
  get() { sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$counters"; }
  passed=$((passed + $(get passed)))
  failed=$((failed + $(get failed) + $(get error) + $(get timeout) + $(get aborted)))
  # xunit's skipped tests are "NotExecuted" results that the counters only show as total - executed.
  skipped=$((skipped + $(get total) - $(get executed)))
done
# CI shows the end of this output: name each failed test there, with the start of its message.
for trx in "$results"/*.trx; do
  [[ -f "$trx" ]] && grep -q 'outcome="Failed"' "$trx" || continue
  if command -v python3 >/dev/null; then
    python3 - "$trx" <<'PY' >&2 || true
import sys, xml.etree.ElementTree as ET
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
for result in ET.parse(sys.argv[1]).getroot().iterfind(".//t:UnitTestResult[@outcome='Failed']", ns):
    message = result.findtext(".//t:Message", "", ns).strip().splitlines()
    print(f"FAILED {result.get('testName')} after {result.get('duration')}")
    print("\n".join("  " + line for line in message[:12]))
    stack = result.findtext(".//t:StackTrace", "", ns).strip().splitlines()
    print("\n".join("  " + line.strip() for line in stack[:6]))
PY
  else
    grep -o '<UnitTestResult [^>]*outcome="Failed"[^>]*>' "$trx" | sed 's/.*testName="\([^"]*\)".*/FAILED \1/' >&2
  fi
done
if ((files == 0)); then
  echo "no test results were written (did the build fail?)" >&2
  failed=$((failed + 1))
fi
echo "$passed passed, $failed failed, $skipped skipped"
((status == 0 && failed == 0 && passed > 0))
