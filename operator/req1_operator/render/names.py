"""Object names and labels of every child, in one place so the runtime, status and tests agree."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from req1_operator.render.types import RenderInput
from req1_operator.roles import LABEL_ROLE, ROLE_PRIMARY, ROLE_REPLICA, role_label  # noqa: F401 - re-exported

LABEL_NAME = "app.kubernetes.io/name"
LABEL_INSTANCE = "app.kubernetes.io/instance"
LABEL_COMPONENT = "app.kubernetes.io/component"
LABEL_MANAGED_BY = "app.kubernetes.io/managed-by"
LABEL_VERSION = "app.kubernetes.io/version"
#: Pods carrying this label may open connections to PostgreSQL (API, migrate Job, later backup Jobs).
LABEL_DB_CLIENT = "req1.io/db-client"
MANAGED_BY = "req1-operator"
APP = "req1"

ANNOTATION_CONFIG_CHECKSUM = "req1.io/config-checksum"
ANNOTATION_VERSION = "req1.io/version"
#: What each PostgreSQL pod's instance manager reports (JSON, docs/postgres-ha.md).
ANNOTATION_INSTANCE_STATUS = "req1.io/instance-status"

# Components (the app.kubernetes.io/component values).
API = "api"
MIGRATE = "migrate"
POSTGRES = "postgres"
REDIS = "redis"
SEAWEEDFS = "seaweedfs"
SEAWEEDFS_MASTER = "seaweedfs-master"
SEAWEEDFS_VOLUME = "seaweedfs-volume"
SEAWEEDFS_FILER = "seaweedfs-filer"
INGRESS = "ingress"
MONITORING = "monitoring"
SECRETS = "secrets"


def labels(inp: RenderInput, component: str) -> dict[str, str]:
    """The labels every child carries (contract)."""
    return {
        LABEL_NAME: APP,
        LABEL_INSTANCE: inp.name,
        LABEL_COMPONENT: component,
        LABEL_MANAGED_BY: MANAGED_BY,
    }


def selector(inp: RenderInput, component: str) -> dict[str, str]:
    """Immutable pod selector labels (no version, no role) of a component."""
    return {LABEL_NAME: APP, LABEL_INSTANCE: inp.name, LABEL_COMPONENT: component}


def selector_string(sel: dict[str, str]) -> str:
    """`k=v,k=v` form, e.g. for status.api.selector (the /scale labelSelectorPath)."""
    return ",".join(f"{k}={v}" for k, v in sorted(sel.items()))


def api_pod_selector(name: str) -> str:
    """Label selector string of an instance's API pods: what status.api.selector (the /scale labelSelectorPath)
    must hold for an HPA or `kubectl scale` aimed at the Req1Instance itself."""
    return selector_string({LABEL_NAME: APP, LABEL_INSTANCE: name, LABEL_COMPONENT: API})


def metadata(inp: RenderInput, name: str, component: str, **extra_labels: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": inp.namespace, "labels": labels(inp, component)}
    meta["labels"].update(extra_labels)
    return meta


def checksum(*parts: Any) -> str:
    """sha256 of canonical JSON; used to roll pods when their configuration changes."""
    data = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str).encode()
    return hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------------------------------------- names


def api(name: str) -> str:
    return f"{name}-api"


def api_config(name: str) -> str:
    return f"{name}-api"


def api_secret(name: str) -> str:
    return f"{name}-api"


def migrate_job(name: str, version: str, image: str) -> str:
    """`<name>-migrate-<version>-<hash of image>`: a new version or image means a new Job, run before rollout."""
    digest = hashlib.sha256(f"{version}\n{image}".encode()).hexdigest()[:8]
    room = 63 - len(f"{name}-migrate--{digest}")  # the Job name becomes a (63-char) pod label value
    ver = re.sub(r"[^a-z0-9]+", "-", version.lower()).strip("-")[: max(room, 0)].strip("-")
    return f"{name}-migrate-{ver}-{digest}" if ver else f"{name}-migrate-{digest}"


def ingress(name: str) -> str:
    return name


def ingress_assets(name: str) -> str:
    return f"{name}-assets"


def postgres(name: str) -> str:
    """The one PostgreSQL StatefulSet (pods `<name>-postgres-N`), its ServiceAccount, Role and RoleBinding.

    The name is the old primary StatefulSet's, so pod -0 of the new layout reuses the old primary's claim
    `data-<name>-postgres-0` after a migration."""
    return f"{name}-postgres"


def postgres_pod(name: str, ordinal: int) -> str:
    return f"{postgres(name)}-{ordinal}"


def postgres_rw(name: str) -> str:
    """The Service selecting the pod labelled role=primary (DATABASE_URL, what replicas stream from)."""
    return f"{name}-postgres-rw"


def postgres_ro(name: str) -> str:
    """The Service selecting pods labelled role=replica (DATABASE_REPLICA_URL)."""
    return f"{name}-postgres-ro"


def postgres_lease(name: str) -> str:
    """The Lease the primary's instance manager holds (docs/postgres-ha.md)."""
    return f"{name}-postgres-primary"


def postgres_primary_pdb(name: str) -> str:
    return f"{name}-postgres-primary"


def legacy_postgres_replica(name: str) -> str:
    """The replica StatefulSet and Service of the two-StatefulSet layout (removed by the migration)."""
    return f"{name}-postgres-replica"


def postgres_headless(name: str) -> str:
    """Governing headless Service of the StatefulSet: stable per-pod DNS names."""
    return f"{name}-postgres-headless"


def postgres_config(name: str) -> str:
    return f"{name}-postgres"


def postgres_superuser_secret(name: str) -> str:
    return f"{name}-postgres-superuser"


def postgres_app_secret(name: str) -> str:
    return f"{name}-postgres-app"


def postgres_replication_secret(name: str) -> str:
    return f"{name}-postgres-replication"


def redis(name: str) -> str:
    return f"{name}-redis"


def redis_secret(name: str) -> str:
    return f"{name}-redis"


def redis_config(name: str) -> str:
    return f"{name}-redis"


def seaweedfs_master(name: str) -> str:
    return f"{name}-seaweedfs-master"


def seaweedfs_volume(name: str) -> str:
    return f"{name}-seaweedfs-volume"


def seaweedfs_filer(name: str) -> str:
    return f"{name}-seaweedfs-filer"


def seaweedfs_s3_secret(name: str) -> str:
    return f"{name}-seaweedfs-s3"


def seaweedfs_bucket_job(name: str) -> str:
    return f"{name}-seaweedfs-bucket"


def network_policy(name: str, component: str) -> str:
    return f"{name}-{component}"


def service_monitor(name: str) -> str:
    return f"{name}-api"


def all_secret_names(name: str) -> list[str]:
    """Every Secret the operator may generate for an instance (the apply layer reads which exist)."""
    return [
        api_secret(name),
        postgres_superuser_secret(name),
        postgres_app_secret(name),
        postgres_replication_secret(name),
        redis_secret(name),
        seaweedfs_s3_secret(name),
    ]
