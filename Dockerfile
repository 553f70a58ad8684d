# syntax=docker/dockerfile:1
# Node 24 LTS in every stage: Node 20 left support in April 2026, and some dependencies already ask for Node 22+.

# Build: compile TypeScript with every dependency present. Install scripts are skipped: `prepare` would build before
# the sources are here, and no dependency needs one (binaries such as @napi-rs/canvas's come as optional packages,
# which is why nothing here omits optional dependencies).
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY bench ./bench
RUN npx tsc -p tsconfig.build.json

# Production dependencies only (no compiler, no test tools).
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# Runtime: non-root, the compiled app, and what the chart canvas needs to draw text (fonts; @napi-rs/canvas ships
# Skia itself, so no Cairo or Pango). tini is PID 1: it passes SIGTERM on (the app then finishes in-flight work) and
# reaps children.
FROM node:24-bookworm-slim
RUN apt-get update \
  && apt-get install -y --no-install-recommends fonts-dejavu-core fontconfig tini \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# The api role listens on the container's interfaces, so that a published port reaches it (API_TOKEN is required).
ENV NODE_ENV=production LOG_FORMAT=json HTTP_HOST=0.0.0.0 HTTP_PORT=8000
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
# The app's files are root's: the process (user node) can read them, not change them.
USER node
EXPOSE 8000
# What `npm start` runs.
ENTRYPOINT ["/usr/bin/tini", "--", "node", "dist/src/main.js"]
