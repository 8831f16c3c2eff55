# Spool container image.
#   docker build -t spool .
#   docker run -p 6379:6379 -v spool-data:/data spool --requirepass change-me
# Arguments after the image name are Spool options: they follow the config file on the command line (see
# ENTRYPOINT), so they override it, as with redis-server.

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
# `npm ci` compiles the native modules and runs `prepare` (tsc -> dist/); then drop the dev dependencies, so the
# node_modules the runtime stage copies holds production packages only (with the compiled addon).
RUN npm ci --no-audit --no-fund && npm prune --omit=dev --no-audit --no-fund
# The image's configuration: conf/spool.conf with the container's settings in place of the defaults (data in the
# /data volume, all addresses, metrics on 9379). The metrics endpoint listens on the `bind` addresses, so it
# follows `bind` unless the file or an option says otherwise.
COPY conf/spool.conf ./conf/spool.conf
RUN sed -i \
      -e 's|^dir .*|dir /data|' \
      -e 's|^bind .*|bind 0.0.0.0|' \
      -e 's|^metrics-port .*|metrics-port 9379|' \
      conf/spool.conf \
 && grep -qx 'dir /data' conf/spool.conf \
 && grep -qx 'bind 0.0.0.0' conf/spool.conf \
 && grep -qx 'metrics-port 9379' conf/spool.conf

# ---- run: Node and the built server only (no compilers, no npm: nothing here builds or wraps the server) ----
FROM node:20-slim
ENV NODE_ENV=production
# The port scripts/healthcheck.js PINGs: change it together with `port`.
ENV SPOOL_PORT=6379
# npm, npx, yarn and corepack are not needed to run Spool; without them nothing can start it as `npm start`,
# which does not pass SIGTERM on to node (the server would keep serving while the container stops).
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
      /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack \
      /usr/local/bin/yarn /usr/local/bin/yarnpkg /opt/yarn-*
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
COPY --from=build /app/scripts/healthcheck.js ./scripts/healthcheck.js
# The config file lives in a directory the server's user owns: CONFIG REWRITE writes a temporary file beside it
# and renames it into place. (Mount a volume on /etc/spool to keep rewrites across container re-creation.)
COPY --from=build --chown=node:node /app/conf/spool.conf /etc/spool/spool.conf
# Non-root: the `node` user (uid 1000) of the base image owns the data volume and the config directory.
RUN mkdir -p /data && chown node:node /data /etc/spool
USER node
VOLUME ["/data"]
# 6379: Redis protocol; 9379: Prometheus /metrics and /healthz (metrics-port in /etc/spool/spool.conf).
EXPOSE 6379 9379
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 CMD ["node", "scripts/healthcheck.js"]
# node runs as PID 1 directly (exec form, no shell, no npm): SIGTERM reaches Spool, which stops accepting,
# finishes the batch in flight, syncs and exits 0, so `docker stop` is a clean shutdown; give it time with
# `--stop-timeout` / `stop_grace_period` if the data set is large.
ENTRYPOINT ["node", "bin/spool-server.js", "/etc/spool/spool.conf"]
# Protected mode stays on: without a password only loopback clients are served; other containers need
# --requirepass (or --protected-mode no on a private network).
CMD []
