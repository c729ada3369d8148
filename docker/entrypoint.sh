#!/bin/sh
# Entry point of the tracechain image (and of the tests that run it outside Docker):
#   entrypoint.sh start [flags…]   check the configuration, then run the node in the foreground
#   entrypoint.sh <any other tracechain command> [args…]
#
# Configuration comes from TRACECHAIN_* variables (docs/config.md), a config file in
# $TRACECHAIN_CONFIG, and flags. When TRACECHAIN_BOOTSTRAP is unset and the data directory holds a
# `bootstrap` file (one multiaddr per line, written by init-consortium.sh), its addresses are used.
set -eu

BIN="${TRACECHAIN_BIN:-/app/bin/tracechain.js}"
tracechain() { node "$BIN" "$@"; }

if [ "$#" -eq 0 ]; then set -- start; fi

if [ "$1" = "start" ]; then
  shift
  DATA="${TRACECHAIN_DATA:-/data}"
  export TRACECHAIN_DATA="$DATA"
  if [ -z "${TRACECHAIN_BOOTSTRAP:-}" ] && [ -s "$DATA/bootstrap" ]; then
    TRACECHAIN_BOOTSTRAP="$(grep -v '^[[:space:]]*#' "$DATA/bootstrap" | tr '\n' ' ')"
    export TRACECHAIN_BOOTSTRAP
  fi
  if [ ! -f "$DATA/genesis.json" ]; then
    echo "entrypoint: $DATA holds no genesis.json: starting a one-member dev consortium (run the init service for a real one)" >&2
  fi
  # Fail fast, with every problem listed, on a bad configuration.
  tracechain config check >&2
  # The serving node's V8 options (src/node/gc-tuning.ts, SERVING_NODE_OPTIONS; the CLI's
  # shebang passes them too, and `start` logs any that are missing).
  exec node --max-semi-space-size=64 --min-semi-space-size=64 "$BIN" start "$@"
fi

exec node "$BIN" "$@"
