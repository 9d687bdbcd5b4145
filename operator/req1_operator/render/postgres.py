"""PostgreSQL: a primary StatefulSet, a replica StatefulSet (streaming standbys), and Services by role.

Pods carry two labels: `req1.io/set` (which StatefulSet owns them, part of the immutable selector) and
`req1.io/role` (primary|replica, what the Services select). Failover only has to promote a standby and move
the role label; no selector changes. Every pod is reachable as `<pod>.<name>-postgres-headless`.
"""

from __future__ import annotations

from typing import Any

from req1_operator.render import config, names, pod
from req1_operator.render.types import RenderInput

UID = 999  # the postgres user of the official (Debian) image
LABEL_SET = "req1.io/set"
CONFIG_MOUNT = config.PG_CONFIG_DIR


def _env(inp: RenderInput) -> list[dict[str, Any]]:
    n = inp.name
    return [
        pod.field_env("POD_NAME", "metadata.name"),
        {"name": "PGDATA", "value": config.PGDATA},
        pod.secret_env("POSTGRES_USER", names.postgres_superuser_secret(n), "username"),
        pod.secret_env("POSTGRES_PASSWORD", names.postgres_superuser_secret(n), "password"),
        pod.secret_env("REQ1_APP_USER", names.postgres_app_secret(n), "username"),
        pod.secret_env("REQ1_APP_PASSWORD", names.postgres_app_secret(n), "password"),
        pod.secret_env("REQ1_APP_DATABASE", names.postgres_app_secret(n), "database"),
        pod.secret_env("REQ1_REPLICATION_USER", names.postgres_replication_secret(n), "username"),
        pod.secret_env("REQ1_REPLICATION_PASSWORD", names.postgres_replication_secret(n), "password"),
    ]


def _mounts() -> list[dict[str, Any]]:
    return [
        {"name": "data", "mountPath": config.PG_DATA_MOUNT},
        {"name": "config", "mountPath": CONFIG_MOUNT, "readOnly": True},
        {"name": "run", "mountPath": "/var/run/postgresql"},
        {"name": "tmp", "mountPath": "/tmp"},
        {"name": "shm", "mountPath": "/dev/shm"},
    ]


def _probe(failure_threshold: int, period: int) -> dict[str, Any]:
    return {
        "exec": {"command": ["pg_isready", "-h", "127.0.0.1", "-p", str(config.PG_PORT), "-q"]},
        "periodSeconds": period,
        "timeoutSeconds": 5,
        "failureThreshold": failure_threshold,
    }


def _postgres_container(inp: RenderInput) -> dict[str, Any]:
    pg = inp.spec.postgres
    return {
        "name": "postgres",
        "image": pg.effective_image,
        "imagePullPolicy": inp.spec.image_pull_policy,
        # cluster_name doubles as the standby's application_name in pg_stat_replication (the pod name).
        "args": ["postgres", "-c", f"config_file={CONFIG_MOUNT}/postgresql.conf", "-c", "cluster_name=$(POD_NAME)"],
        "env": _env(inp),
        "ports": [{"name": "postgres", "containerPort": config.PG_PORT, "protocol": "TCP"}],
        "resources": pod.resources(pg.resources),
        "securityContext": pod.container_security(),
        "volumeMounts": _mounts(),
        "startupProbe": _probe(failure_threshold=360, period=5),
        "livenessProbe": _probe(failure_threshold=6, period=10),
        "readinessProbe": _probe(failure_threshold=3, period=5),
    }


def _volumes(primary: bool) -> list[dict[str, Any]]:
    vols: list[dict[str, Any]] = [
        {"name": "config", "configMap": {"name": "", "defaultMode": 0o555}},
        {"name": "run", "emptyDir": {}},
        pod.tmp_volume(),
        {"name": "shm", "emptyDir": {"medium": "Memory", "sizeLimit": "256Mi"}},
    ]
    if primary:
        vols.append(
            {
                "name": "initdb",
                "configMap": {
                    "name": "",
                    "defaultMode": 0o555,
                    "items": [{"key": "init-roles.sh", "path": "init-roles.sh"}],
                },
            }
        )
    return vols


