# syntax=docker/dockerfile:1
# The gateway as a container: docs/DEPLOYMENT.md.
#   docker build -t longlink .
#   docker run -p 7000:7000 -p 3000:3000 -e ADMIN_TOKEN=change-me -v longlink-data:/data longlink
ARG NODE_VERSION=20

# --- build: the compilers better-sqlite3 may need, all dependencies, tsc -------
FROM node:${NODE_VERSION}-bookworm-slim AS build
# better-sqlite3 downloads a prebuilt binary when one fits and compiles
# itself otherwise; the tools for that stay in this stage only.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json tsconfig.dashboard.json ./
COPY scripts ./scripts
COPY src ./src
# The build, then the dev tools out (jest, typescript, …). Nest stays: it is a
# peer dependency, which npm flags "peer", not "dev".
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# --- runtime: node, the production node_modules and dist/, as user `node` -------
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production \
    TCP_HOST=0.0.0.0 \
    TCP_PORT=7000 \
    HTTP_HOST=0.0.0.0 \
    HTTP_PORT=3000 \
    DATA_DIR=/data
WORKDIR /app
# Owned by root and read-only to the process: only DATA_DIR is writable.
COPY --from=build /build/package.json ./
COPY --from=build /build/node_modules ./node_modules
COPY --from=build /build/dist ./dist
RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]
USER node
EXPOSE 7000 3000
# Liveness, asked by node itself (no curl in the slim image; no token needed):
# readiness (/health/ready) is the load balancer's, and a draining node must
# not fail its own health check.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.HTTP_PORT || 3000) + '/health/live').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM starts the drain (readiness 503, everything still served), then the
# shutdown; the process is gone within SHUTDOWN_DRAIN_MS + SHUTDOWN_GRACE_MS
# + 1 s. Give the container more than that to stop (docker stop -t).
STOPSIGNAL SIGTERM
CMD ["node", "dist/main.js"]
