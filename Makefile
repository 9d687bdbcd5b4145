# req1 — every target is idempotent and works on a fresh Debian 12 machine as root.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
VENV_PY := $(VENV)/bin/python
STAMPS := .cache/stamps
APT_PACKAGES := postgresql-15 postgresql-client-15 redis-server curl ca-certificates git iproute2 nftables
PYTEST_ARGS ?=

# Fragments add their own targets and append to SETUP_TARGETS (everything `make test` needs) and to
# RUN_TARGETS (the smaller set `make up` needs: no Go-built test cluster, no browser).
SETUP_TARGETS := apt-deps venv
RUN_TARGETS := apt-deps venv
include $(sort $(wildcard mk/*.mk))

.PHONY: help setup run-setup apt-deps venv test lint typecheck pytest up down clean

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | sort

setup: $(SETUP_TARGETS) ## install everything the project needs (apt, .venv, Go-built test binaries, web UI)

run-setup: $(RUN_TARGETS) ## install only what `make up` needs

apt-deps: ## Debian packages (PostgreSQL 15, Redis 7, ...)
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing; \
	fi

venv: $(STAMPS)/venv ## the virtual environment with the project installed editable

$(STAMPS)/venv: pyproject.toml
	@mkdir -p $(STAMPS)
	@test -x $(VENV_PY) || $(PYTHON) -m venv $(VENV)
	$(VENV_PY) -m pip install -q --upgrade pip
	$(VENV_PY) -m pip install -q -e '.[dev]'
	@touch $@

test: setup lint typecheck pytest ## setup, then ruff, mypy and the whole pytest suite

lint: ## ruff
	$(VENV)/bin/ruff check .

typecheck: ## mypy
	$(VENV)/bin/mypy

pytest: ## the pytest suite (PYTEST_ARGS to narrow it)
	$(VENV)/bin/pytest $(PYTEST_ARGS)

up: $(RUN_TARGETS) ## run the stack natively under .run/ and print its URL and login
	$(VENV_PY) -m req1_testenv.stack up --dir .run/stack

down: ## stop what `make up` started
	@if [ -x $(VENV_PY) ]; then $(VENV_PY) -m req1_testenv.stack down --dir .run/stack; fi

clean: down ## remove runtime state and caches (keeps .venv)
	rm -rf .run .cache/stamps
