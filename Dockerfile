# churnstream service image. Build: docker build -t churnstream .
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY schemas ./schemas
COPY models ./models
COPY src/adapters/redis/scripts ./src/adapters/redis/scripts
USER node
EXPOSE 18080
ENTRYPOINT ["node", "dist/app/cli/main.js"]
CMD ["run"]
