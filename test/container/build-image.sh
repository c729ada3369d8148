#!/usr/bin/env bash
# Builds the repository's Dockerfile, unchanged, with podman and no image registry:
#   test/container/build-image.sh [tag]        (default tag: localhost/tracechain:test)
# The base image comes from base-image.sh (a local stand-in tagged with the FROM name, built
# once and cached); `--pull=never` keeps podman from looking for it anywhere else;
# `--format docker` keeps the HEALTHCHECK (the OCI format has none). Layers are cached by
# podman between runs, so a rebuild after a source change redoes only `npm run build` onwards
# (a COPY's cache key includes the files' modes: a checkout made under another umask misses it).
#
# When this machine reaches the npm registry through a TLS proxy whose CA Node is told about
# in NODE_EXTRA_CA_CERTS, that CA is lent to the build's `npm ci` through a read-only mount of
# a directory over /usr/local/etc (npm's global npmrc names it as cafile): mounts exist only
# while a RUN step runs, so nothing of it is left in the image.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
export CONTAINERS_CONF="${CONTAINERS_CONF:-$here/containers.conf}"
tag="${1:-localhost/tracechain:test}"

"$here/base-image.sh" > /dev/null

mounts=()
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -s "$NODE_EXTRA_CA_CERTS" ]; then
  etc="$(mktemp -d)"
  trap 'rm -rf "$etc"' EXIT
  cp "$NODE_EXTRA_CA_CERTS" "$etc/build-ca.pem"
  printf 'cafile=/usr/local/etc/build-ca.pem\n' > "$etc/npmrc"
  chmod -R a+rX "$etc"
  mounts=(--volume "$etc:/usr/local/etc:ro")
fi

podman build --pull=never --format docker "${mounts[@]}" --tag "$tag" "$repo"
# Each build after a change leaves the previous layers untagged: drop those unused for 3 days, so
# the store stays bounded while the recent layer cache (npm ci's above all) is kept.
podman image prune --force --filter until=72h > /dev/null