def _statefulset(inp: RenderInput, role: str) -> dict[str, Any]:
    n = inp.name
    pg = inp.spec.postgres
    primary = role == names.ROLE_PRIMARY
    name = names.postgres_primary(n) if primary else names.postgres_replica(n)
    sel = {**names.selector(inp, names.POSTGRES), LABEL_SET: role}
    pod_labels = {**names.labels(inp, names.POSTGRES), LABEL_SET: role, names.LABEL_ROLE: role}
    container = _postgres_container(inp)
    volumes = _volumes(primary)
    for vol in volumes:
        if "configMap" in vol:
            vol["configMap"]["name"] = names.postgres_config(n)
    init_containers: list[dict[str, Any]] = []
    if primary:
        container["volumeMounts"].append(
            {"name": "initdb", "mountPath": "/docker-entrypoint-initdb.d", "readOnly": True}
        )
    else:
        init_containers.append(
            {
                "name": "bootstrap-standby",
                "image": pg.effective_image,
                "imagePullPolicy": inp.spec.image_pull_policy,
                "command": ["sh", f"{CONFIG_MOUNT}/replica-bootstrap.sh"],
                "env": [
                    *_env(inp),
                    {"name": "PRIMARY_HOST", "value": f"{names.postgres_primary(n)}.{inp.namespace}.svc"},
                    {"name": "PRIMARY_PORT", "value": str(config.PG_PORT)},
                ],
                "resources": pod.resources(pg.resources),
                "securityContext": pod.container_security(),
                "volumeMounts": _mounts(),
            }
        )
    pod_spec: dict[str, Any] = {
        **pod.base(inp),
        "securityContext": pod.pod_security(UID),
        "terminationGracePeriodSeconds": 60,
        "topologySpreadConstraints": pod.topology_spread(names.selector(inp, names.POSTGRES)),
        "containers": [container],
        "volumes": volumes,
    }
    if init_containers:
        pod_spec["initContainers"] = init_containers
    labels = names.labels(inp, names.POSTGRES)
    meta = names.metadata(inp, name, names.POSTGRES, **{LABEL_SET: role})
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": meta,
        "spec": {
            "replicas": 1 if primary else pg.replicas,
            "serviceName": names.postgres_headless(n),
            "podManagementPolicy": "OrderedReady",
            "updateStrategy": {"type": "RollingUpdate"},
            "persistentVolumeClaimRetentionPolicy": pod.pvc_retention(inp.spec.deletion_policy),
            "selector": {"matchLabels": sel},
            "template": {
                "metadata": {
                    "labels": pod_labels,
                    "annotations": {
                        names.ANNOTATION_CONFIG_CHECKSUM: names.checksum(config.postgres_data(inp)),
                    },
                },
                "spec": pod_spec,
            },
            "volumeClaimTemplates": [
                pod.pvc_template("data", pg.storage.size, pg.storage.storage_class_name, labels),
            ],
        },
    }


def render_primary(inp: RenderInput) -> dict[str, Any]:
    return _statefulset(inp, names.ROLE_PRIMARY)


def render_replica(inp: RenderInput) -> dict[str, Any]:
    """Rendered even with 0 replicas, so scaling to zero keeps the StatefulSet (and its PVCs) around."""
    return _statefulset(inp, names.ROLE_REPLICA)


def _service(inp: RenderInput, name: str, selector: dict[str, str], headless: bool = False) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "type": "ClusterIP",
        "selector": selector,
        "ports": [{"name": "postgres", "port": config.PG_PORT, "targetPort": "postgres", "protocol": "TCP"}],
    }
    if headless:
        spec["clusterIP"] = "None"
        spec["publishNotReadyAddresses"] = True
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": names.metadata(inp, name, names.POSTGRES),
        "spec": spec,
    }


def render_services(inp: RenderInput) -> list[dict[str, Any]]:
    n = inp.name
    base = names.selector(inp, names.POSTGRES)
    return [
        _service(inp, names.postgres_headless(n), base, headless=True),
        _service(inp, names.postgres_primary(n), {**base, names.LABEL_ROLE: names.ROLE_PRIMARY}),
        _service(inp, names.postgres_replica(n), {**base, names.LABEL_ROLE: names.ROLE_REPLICA}),
    ]


def render(inp: RenderInput) -> list[dict[str, Any]]:
    return [*render_services(inp), render_primary(inp), render_replica(inp)]
