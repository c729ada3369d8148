#!/bin/sh
# One-shot preparation of a new organisation's data directory, to join a running consortium by
# governance (docs/governance.md; the compose file docker-compose.join.yml runs it as its
# `hospital-init` service).
#
# It runs `tracechain init` in $DATA ($NAME, $ROLE, $PREFIXES comma-separated or empty,
# $SEAL = seal|noseal), copies the consortium's genesis.json and swarm.key from $CONSORTIUM, and
# writes a `bootstrap` file with the genesis members' addresses ($ADDRESS_TEMPLATE with {name}
# and {index} replaced, then /p2p/<peer ID>). It prints the new member's public part (the JSON
# `tracechain init` prints) on stdout, and only that: a member proposes it with
# `tracechain member propose add -` reading it on stdin. Messages go to stderr.
#
# Idempotent: when $DATA already holds genesis.json it changes nothing and prints the public part
# again (from $DATA/member.json). Run as root it hands the directory to $OWNER (1000:1000).
set -eu

BIN="${TRACECHAIN_BIN:-/app/bin/tracechain.js}"
tracechain() { node "$BIN" "$@"; }

DATA="${DATA:-/data}"
CONSORTIUM="${CONSORTIUM:-/consortium}"
NAME="${NAME:?NAME (the new organisation's name) is required}"
ROLE="${ROLE:?ROLE (manufacturer, wholesaler, pharmacy, hospital, …) is required}"
PREFIXES="${PREFIXES:-}"
SEAL="${SEAL:-noseal}"
# (not ${ADDRESS_TEMPLATE:-…}: the braces of the default would end the expansion early)
if [ -z "${ADDRESS_TEMPLATE:-}" ]; then ADDRESS_TEMPLATE='/dns4/{name}/tcp/4001'; fi
OWNER="${OWNER:-1000:1000}"

case "$SEAL" in
  seal | noseal) ;;
  *)
    echo "join: SEAL must be seal or noseal, got \"$SEAL\"" >&2
    exit 1
    ;;
esac
for f in genesis.json swarm.key; do
  if [ ! -f "$CONSORTIUM/$f" ]; then
    echo "join: $CONSORTIUM/$f is missing: run the consortium's init first" >&2
    exit 1
  fi
done

if [ -f "$DATA/genesis.json" ]; then
  echo "join: $DATA already holds genesis.json; nothing to do (its public part follows)" >&2
  cat "$DATA/member.json"
  echo
  exit 0
fi

mkdir -p "$DATA"
set -- --data "$DATA" --name "$NAME" --role "$ROLE"
[ -n "$PREFIXES" ] && set -- "$@" --prefixes "$PREFIXES"
[ "$SEAL" = "noseal" ] && set -- "$@" --no-seal
tracechain init "$@" > /dev/null
cp "$CONSORTIUM/genesis.json" "$DATA/genesis.json"
cp "$CONSORTIUM/swarm.key" "$DATA/swarm.key"
chmod 600 "$DATA/swarm.key"

# The genesis members' addresses: the new node syncs from any of them once it is admitted.
node -e '
const g = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
const t = process.argv[2];
for (const [i, m] of g.members.entries()) {
  process.stdout.write(t.split("{name}").join(m.name).split("{index}").join(String(i)) + "/p2p/" + m.peerId + "\n");
}' "$DATA/genesis.json" "$ADDRESS_TEMPLATE" > "$DATA/bootstrap"

if [ "$(id -u)" = 0 ]; then chown -R "$OWNER" "$DATA"; fi
echo "join: $NAME ($ROLE${PREFIXES:+, prefixes $PREFIXES}, $SEAL) prepared in $DATA with $(wc -l < "$DATA/bootstrap") bootstrap addresses; a member proposes it with: tracechain member propose add -" >&2
cat "$DATA/member.json"
echo
