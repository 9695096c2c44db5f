#!/usr/bin/env bash
# README command 1: runs the whole pipeline on this machine with embedded defaults: a SQLite
# file (orderexport.db in the working folder) and an in-process Kafka-protocol broker.
# Extra arguments go to the service (for example: --urls http://127.0.0.1:5090).
set -euo pipefail
cd "$(dirname "$0")/.."
exec dotnet run --project src/OrderExport -c Release -- "$@"
