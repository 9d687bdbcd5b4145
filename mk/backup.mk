# Logical backups of the `make up` database (ops/pg-backup.sh, the same script the Compose `backup` service runs;
# docs/backups.md). `make backup` dumps now; `make restore` restores the newest dump, or FILE=… .

STACK_DIR ?= .run/stack
BACKUP_DIR ?= .run/backups
BACKUP_KEEP_DAYS ?= 14
PG_BIN ?= /usr/lib/postgresql/15/bin
FILE ?=

# stack.json's DATABASE_URL → PG* variables (shell-quoted), so no password goes on a command line.
define PG_ENV_FROM_STACK
import json, shlex, sys, urllib.parse as up
u = up.urlsplit(json.load(open(sys.argv[1]))["env"]["DATABASE_URL"])
env = {"PGHOST": u.hostname, "PGPORT": u.port or 5432, "PGUSER": up.unquote(u.username or ""),
       "PGPASSWORD": up.unquote(u.password or ""), "PGDATABASE": u.path.lstrip("/")}
print("\n".join(f"export {k}={shlex.quote(str(v))}" for k, v in env.items()))
endef
export PG_ENV_FROM_STACK

.PHONY: backup restore

backup: ## pg_dump the `make up` database into .run/backups (BACKUP_KEEP_DAYS retention)
	@test -f $(STACK_DIR)/stack.json || { echo "no stack in $(STACK_DIR): run make up first" >&2; exit 1; }
	@eval "$$($(PYTHON) -c "$$PG_ENV_FROM_STACK" $(STACK_DIR)/stack.json)"; \
	  BACKUP_DIR=$(BACKUP_DIR) BACKUP_KEEP_DAYS=$(BACKUP_KEEP_DAYS) PG_BIN=$(PG_BIN) sh ops/pg-backup.sh once

restore: ## restore the newest dump in .run/backups (or FILE=…) into the `make up` database, in one transaction
	@test -f $(STACK_DIR)/stack.json || { echo "no stack in $(STACK_DIR): run make up first" >&2; exit 1; }
	@file="$(FILE)"; if [ -z "$$file" ]; then file=$$(BACKUP_DIR=$(BACKUP_DIR) sh ops/pg-backup.sh list | tail -n 1); fi; \
	  test -n "$$file" || { echo "no dump in $(BACKUP_DIR): run make backup first" >&2; exit 1; }; \
	  eval "$$($(PYTHON) -c "$$PG_ENV_FROM_STACK" $(STACK_DIR)/stack.json)"; \
	  PG_BIN=$(PG_BIN) sh ops/pg-backup.sh restore "$$file"
