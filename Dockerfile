# syntax=docker/dockerfile:1
# Build: compile TypeScript with the dev dependencies.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY commands ./commands
COPY jobs ./jobs
# npm ci runs `prepare`, which bundles the CLIs (dist/cli/rotate.js, dist/cli/inventory.js): sources come first.
RUN npm ci --no-audit --no-fund
RUN npm run build

# Runtime: production dependencies only, non-root, no shell tooling beyond the base image.
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` needs the dev dependencies; the CLI bundles come from the build stage.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY credentials.yaml ./credentials.yaml
USER node
EXPOSE 3000
# Role: web | worker | all (docker-compose runs web and worker as separate services).
ENTRYPOINT ["node", "dist/src/main.js"]
CMD ["all"]
