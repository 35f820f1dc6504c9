#!/usr/bin/env bash
# Serve the nightly deployment against a real Prefect server: the one PREFECT_API_URL names, or
# one started here on 127.0.0.1:$PREFECT_PORT (SQLite under .prefect/) and stopped on exit.
set -euo pipefail
sources=${1:-sources.yaml}
out=${2:-data}
port=${PREFECT_PORT:-4200}
bin=.venv/bin
# Per-source log lines in the Prefect UI (the Makefile keeps `make run` quiet with WARNING).
export PREFECT_LOGGING_LEVEL=INFO
healthy() { "$bin/python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$1/health" 2>/dev/null; }

if [[ -z "${PREFECT_API_URL:-}" ]]; then
  export PREFECT_API_URL="http://127.0.0.1:${port}/api"
  if ! healthy "$PREFECT_API_URL"; then
    mkdir -p "${PREFECT_HOME:-.prefect}"
    "$bin/prefect" server start --host 127.0.0.1 --port "$port" > "${PREFECT_HOME:-.prefect}/server.log" 2>&1 &
    server=$!
    trap 'kill "$server" 2>/dev/null || true' EXIT
    trap 'exit 130' INT TERM  # run the EXIT trap (stop the server) on Ctrl-C or kill too
    for _ in $(seq 1 120); do healthy "$PREFECT_API_URL" && break; sleep 1; done
    healthy "$PREFECT_API_URL" || { echo "Prefect server did not start; see ${PREFECT_HOME:-.prefect}/server.log" >&2; exit 1; }
    echo "Prefect server on http://127.0.0.1:${port} (UI and API); log in ${PREFECT_HOME:-.prefect}/server.log"
  fi
fi
"$bin/aggregator" serve --sources "$sources" --out "$out"
