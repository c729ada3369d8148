#!/usr/bin/env bash
# Builds a local stand-in for the Dockerfile's base image where no image registry can be reached,
# so that `podman build --pull=never` builds the repository's Dockerfile unchanged:
#   - a Debian root file system (`debootstrap --variant=minbase <suite>`, from the Debian mirror
#     this machine's apt uses, or $DEBIAN_MIRROR);
#   - the official Node.js binary of the FROM tag's major version (node-dist.sh: the npm
#     registry's node-linux-<arch> package) in /usr/local/bin, and npm from the `npm` package;
#   - the `node` user and group (1000:1000), as in the official image;
# imported with podman and tagged with the exact name of the Dockerfile's FROM
# (node:24-bookworm-slim -> docker.io/library/node:24-bookworm-slim).
#
#   test/container/base-image.sh            # prints the tag; builds only when needed
#
# Cached: when an image with that tag exists (this fixture's, for the same Node version and
# recipe, or a real one pulled from a registry) nothing is built. The debootstrap root file
# system is kept as a tarball in $TRACECHAIN_CACHE (default ~/.cache/tracechain), so a rebuild
# for a new Node version takes seconds. FORCE=1 rebuilds.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cache="${TRACECHAIN_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/tracechain}"
export CONTAINERS_CONF="${CONTAINERS_CONF:-$here/containers.conf}"

# The base image's name: the first FROM of the Dockerfile, e.g. node:24-bookworm-slim.
from="$(awk 'toupper($1) == "FROM" { print $2; exit }' "$repo/Dockerfile")"
if [[ ! "$from" =~ ^node:([0-9]+)-([a-z]+)-slim$ ]]; then
  echo "base-image: the Dockerfile's FROM is $from; this script builds only node:<major>-<debian suite>-slim" >&2
  exit 1
fi
major="${BASH_REMATCH[1]}"
suite="${BASH_REMATCH[2]}"
tag="docker.io/library/$from"

node_bin="$("$here/node-dist.sh" "$major")"
node_version="$("$node_bin/node" --version)"
# Changes when the Node version or this recipe changes: an image with another key is rebuilt.
key="$node_version $(sha256sum "$0" | cut -c1-16)"

if [ "${FORCE:-0}" != 1 ] && podman image exists "$tag"; then
  have="$(podman image inspect --format '{{ index .Labels "org.tracechain.base-fixture" }}' "$tag" 2>/dev/null || true)"
  if [ "$have" = "$key" ] || [ -z "$have" ] || [ "$have" = "<no value>" ]; then
    echo "$tag"
    exit 0
  fi
  echo "base-image: $tag was built for \"$have\", now \"$key\": rebuilding" >&2
fi

arch="$(dpkg --print-architecture)"
rootfs_tar="$cache/debian-$suite-$arch-minbase.tar"
mkdir -p "$cache"
work="$(mktemp -d "$cache/.base-image.XXXXXX")"
trap 'rm -rf "$work"' EXIT

if [ ! -s "$rootfs_tar" ]; then
  mirror="${DEBIAN_MIRROR:-}"
  if [ -z "$mirror" ]; then
    # The first Debian archive in apt's sources (deb822 or one-line form).
    mirror="$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '$1 == "URIs:" && $2 ~ /\/debian\/?$/ { print $2; exit }')"
    [ -n "$mirror" ] || mirror="$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '$1 == "deb" && $2 ~ /\/debian\/?$/ { print $2; exit }')"
  fi
  [ -n "$mirror" ] || { echo "base-image: no Debian mirror in apt's sources; set DEBIAN_MIRROR" >&2; exit 1; }
  echo "base-image: debootstrap --variant=minbase $suite ($arch) from $mirror" >&2
  debootstrap --variant=minbase --arch="$arch" "$suite" "$work/root" "$mirror" > "$work/debootstrap.log" 2>&1 \
    || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
  # What a slim image leaves out: package lists, caches, documentation.
  rm -rf "$work/root/var/lib/apt/lists/"* "$work/root/var/cache/apt/"*.bin "$work/root/var/cache/apt/archives/"*.deb \
    "$work/root/usr/share/doc/"* "$work/root/usr/share/man/"* "$work/root/usr/share/info/"*
  tar -C "$work/root" -cf "$rootfs_tar.tmp" .
  mv "$rootfs_tar.tmp" "$rootfs_tar"
  rm -rf "$work/root"
fi

mkdir -p "$work/root"
tar -C "$work/root" -xf "$rootfs_tar"
# Node and npm, where the official image has them.
cp "$node_bin/node" "$work/root/usr/local/bin/node"
# npm's major as the official images ship it: 10 with Node 20 and 22, 11 from Node 24 on.
if [ "$major" -ge 24 ]; then npm_major=11; else npm_major=10; fi
(cd "$work" && npm pack --silent "npm@$npm_major" > /dev/null)
mkdir -p "$work/root/usr/local/lib/node_modules/npm"
tar -xzf "$work"/npm-*.tgz -C "$work/root/usr/local/lib/node_modules/npm" --strip-components=1
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$work/root/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$work/root/usr/local/bin/npx"
chroot "$work/root" /bin/sh -c 'groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node'
chroot "$work/root" /usr/local/bin/node --version > /dev/null
chroot "$work/root" /usr/local/bin/node /usr/local/bin/npm --version > /dev/null

tar -C "$work/root" -c . | podman import --quiet \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "ENV NODE_VERSION=${node_version#v}" \
  --change "LABEL org.tracechain.base-fixture=\"$key\"" \
  --change 'CMD ["node"]' \
  - "$tag" > /dev/null
echo "base-image: built $tag (Node $node_version, Debian $suite minbase)" >&2
echo "$tag"
