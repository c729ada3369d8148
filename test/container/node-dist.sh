#!/usr/bin/env bash
# Prints the directory of an official Node.js binary of the given version (a major like `24`
# or an exact `24.11.1`), fetched once from the npm registry's node-linux-<arch> package and
# kept in a cache; the same binaries the local base image is made from (base-image.sh).
#   test/container/node-dist.sh 24        ->  <cache>/node-v24.x.y-linux-x64/bin
# The cache is $TRACECHAIN_CACHE (default: $XDG_CACHE_HOME/tracechain or ~/.cache/tracechain).
# With an exact version and a cached copy no registry is asked.
set -euo pipefail

want="${1:?usage: node-dist.sh <major|version>}"
cache="${TRACECHAIN_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/tracechain}"
case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "node-dist: no node-linux package for $(uname -m)" >&2; exit 1 ;;
esac
pkg="node-linux-$arch"

if [[ "$want" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  version="$want"
else
  # The newest published version of that major (one registry look-up).
  version="$(npm view "$pkg@$want" version --json 2>/dev/null | node -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      const v = JSON.parse(s || "null"); const list = Array.isArray(v) ? v : v === null ? [] : [v];
      if (list.length === 0) process.exit(1);
      process.stdout.write(list.sort((a, b) => { const x = a.split(".").map(Number), y = b.split(".").map(Number); return x[0] - y[0] || x[1] - y[1] || x[2] - y[2]; }).at(-1));
    });')" || { echo "node-dist: the npm registry lists no $pkg@$want" >&2; exit 1; }
fi

dir="$cache/node-v$version-linux-$arch"
if [ ! -x "$dir/bin/node" ]; then
  mkdir -p "$cache"
  tmp="$(mktemp -d "$cache/.node-dist.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "$pkg@$version" > /dev/null)
  mkdir -p "$tmp/x"
  tar -xzf "$tmp"/"$pkg"-*.tgz -C "$tmp/x"
  "$tmp/x/package/bin/node" --version > /dev/null
  rm -rf "$dir"
  mv "$tmp/x/package" "$dir"
fi
echo "$dir/bin"
