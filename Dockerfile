# syntax=docker/dockerfile:1
# Build: compile TypeScript with the dev dependencies; bundle the roles' process (dist/main.js loads
# dist/main.bundle.js) and write the bundle's V8 code cache. V8 takes the cache only from the same
# Node build: both stages run the same image.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY commands ./commands
COPY jobs ./jobs
COPY scripts ./scripts
# npm ci runs `prepare`, which bundles the CLIs (dist/cli/rotate.js, dist/cli/inventory.js): sources come first.
RUN npm ci --no-audit --no-fund
RUN npm run build

# Runtime: production dependencies only, non-root, no shell tooling beyond the base image.
FROM node:20-bookworm-slim AS runtime
# MALLOC_MMAP_THRESHOLD_: see src/process-tuning.ts (npm start and the benches set it too).
ENV NODE_ENV=production \
    MALLOC_MMAP_THRESHOLD_=131072
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` needs the dev dependencies; the bundles come from the build stage. The
# worker-only clients the roles' bundle leaves out (Kubernetes, Vault, AWS, pg, mysql2) load from here.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY credentials.yaml ./credentials.yaml
USER node
EXPOSE 3000
# Role: web | worker | all (docker-compose runs web and worker as separate services).
ENTRYPOINT ["node", "dist/main.js"]
CMD ["all"]
