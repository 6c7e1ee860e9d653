# hookgate: the two commands a fresh machine needs are `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := test
NPM_STAMP := node_modules/.package-lock.json

.PHONY: help demo test test-unit test-cluster test-realnode node-deps images check gen bench bench-scale cluster build

$(NPM_STAMP): package-lock.json
	npm ci --no-audit --no-fund

## help: list the targets (from their `## target: what it does` comments)
help:
	@awk '/^## [a-z-]+:/ { t = $$2; sub(/:$$/, "", t); sub(/^## [a-z-]+: /, ""); printf "  %-14s %s\n", t, $$0; next } \
	  /^## / { sub(/^## /, ""); printf "  %-14s %s\n", "", $$0 }' $(MAKEFILE_LIST)

## demo: build and start a local control plane with a real node, run operator + ingress, send deliveries
demo: $(NPM_STAMP) node-deps
	npx tsx scripts/demo.ts

## test: static checks, unit tests, cluster tests against a real local control plane, then real-node tests
## (after, not beside, the cluster tests: one control plane at a time on two cores)
test: $(NPM_STAMP) check node-deps
	bash test/harness/build.sh >/dev/null
	npx vitest run --project unit --project cluster
	npx vitest run --project realnode

## node-deps: Debian packages of the real node (containerd, runc, CNI plugins, busybox-static, gcc).
## Not fatal here: without them the realnode tests skip saying why (and fail under CI=true).
node-deps:
	-bash test/harness/node-deps.sh

## images: the real node's images (pause, busybox, hookgate) as OCI archives, without Docker
images: $(NPM_STAMP) node-deps
	npx tsx test/harness/images.ts

## test-realnode: only the real-node tests
test-realnode: $(NPM_STAMP) node-deps
	bash test/harness/build.sh >/dev/null
	npx vitest run --project realnode

## test-unit: only the unit tests (no cluster)
test-unit: $(NPM_STAMP)
	npx vitest run --project unit

## test-cluster: only the cluster tests
test-cluster: $(NPM_STAMP)
	bash test/harness/build.sh >/dev/null
	npx vitest run --project cluster

## check: type check, lint, and generated files up to date
check: $(NPM_STAMP)
	npx tsc --noEmit
	npx biome check .
	npm run --silent gen:check

## gen: write the generated files (CRDs and the chart's copy from api/v1alpha1, docs/flags.md)
gen: $(NPM_STAMP)
	npm run --silent gen

## bench: ingress throughput and latency against a bare Fastify baseline and direct Job creation
## (operator and ingress as compiled JS from dist/, as the image runs them)
bench: build
	bash test/harness/build.sh >/dev/null
	npx tsx scripts/bench.ts

## bench-scale: 10,000 WebhookTriggers and 10,000 runs against a direct client (≤ 15 min; ARGS=--triggers=1000)
bench-scale: build
	bash test/harness/build.sh >/dev/null
	npx tsx scripts/bench-scale.ts $(ARGS)

## cluster: the local control plane in the foreground; prints the KUBECONFIG to use. Ctrl-C stops it.
cluster: $(NPM_STAMP)
	npx tsx test/harness/main.ts

## build: compile to dist/ (what the image and the benchmarks run)
build: $(NPM_STAMP)
	npm run build

-include hack/kind.mk
