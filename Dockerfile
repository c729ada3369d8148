# syntax=docker/dockerfile:1
# tracechain node image: multi-stage, Node 24 LTS (Debian bookworm slim), runs as the unprivileged
# `node` user, keeps its chain and keys in the /data volume, HEALTHCHECK on GET /health.
#   docker build -t tracechain .
#   docker run --rm -p 127.0.0.1:8080:8080 -v tracechain-data:/data tracechain        # a dev node
# A three-organisation consortium: docker-compose.yml (docs/deploy.md).

FROM node:24-bookworm-slim AS build
WORKDIR /src
# Dependencies first (cached while only sources change). No install scripts are needed: the
# native LevelDB binding (classic-level) ships prebuilt binaries for linux x64/arm64.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY assembly ./assembly
COPY src ./src
COPY bench ./bench
RUN npm run build && npm prune --omit=dev --ignore-scripts && rm -rf dist/test

FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    TRACECHAIN_BIN=/app/bin/tracechain.js \
    TRACECHAIN_DATA=/data \
    TRACECHAIN_API=0.0.0.0:8080 \
    TRACECHAIN_P2P_LISTEN=/ip4/0.0.0.0/tcp/4001
WORKDIR /app
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY bin ./bin
COPY assets ./assets
COPY docker/entrypoint.sh /usr/local/bin/tracechain-entrypoint
COPY docker/init-consortium.sh /usr/local/bin/tracechain-init-consortium
COPY docker/join-consortium.sh /usr/local/bin/tracechain-join-consortium
COPY docker/healthcheck.mjs /app/docker/healthcheck.mjs
RUN printf '#!/bin/sh\nexec node /app/bin/tracechain.js "$@"\n' > /usr/local/bin/tracechain \
 && chmod 0755 /usr/local/bin/tracechain /usr/local/bin/tracechain-entrypoint /usr/local/bin/tracechain-init-consortium /usr/local/bin/tracechain-join-consortium \
 && mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
# 8080: HTTP API and explorer page; 4001: libp2p (consortium members only).
EXPOSE 8080 4001
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 CMD ["node", "/app/docker/healthcheck.mjs"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/tracechain-entrypoint"]
CMD ["start"]
