# First version: one image that runs a node. Multi-stage build, compose file
# and toolchains for local sandboxes come with the deployment issue.
FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends git ca-certificates && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY runtime ./runtime
COPY actors ./actors
COPY api ./api
COPY sandbox ./sandbox
# Local sandboxes live here; the service runs as `node`, which must own it.
RUN mkdir -p /app/workspace && chown node:node /app/workspace
ENV HOST=0.0.0.0 PORT=8000 NODE_ENV=production WORKSPACE_DIR=/app/workspace
USER node
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s CMD node -e "fetch('http://127.0.0.1:8000/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
STOPSIGNAL SIGTERM
CMD ["node", "--import", "tsx", "runtime/main.ts"]
