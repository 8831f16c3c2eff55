# Spool container image.
#   docker build -t spool .
#   docker run -p 6379:6379 -v spool-data:/data spool --requirepass change-me
# Arguments after the image name are Spool options (they follow the defaults in CMD's place, see ENTRYPOINT).

# ---- build: native addon (@riaskov/mmap-io is compiled by node-gyp) and dist/ (tsc, run by `prepare`) ----
FROM node:20-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
COPY scripts ./scripts
COPY src ./src
COPY bin ./bin
# `npm ci` compiles the native modules and runs `prepare` (tsc -> dist/); then drop the dev dependencies.
RUN npm ci --no-audit --no-fund && npm prune --omit=dev --no-audit --no-fund

# ---- run ----
FROM node:20-slim
ENV NODE_ENV=production
# The port scripts/healthcheck.js PINGs: change it together with --port.
ENV SPOOL_PORT=6379
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
COPY --from=build /app/scripts/healthcheck.js ./scripts/healthcheck.js
COPY conf/spool.conf ./conf/spool.conf
# Non-root: the `node` user (uid 1000) of the base image owns the data volume.
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
# 6379: Redis protocol; 9379: Prometheus /metrics and /healthz (when --metrics-port 9379 is given, as below).
EXPOSE 6379 9379
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 CMD ["node", "scripts/healthcheck.js"]
# Spool handles SIGTERM itself (stop accepting, finish the batch in flight, sync, exit 0): `docker stop` is a
# clean shutdown; give it time with `--stop-timeout` / `stop_grace_period` if the data set is large.
ENTRYPOINT ["node", "bin/spool-server.js", "--dir", "/data", "--bind", "0.0.0.0", "--metrics-port", "9379"]
# Protected mode stays on: without a password only loopback clients are served; other containers need
# --requirepass (or --protected-mode no on a private network).
CMD []
