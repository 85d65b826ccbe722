# One image for every node: `docker build -t swe-agent .`, then
# `docker run -p 8000:8000 -v swe-data:/data --env-file .env swe-agent`. Node 24 runs the
# TypeScript sources itself (type stripping: the code uses only erasable
# syntax), so there is no build output and no tsx: the deps stage installs
# production dependencies, the runtime stage copies them beside the sources. test/deploy/image-steps.test.ts replays
# these steps without Docker.

FROM node:24-trixie-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:24-trixie-slim AS runtime
# What the agent's commands find in a local sandbox (SANDBOX_TYPE=local): git
# (and ssh for ssh:// clones), a shell, Python, a C/C++ toolchain, curl; Node
# and npm come with the base image. bubblewrap gives each command a mount view
# of its own and slirp4netns its internet network (not the container's
# loopback); both need the container started with the options in
# docker-compose.yml (deploy/seccomp-sandbox.json, apparmor and systempaths
# unconfined: README, "The local sandbox in Docker"). tini is PID 1: it
# forwards SIGTERM to node and reaps the processes that sandbox commands leave
# behind.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini git openssh-client ca-certificates curl bash python3 python3-pip python3-venv make g++ procps bubblewrap slirp4netns \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json tsconfig.json ./
COPY kernel ./kernel
COPY actors ./actors
COPY runtime ./runtime
COPY sandbox ./sandbox
COPY agent ./agent
COPY api ./api
COPY server ./server
# Local sandboxes live in /workspaces, outside the service's /app (a
# repository under /app would inherit its package.json and node_modules); the
# service runs as `node` (uid 1000), which owns it and nothing under /app.
# Without REDIS_URL the embedded store keeps everything in /data, a volume
# (`-v swe-data:/data`), so a new container of a new image starts where the
# last one stopped; the workspaces are a volume too, so a session's work in
# progress survives a restart.
RUN mkdir -p /workspaces /data && chown node:node /workspaces && chown node:node /data && chmod 700 /data /workspaces
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8000 WORKSPACE_DIR=/workspaces DATA_DIR=/data
VOLUME /data /workspaces
USER node
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8000)+'/health',{signal:AbortSignal.timeout(2500)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--"]
# node itself, not npm start: npm does not pass SIGTERM on reliably, and the
# node hands its sessions over to other nodes when it gets it.
CMD ["node", "server/main.ts"]
