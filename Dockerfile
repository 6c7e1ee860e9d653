# One image for both components. The command picks one:
#   docker run IMAGE dist/operator/main.js --public-base-url=https://hooks.example.com
#   docker run IMAGE dist/ingress/server.js          (the default)
# Build: docker build -t hookgate:dev .
# Node 24 (LTS): Node 20 left support in April 2026. The code also runs on 20.19+ (dev machines).

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY api ./api
COPY operator ./operator
COPY ingress ./ingress
COPY lib ./lib
COPY cli ./cli
RUN npm run build && npm prune --omit=dev

FROM gcr.io/distroless/nodejs24-debian12:nonroot
WORKDIR /app
ENV NODE_ENV=production
# package.json carries "type": "module", which the compiled ESM in dist/ needs.
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER 65532:65532
ENTRYPOINT ["/nodejs/bin/node"]
CMD ["dist/ingress/server.js"]
