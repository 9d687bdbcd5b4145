"""ConfigMaps: the API's non-secret environment, postgresql.conf/pg_hba.conf plus the WAL hook, redis.conf.

Each renderer here also exposes the data it renders so workloads can hash it into a pod-template annotation:
a configuration change then rolls the pods that read it.
"""

from __future__ import annotations

from typing import Any

from req1_operator.render import names
from req1_operator.render.types import RenderInput

PG_PORT = 5432
REDIS_PORT = 6379
S3_PORT = 8333
API_PORT = 8080

PG_CONFIG_DIR = "/etc/req1/postgres"
PG_DATA_MOUNT = "/var/lib/postgresql/data"
PGDATA = f"{PG_DATA_MOUNT}/pgdata"


def _configmap(inp: RenderInput, name: str, component: str, data: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": names.metadata(inp, name, component),
        "data": dict(sorted(data.items())),
    }


# ---------------------------------------------------------------------------------------------- api


def s3_endpoint(inp: RenderInput) -> str:
    ext = inp.spec.storage.external
    if ext is not None:
        return ext.endpoint
    return f"http://{names.seaweedfs_filer(inp.name)}.{inp.namespace}.svc:{S3_PORT}"


def api_data(inp: RenderInput) -> dict[str, str]:
    """Non-secret API settings (spec §6.1)."""
    spec = inp.spec
    ext = spec.storage.external
    data = {
        "APP_ENV": "production",
        "REGISTRATION_ENABLED": "false",  # self-registration is opt-in (api.extraEnv)
        "RUN_MIGRATIONS": "false",
        "LOG_FORMAT": "json",
        "LISTEN_ADDR": f"0.0.0.0:{API_PORT}",
        "TRUST_PROXY": "true" if spec.ingress.enabled else "false",
        "ADMIN_EMAIL": spec.api.admin_email,
        "S3_ENDPOINT": s3_endpoint(inp),
        "S3_BUCKET": ext.bucket if ext is not None else spec.storage.bucket,
        "S3_REGION": ext.region if ext is not None else "us-east-1",
    }
    if spec.api.cors_origin:
        data["CORS_ORIGIN"] = spec.api.cors_origin
    return data


def render_api(inp: RenderInput) -> dict[str, Any]:
    return _configmap(inp, names.api_config(inp.name), names.API, api_data(inp))


# ---------------------------------------------------------------------------------------------- postgres


def postgres_parameters(inp: RenderInput) -> dict[str, str]:
    """postgresql.conf settings: operator-managed ones win; WAL archiving is on, the hook script decides."""
    pg = inp.spec.postgres
    params: dict[str, str] = {
        "max_connections": str(pg.max_connections),
        "shared_buffers": "128MB",
        "password_encryption": "scram-sha-256",
        "log_destination": "stderr",
        "log_min_duration_statement": "1000",
    }
    params.update(pg.parameters)
    params.update(
        {
            "listen_addresses": "'*'",
            "port": str(PG_PORT),
            "hba_file": f"'{PG_CONFIG_DIR}/pg_hba.conf'",
            "wal_level": "replica",
            "hot_standby": "on",
            "max_wal_senders": str(max(10, pg.replicas + 5)),
            "max_replication_slots": str(max(10, pg.replicas + 5)),
            "wal_keep_size": "1GB",
            "wal_log_hints": "on",
            # A primary lost with its node or network sends no FIN: without these a standby would keep "streaming"
            # from it for the default 60 s and not follow the new primary (which, in required mode, waits for it).
            "wal_receiver_timeout": "5s",
            "wal_sender_timeout": "5s",
            # Archiving is always on (changing archive_mode needs a restart). The instance manager sets the real
            # archive_command in postgresql.auto.conf (barman-cloud-wal-archive when REQ1_BACKUP_DESTINATION is
            # set, docs/backups.md); this hook is the fallback for a server started without the manager.
            "archive_mode": "on",
            "archive_command": f"'{PG_CONFIG_DIR}/archive-wal.sh %p %f'",
            "archive_timeout": "300",
            # The instance manager owns the live value (postgresql.auto.conf wins); this is its starting point.
            "synchronous_standby_names": "'ANY 1 (*)'" if pg.synchronous_mode == "required" else "''",
        }
    )
    return params


