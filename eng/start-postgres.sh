#!/usr/bin/env bash
# Starts a private, throw-away PostgreSQL 15 cluster for the tests and prints its connection
# string on stdout (everything else goes to stderr). Usage:
#   eval "$(eng/start-postgres.sh)"   # exports ORDEREXPORT_TEST_POSTGRES and ORDEREXPORT_PG_DATA
#   eng/stop-postgres.sh              # stops it and deletes its data
# The cluster lives in a temp folder, listens on 127.0.0.1 on a free port with trust auth for
# local TCP only, and runs with fsync off: it is for tests, never for data you want to keep.
set -euo pipefail

log() { echo "[postgres] $*" >&2; }
die() { echo "[postgres] ERROR: $*" >&2; exit 1; }

bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
[[ -n "$bindir" && -x "$bindir/initdb" ]] \
  || die "PostgreSQL server binaries not found (initdb); eng/ensure-tools.sh installs them, or: sudo apt-get install postgresql"

# initdb refuses to run as root: use the postgres account when we are root.
run_as=()
if [[ "$(id -u)" == "0" ]]; then
  id postgres >/dev/null 2>&1 || die "running as root but there is no 'postgres' user to own the cluster"
  run_as=(runuser -u postgres --)
fi

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
  || echo $((20000 + RANDOM % 20000)))"
data="$(mktemp -d "${TMPDIR:-/tmp}/orderexport-pg.XXXXXX")"
chmod 755 "$data"
[[ ${#run_as[@]} -gt 0 ]] && chown postgres "$data"

"${run_as[@]}" "$bindir/initdb" -D "$data/db" -U postgres --auth=trust -E UTF8 --locale=C >"$data/initdb.log" 2>&1 \
  || { cat "$data/initdb.log" >&2; die "initdb failed"; }
"${run_as[@]}" "$bindir/pg_ctl" -D "$data/db" -l "$data/server.log" -w -t 60 start \
  -o "-p $port -k $data -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
  >"$data/pg_ctl.log" 2>&1 || { cat "$data/pg_ctl.log" "$data/server.log" >&2 2>/dev/null; die "pg_ctl start failed"; }
log "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (data in $data)"

echo "export ORDEREXPORT_TEST_POSTGRES='Host=127.0.0.1;Port=$port;Username=postgres;Password=postgres;Database=postgres'"
echo "export ORDEREXPORT_PG_DATA='$data'"
echo "export ORDEREXPORT_PG_BIN='$bindir'"
