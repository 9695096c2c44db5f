#!/usr/bin/env bash
# Debian packages the tests need besides .NET:
#   docker-compose  validates the compose file offline (Debian's v1)
#   postgresql      server binaries for the private test cluster (eng/start-postgres.sh; it stays stopped)
#   curl, python3   used by eng/start-postgres.sh and eng/smoke-run.sh (most machines have them)
#   chromium        the browser the operations page's Playwright tests drive (/usr/bin/chromium;
#                   Playwright's own browser download is never used)
# Installs the missing ones when it can (root, or passwordless sudo) and says so in one line;
# otherwise names them and stops.
set -euo pipefail

missing=()
command -v docker-compose >/dev/null || missing+=(docker-compose)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
command -v curl >/dev/null || missing+=(curl)
command -v python3 >/dev/null || missing+=(python3)
[[ -x /usr/bin/chromium ]] || missing+=(chromium)
((${#missing[@]} == 0)) && exit 0

if [[ "$(id -u)" == "0" ]]; then
  as_root=(env)
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  # env inside sudo: sudo's env_reset would drop DEBIAN_FRONTEND.
  as_root=(sudo -n env)
else
  echo "[tools] ERROR: missing ${missing[*]}; install with: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi

echo "[tools] installing ${missing[*]} (apt-get)" >&2
log="$(mktemp)"
if ! { "${as_root[@]}" apt-get update -qq && "${as_root[@]}" DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
  cat "$log" >&2
  echo "[tools] ERROR: apt-get install ${missing[*]} failed (see above)" >&2
  exit 1
fi
rm -f "$log"
