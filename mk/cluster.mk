# Local Kubernetes control plane for tests (docs/testing.md).
# cluster-build compiles testenv/kube into one multi-call binary and installs kwok; both are cached:
# req1-kube is rebuilt only when the hash of its sources changes (.cache/bin/req1-kube.hash), kwok only
# when its version does (.cache/bin/kwok.version); `make clean` keeps both.

GO ?= $(shell command -v go 2>/dev/null || echo /usr/local/go/bin/go)
KUBE_SRC_DIR := testenv/kube
KUBE_BIN := .cache/bin/req1-kube
KWOK_BIN := .cache/bin/kwok
KWOK_VERSION := v0.8.0
CLUSTER_DIR ?= .run/cluster
KUBE_GOENV := CGO_ENABLED=0 GOWORK=off GOTOOLCHAIN=local GOFLAGS=-buildvcs=false

SETUP_TARGETS += cluster-build

.PHONY: cluster-build cluster-up cluster-down cluster-status

cluster-build: ## build the local Kubernetes control plane (req1-kube) and kwok into .cache/bin (cached)
	@mkdir -p .cache/bin
	@hash=$$(cd $(KUBE_SRC_DIR) && cat go.mod go.sum $$(ls *.go *.yaml | sort) | sha256sum | cut -d' ' -f1); \
	if [ -x $(KUBE_BIN) ] && [ "$$(cat $(KUBE_BIN).hash 2>/dev/null)" = "$$hash" ]; then \
	  echo "req1-kube up to date"; \
	else \
	  echo "building $(KUBE_BIN) (cold: 8-20 min on 2 cores, then cached)"; start=$$(date +%s); \
	  (cd $(KUBE_SRC_DIR) && $(KUBE_GOENV) nice $(GO) build -trimpath -ldflags='-s -w' -o $(CURDIR)/$(KUBE_BIN).tmp .); \
	  mv $(KUBE_BIN).tmp $(KUBE_BIN); echo "$$hash" > $(KUBE_BIN).hash; \
	  echo "built $(KUBE_BIN) in $$(( $$(date +%s) - start ))s"; \
	fi
	@if [ -x $(KWOK_BIN) ] && [ "$$(cat $(KWOK_BIN).version 2>/dev/null)" = "$(KWOK_VERSION)" ]; then \
	  echo "kwok $(KWOK_VERSION) up to date"; \
	else \
	  GOBIN=$(CURDIR)/.cache/bin $(KUBE_GOENV) nice $(GO) install sigs.k8s.io/kwok/cmd/kwok@$(KWOK_VERSION); \
	  echo "$(KWOK_VERSION)" > $(KWOK_BIN).version; \
	fi

cluster-up: cluster-build venv ## start the local control plane in $(CLUSTER_DIR) and print its kubeconfig
	$(VENV_PY) -m req1_testenv.kube up --dir $(CLUSTER_DIR)

cluster-down: ## stop the local control plane (by recorded PIDs)
	@if [ -x $(VENV_PY) ]; then $(VENV_PY) -m req1_testenv.kube down --dir $(CLUSTER_DIR); fi

cluster-status: ## which control-plane processes are running (the CLI itself exits 1 when not all are)
	@$(VENV_PY) -m req1_testenv.kube status --dir $(CLUSTER_DIR) || true

# `make clean` removes .run: stop the cluster living there first.
clean: cluster-down

.PHONY: cluster-live cluster-live-down
LIVE_DIR ?= .run/live

cluster-live: cluster-build helm venv web-build ## the production shape on this machine: process nodes, the operator from its chart, the minimal example Ready; prints URL and login (root)
	$(VENV_PY) -m req1_testenv.live up --dir $(LIVE_DIR)

cluster-live-down: ## stop what `make cluster-live` started (by recorded PIDs)
	@if [ -x $(VENV_PY) ]; then $(VENV_PY) -m req1_testenv.live down --dir $(LIVE_DIR); fi

clean: cluster-live-down
