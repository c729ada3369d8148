#!/bin/sh
# One-shot preparation of a consortium's data directories (the compose file's `init` service).
#
# For each member in $MEMBERS ("dir:role:prefixes:seal", space-separated; prefixes comma-separated,
# may be empty; seal = seal|noseal) it runs `tracechain init` in $DATA_ROOT/<dir> (member key,
# peer key, API token), then assembles genesis from the members' public parts
# (`tracechain genesis`, with a new swarm key), copies genesis.json and swarm.key into every
# member's directory and writes each one a `bootstrap` file with the other members' addresses
# ($ADDRESS_TEMPLATE with {name} and {index} replaced, then /p2p/<peer ID>).
#
# Idempotent: when every member already has genesis.json it changes nothing. Run as root (as the
# compose file does) it hands the directories to $OWNER (the image's `node` user, 1000:1000).
#
# In a real consortium each organisation runs `tracechain init` on its own machine and sends only
# its public part (member.json); this script does all three in one place for a demo or a test.
set -eu

BIN="${TRACECHAIN_BIN:-/app/bin/tracechain.js}"
tracechain() { node "$BIN" "$@"; }

DATA_ROOT="${DATA_ROOT:-/consortium}"
CONSORTIUM_NAME="${CONSORTIUM_NAME:-tracechain demo consortium}"
MEMBERS="${MEMBERS:-manufacturer:manufacturer:0614141,4012345,9521234:seal wholesaler:wholesaler::seal pharmacy:pharmacy::noseal}"
BLOCK_INTERVAL="${BLOCK_INTERVAL:-5000}"
# (not ${ADDRESS_TEMPLATE:-…}: the braces of the default would end the expansion early)
if [ -z "${ADDRESS_TEMPLATE:-}" ]; then ADDRESS_TEMPLATE='/dns4/{name}/tcp/4001'; fi
OWNER="${OWNER:-1000:1000}"

all_done=1
for m in $MEMBERS; do
  dir="${m%%:*}"
  [ -f "$DATA_ROOT/$dir/genesis.json" ] || all_done=0
done
if [ "$all_done" = 1 ]; then
  echo "init: every member in $DATA_ROOT already has genesis.json; nothing to do"
  exit 0
fi

member_files=""
for m in $MEMBERS; do
  IFS=: read -r dir role prefixes seal <<EOM
$m
EOM
  mkdir -p "$DATA_ROOT/$dir"
  if [ -f "$DATA_ROOT/$dir/genesis.json" ]; then
    echo "init: $DATA_ROOT/$dir already belongs to a consortium; remove it or every member's genesis.json to start over" >&2
    exit 1
  fi
  set -- --data "$DATA_ROOT/$dir" --name "$dir" --role "$role"
  [ -n "$prefixes" ] && set -- "$@" --prefixes "$prefixes"
  [ "${seal:-seal}" = "noseal" ] && set -- "$@" --no-seal
  tracechain init "$@" > /dev/null
  echo "init: member $dir ($role${prefixes:+, prefixes $prefixes}${seal:+, $seal}) in $DATA_ROOT/$dir"
  member_files="$member_files $DATA_ROOT/$dir/member.json"
done

# shellcheck disable=SC2086 # member_files is a list of paths without spaces
tracechain genesis --name "$CONSORTIUM_NAME" --member $member_files --out "$DATA_ROOT/genesis.json" \
  --block-interval "$BLOCK_INTERVAL" --swarm-key "$DATA_ROOT/swarm.key"

i=0
for m in $MEMBERS; do
  dir="${m%%:*}"
  cp "$DATA_ROOT/genesis.json" "$DATA_ROOT/$dir/genesis.json"
  cp "$DATA_ROOT/swarm.key" "$DATA_ROOT/$dir/swarm.key"
  chmod 600 "$DATA_ROOT/$dir/swarm.key"
  : > "$DATA_ROOT/$dir/bootstrap"
  j=0
  for other in $MEMBERS; do
    odir="${other%%:*}"
    if [ "$odir" != "$dir" ]; then
      peer="$(node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).peerId)' "$DATA_ROOT/$odir/member.json")"
      addr="$(printf '%s' "$ADDRESS_TEMPLATE" | sed -e "s/{name}/$odir/g" -e "s/{index}/$j/g")"
      echo "$addr/p2p/$peer" >> "$DATA_ROOT/$dir/bootstrap"
    fi
    j=$((j + 1))
  done
  i=$((i + 1))
done

if [ "$(id -u)" = 0 ]; then
  for m in $MEMBERS; do chown -R "$OWNER" "$DATA_ROOT/${m%%:*}"; done
fi
echo "init: consortium \"$CONSORTIUM_NAME\" ready: $i members, genesis $DATA_ROOT/genesis.json"
