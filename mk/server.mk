# req1 API server (server/req1_server): run, migrate, test and benchmark the platform layer.
# `make up` (top Makefile) starts the whole native stack including the server; these are the pieces.

SERVER_TEST_ARGS ?=
BENCH_ARGS ?=

.PHONY: server-test server-migrate server-serve bench-platform bench-http hey

server-test: venv ## server test suite (platform and domain) against real PostgreSQL/Redis/SeaweedFS
	$(VENV)/bin/pytest tests/server $(SERVER_TEST_ARGS)

server-migrate: venv ## apply migrations and seeds to the `make up` database (req1-server migrate)
	@set -a; source <($(VENV_PY) -m req1_testenv.stack env --dir .run/stack); set +a; $(VENV)/bin/req1-server migrate

server-serve: venv ## run req1-server in the foreground against the `make up` services (PORT=8081 by default)
	@set -a; source <($(VENV_PY) -m req1_testenv.stack env --dir .run/stack); set +a; \
	  PORT=$${PORT:-8081} LOG_FORMAT=text $(VENV)/bin/req1-server serve

bench-platform: venv ## load benchmark of the platform layer (docs/benchmarks/platform.md)
	$(VENV_PY) bench/platform/run.py $(BENCH_ARGS)

HEY_VERSION := v0.1.5
HEY_STAMP := .cache/stamps/hey-$(HEY_VERSION)
GO ?= $(shell command -v go || echo /usr/local/go/bin/go)

hey: $(HEY_STAMP) ## the hey HTTP load generator, built from its Go module into .cache/bin (cached)

$(HEY_STAMP):
	@mkdir -p .cache/bin .cache/stamps
	GOBIN=$(abspath .cache/bin) GOFLAGS=-mod=mod $(GO) install github.com/rakyll/hey@$(HEY_VERSION)
	@touch $@

bench-http: venv $(HEY_STAMP) ## requests/s and p50/p95/p99 per route at 1/16/64 connections with hey (docs/benchmarks/http.md)
	$(VENV_PY) bench/http/run.py $(BENCH_HTTP_ARGS)