def _quote(value: str) -> str:
    """Single-quote a postgresql.conf value (valid for every setting type)."""
    if len(value) >= 2 and value.startswith("'") and value.endswith("'"):
        return value
    return "'" + value.replace("'", "''") + "'"


def postgresql_conf(inp: RenderInput) -> str:
    lines = ["# Rendered by req1-operator; edit spec.postgres.parameters instead."]
    lines += [f"{k} = {_quote(v)}" for k, v in sorted(postgres_parameters(inp).items())]
    return "\n".join(lines) + "\n"


#: `replication all`: the replication role is whatever REQ1_REPLICATION_USER names (a user-owned Secret may pick
#: another name); only roles with the REPLICATION attribute can use these lines at all.
PG_HBA = """# Rendered by req1-operator.
local   all          all                       trust
host    all          all          127.0.0.1/32 trust
host    all          all          ::1/128      trust
host    replication  all          0.0.0.0/0    scram-sha-256
host    replication  all          ::/0         scram-sha-256
host    all          all          0.0.0.0/0    scram-sha-256
host    all          all          ::/0         scram-sha-256
"""

#: archive_command fallback (the instance manager normally sets its own, see docs/backups.md). With a backup
#: destination it archives with barman-cloud-wal-archive and fails (PostgreSQL keeps the segment) when that fails;
#: without one it says so and lets the segment go: backups are off, there is nowhere to keep WAL for.
ARCHIVE_WAL_SH = """#!/bin/sh
# Rendered by req1-operator: WAL archiving hook (%p = $1, %f = $2).
set -eu
if [ -z "${REQ1_BACKUP_DESTINATION:-}" ]; then
  echo "archive-wal: backups are off (no REQ1_BACKUP_DESTINATION): $2 is not archived" >&2
  exit 0
fi
set -- "$1" "$2" "${REQ1_BACKUP_DESTINATION%/}/${POD_NAMESPACE:?}" "${REQ1_INSTANCE:?}"
if [ -n "${REQ1_BACKUP_ENDPOINT_URL:-}" ]; then
  exec barman-cloud-wal-archive --cloud-provider aws-s3 --endpoint-url "$REQ1_BACKUP_ENDPOINT_URL" --gzip "$3" "$4" "$1"
fi
exec barman-cloud-wal-archive --cloud-provider aws-s3 --gzip "$3" "$4" "$1"
"""


def postgres_data(inp: RenderInput) -> dict[str, str]:
    return {
        "postgresql.conf": postgresql_conf(inp),
        "pg_hba.conf": PG_HBA,
        "archive-wal.sh": ARCHIVE_WAL_SH,
    }


def render_postgres(inp: RenderInput) -> dict[str, Any]:
    return _configmap(inp, names.postgres_config(inp.name), names.POSTGRES, postgres_data(inp))


# ---------------------------------------------------------------------------------------------- redis


def redis_conf(inp: RenderInput) -> str:
    lines = [
        "# Rendered by req1-operator.",
        f"port {REDIS_PORT}",
        "bind * -::*",
        "protected-mode no",
        "dir /data",
        "maxmemory-policy noeviction",
    ]
    if inp.spec.redis.persistence:
        lines += ["appendonly yes", "appendfsync everysec", 'save "3600 1 300 100 60 10000"']
    else:
        lines += ["appendonly no", 'save ""']
    return "\n".join(lines) + "\n"


def redis_data(inp: RenderInput) -> dict[str, str]:
    return {"redis.conf": redis_conf(inp)}


def render_redis(inp: RenderInput) -> dict[str, Any]:
    return _configmap(inp, names.redis_config(inp.name), names.REDIS, redis_data(inp))


def render(inp: RenderInput) -> list[dict[str, Any]]:
    return [render_api(inp), render_postgres(inp), render_redis(inp)]
