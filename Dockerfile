# syntax=docker/dockerfile:1
# remote-mcp's image: the CLI and the demo server, run as a non-root user. docs/deployment.md tells how to serve
# your own module with it; deploy/compose.yaml runs three of them behind nginx with Redis.
#
#   docker build -t remote-mcp .
#   docker run --rm -p 8080:8080 remote-mcp
#
# Node 20: the lowest version package.json promises (engines >=20), so the image tests what users may run.
ARG NODE_IMAGE=node:20-bookworm-slim

# 1. build: every dependency the lockfile names (the TypeScript compiler among them), then the compiled output.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would build before the sources are copied; the build runs below.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY examples ./examples
RUN npm run build

# 2. runtime-deps: only what the built code imports at run time (scripts/docker-runtime-manifest.mjs says why this
#    is not a bare `npm ci --omit=dev`: the MCP SDK is a peer dependency).
FROM ${NODE_IMAGE} AS runtime-deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts/docker-runtime-manifest.mjs ./scripts/
RUN node scripts/docker-runtime-manifest.mjs \
  && npm install --omit=dev --ignore-scripts --no-audit --no-fund \
  && npm cache clean --force

# 3. runtime: node, the production dependencies and the build output; no compiler, no sources, no npm cache.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
# Owned by root and not writable by the user the server runs as: the code cannot be changed by the process.
COPY --from=runtime-deps /app/package.json ./
COPY --from=runtime-deps /app/node_modules ./node_modules
COPY --from=build /app/build/src ./build/src
COPY --from=build /app/build/examples ./build/examples
# The node image's unprivileged user (uid 1000). remote-mcp writes nothing to disk unless told to (an audit log
# file), so the root filesystem may be mounted read-only.
USER node
EXPOSE 8080
# Liveness, with node itself (the slim image has no curl): /health answers 200 while the process serves.
# It names 127.0.0.1:8080: with --port, or an allowedHosts list without 127.0.0.1, change it too.
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/health', { signal: AbortSignal.timeout(2000) }).then((r) => process.exit(r.status === 200 ? 0 : 1), () => process.exit(1))"]
# SIGTERM starts remote-mcp's drain (docker stop, compose, Kubernetes all send it): give the container a stop
# timeout longer than the drain (compose: stop_grace_period).
STOPSIGNAL SIGTERM
# The demo server by default. Serve your own module by mounting or copying it under /app (so it resolves the
# image's @modelcontextprotocol/server) and naming it: serve /app/servers/my-server.js --host 0.0.0.0
CMD ["node", "build/src/cli/main.js", "serve", "build/examples/demo-server.js", "--host", "0.0.0.0"]
