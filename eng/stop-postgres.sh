#!/usr/bin/env bash
# Stops the cluster started by eng/start-postgres.sh and removes its data.
set -uo pipefail
data="${ORDEREXPORT_PG_DATA:-}"
bindir="${ORDEREXPORT_PG_BIN:-}"
[[ -n "$data" && -d "$data" ]] || exit 0
run_as=()
[[ "$(id -u)" == "0" ]] && run_as=(runuser -u postgres --)
"${run_as[@]}" "$bindir/pg_ctl" -D "$data/db" -m immediate -w stop >/dev/null 2>&1
rm -rf "$data"
