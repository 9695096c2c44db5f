#!/usr/bin/env bash
# Tools the tests call besides .NET: docker-compose (v1, from Debian) validates our compose
# files offline. Installed when missing in CI as root; elsewhere we name the package.
set -euo pipefail
if ! command -v docker-compose >/dev/null; then
  if [[ "${CI:-}" == "true" && "$(id -u)" == "0" ]]; then
    echo "[tools] installing docker-compose" >&2
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null \
      || { echo "[tools] ERROR: apt-get install docker-compose failed" >&2; exit 1; }
  else
    echo "[tools] ERROR: docker-compose not found (the compose-file tests need it to validate offline); install it with: sudo apt-get install docker-compose" >&2
    exit 1
  fi
fi
