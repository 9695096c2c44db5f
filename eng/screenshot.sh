#!/usr/bin/env bash
# Regenerates docs/operations-page.png, the README's picture of the operations page: runs the
# browser test that screenshots the page (Debian's Chromium, a private PostgreSQL started here,
# the embedded broker) with ORDEREXPORT_DOCS_SCREENSHOT=1, which makes it also write that file.
# The 1280 and 390 px screenshots land in artifacts/test-results/screenshots/ as in every test run.
set -euo pipefail
cd "$(dirname "$0")/.."

eng/ensure-tools.sh

eval "$(eng/start-postgres.sh)"
trap eng/stop-postgres.sh EXIT

dotnet build OrderExport.sln -c Release --nologo -v q -clp:NoSummary
ORDEREXPORT_DOCS_SCREENSHOT=1 dotnet test tests/OrderExport.IntegrationTests -c Release --no-build --nologo \
  --filter "FullyQualifiedName~OperationsPageTests.Screenshots"
echo "[screenshot] wrote docs/operations-page.png and artifacts/test-results/screenshots/operations-{1280,390}.png" >&2
