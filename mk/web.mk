# Web UI (web/): `npm ci` then `vite build` into web/dist, each cached by a stamp.
# Rebuilds when package-lock.json or any UI source changes, or when web/dist is gone.

WEB_DIR := web
WEB_SOURCES := $(shell find $(WEB_DIR)/src -type f 2>/dev/null) $(addprefix $(WEB_DIR)/,index.html vite.config.ts tsconfig.json package.json)
WEB_NODE_MIN := 20.19

SETUP_TARGETS += web-build
RUN_TARGETS += web-build

.PHONY: web-build web-test web-dev web-node-check

web-build: $(STAMPS)/web-build ## build the web UI into web/dist (npm ci + vite build, cached)

web-test: $(STAMPS)/web-npm-ci ## vitest unit tests of the web UI
	cd $(WEB_DIR) && npm test

web-dev: $(STAMPS)/web-npm-ci ## Vite dev server on :5173, proxying /api to 127.0.0.1:8080
	cd $(WEB_DIR) && npm run dev

web-node-check:
	@command -v node >/dev/null && command -v npm >/dev/null || { echo "web-build needs Node.js >= $(WEB_NODE_MIN) and npm on PATH" >&2; exit 1; }
	@node -e 'const [a,b]=process.versions.node.split(".").map(Number);const [x,y]="$(WEB_NODE_MIN)".split(".").map(Number);if(a<x||(a===x&&b<y)){console.error("web-build needs Node.js >= $(WEB_NODE_MIN), found "+process.versions.node);process.exit(1)}'

# A missing output forces the step again even when the stamp is newer than the inputs.
ifeq ($(wildcard $(WEB_DIR)/node_modules/.package-lock.json),)
.PHONY: $(STAMPS)/web-npm-ci
endif
ifeq ($(wildcard $(WEB_DIR)/dist/index.html),)
.PHONY: $(STAMPS)/web-build
endif

$(STAMPS)/web-npm-ci: $(WEB_DIR)/package-lock.json | web-node-check
	@mkdir -p $(STAMPS)
	cd $(WEB_DIR) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(STAMPS)/web-build: $(STAMPS)/web-npm-ci $(WEB_SOURCES)
	cd $(WEB_DIR) && npm run build
	@touch $@

# Debian's Chromium for the browser end-to-end test (tests/web/test_web_e2e.py skips without it).
# WEB_E2E=0 leaves it out of `make setup`.
WEB_E2E ?= 1
ifeq ($(WEB_E2E),1)
SETUP_TARGETS += web-e2e-deps
endif

.PHONY: web-e2e-deps
web-e2e-deps: ## Debian chromium for the headless browser test
	@if [ ! -x /usr/bin/chromium ]; then \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium; \
	fi
