# syntax=docker/dockerfile:1
# AsyncQueue server image. The build stage compiles better-sqlite3's native module from source
# and the TypeScript; the runtime stage holds only production node_modules, dist/, bin/ and
# package.json, runs as the unprivileged `node` user and keeps its database in the /data volume.
# test/ops/docker.image.test.ts replays these steps outside Docker; docs/ops.md explains them.
ARG NODE_VERSION=22

FROM node:${NODE_VERSION}-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: the `prepare` script needs src/, copied later; the native module is built next.
RUN npm ci --ignore-scripts --no-audit --no-fund
RUN npm rebuild better-sqlite3 --build-from-source
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
# Build, drop dev dependencies, and keep only the compiled binding of better-sqlite3.
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 && cd node_modules/better-sqlite3 \
 && rm -rf deps src build/deps build/Release/obj build/Release/obj.target build/Release/sqlite3.a build/Release/test_extension.node build/Release/.deps

FROM node:${NODE_VERSION}-slim
LABEL org.opencontainers.image.title="AsyncQueue" \
      org.opencontainers.image.description="Self-hosted HTTP task queue: one Node.js process, one SQLite file" \
      org.opencontainers.image.licenses="MIT"
ENV NODE_ENV=production \
    AQ_HOST=0.0.0.0 \
    AQ_PORT=8700 \
    AQ_DB=/data/asyncqueue.db
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 8700
# No curl in slim images: Node's own fetch asks /healthz (open even when a token is set).
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.AQ_PORT || 8700) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Exec form: node is PID 1 and gets SIGTERM itself; `serve` handles it by draining in-flight
# attempts for up to AQ_SHUTDOWN_GRACE (30 s), so give `docker stop` more: -t 40 or
# stop_grace_period: 40s (docker-compose.yml).
STOPSIGNAL SIGTERM
CMD ["node", "bin/asyncqueue.js", "serve"]
