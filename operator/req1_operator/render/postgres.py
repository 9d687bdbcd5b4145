"""PostgreSQL: one StatefulSet of instance-manager pods, the manager's RBAC, Services by role, the primary's PDB.

Every pod runs `req1-instance-manager` (docs/postgres-ha.md) and is the same: which one is primary is decided by
the operator (`status.targetPrimary`) and confirmed by the manager in its pod's annotation. The operator then sets
the `req1.io/role` label that the `-rw`/`-ro` Services select. The label is never part of the template, so a
recreated pod never brings a stale role back.
"""

from __future__ import annotations

from typing import Any

from req1_operator.render import backup, config, names, pod
from req1_operator.render.types import RenderInput

UID = 999  # the postgres user of the official (Debian) image
MANAGER_PORT = 8010
LEASE_SECONDS = 10
#: The previous layout's pod label (part of its StatefulSets' immutable selectors); its presence marks a legacy
#: StatefulSet that the migration replaces.
LEGACY_LABEL_SET = "req1.io/set"

#: Exactly the access docs/postgres-ha.md lists for the instance manager.
MANAGER_RULES: list[dict[str, Any]] = [
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "patch"]},
    {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["get", "create", "update"]},
    {"apiGroups": ["req1.io"], "resources": ["req1instances"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["apps"], "resources": ["statefulsets"], "verbs": ["get"]},
]


def members(inp: RenderInput) -> int:
    """Pods of the StatefulSet: one primary plus `postgres.replicas` standbys."""
    return 1 + inp.spec.postgres.replicas


def env(inp: RenderInput) -> list[dict[str, Any]]:
    """The manager's environment (docs/postgres-ha.md, "Environment"); secrets stay in their Secrets."""
    n, ns = inp.name, inp.namespace
    return [
        pod.field_env("POD_NAME", "metadata.name"),
        pod.field_env("POD_NAMESPACE", "metadata.namespace"),
        {"name": "REQ1_INSTANCE", "value": n},
        {"name": "PGDATA", "value": config.PGDATA},
        {"name": "REQ1_PG_CONFIG_DIR", "value": config.PG_CONFIG_DIR},
        {"name": "REQ1_PRIMARY_SERVICE", "value": f"{names.postgres_rw(n)}.{ns}.svc"},
        {"name": "REQ1_LEASE_SECONDS", "value": str(LEASE_SECONDS)},
        {"name": "REQ1_MANAGER_PORT", "value": str(MANAGER_PORT)},
        pod.secret_env("POSTGRES_USER", names.postgres_superuser_secret(n), "username"),
        pod.secret_env("POSTGRES_PASSWORD", names.postgres_superuser_secret(n), "password"),
        pod.secret_env("REQ1_APP_USER", names.postgres_app_secret(n), "username"),
        pod.secret_env("REQ1_APP_PASSWORD", names.postgres_app_secret(n), "password"),
        pod.secret_env("REQ1_APP_DATABASE", names.postgres_app_secret(n), "database"),
        pod.secret_env("REQ1_REPLICATION_USER", names.postgres_replication_secret(n), "username"),
        pod.secret_env("REQ1_REPLICATION_PASSWORD", names.postgres_replication_secret(n), "password"),
        *backup.env(inp),  # WAL archiving, base backups, a restore at creation (docs/backups.md)
    ]


def _mounts() -> list[dict[str, Any]]:
    return [
        {"name": "data", "mountPath": config.PG_DATA_MOUNT},
        {"name": "config", "mountPath": config.PG_CONFIG_DIR, "readOnly": True},
        {"name": "run", "mountPath": "/var/run/postgresql"},
        {"name": "tmp", "mountPath": "/tmp"},
        {"name": "shm", "mountPath": "/dev/shm"},
    ]


def _probe(path: str, failure_threshold: int, period: int) -> dict[str, Any]:
    return {
        "httpGet": {"path": path, "port": "manager"},
        "periodSeconds": period,
        "timeoutSeconds": 2,
        "failureThreshold": failure_threshold,
    }


def _container(inp: RenderInput) -> dict[str, Any]:
    """The manager is PID 1 and starts `postgres` itself, so the container needs no command or args."""
    return {
        "name": "postgres",
        "image": inp.spec.postgres_image,
        "imagePullPolicy": inp.spec.image_pull_policy,
        "env": env(inp),
        "ports": [
            {"name": "postgres", "containerPort": config.PG_PORT, "protocol": "TCP"},
            {"name": "manager", "containerPort": MANAGER_PORT, "protocol": "TCP"},
        ],
        "resources": pod.resources(inp.spec.postgres.resources),
        "securityContext": pod.container_security(),
        "volumeMounts": _mounts(),
        # /healthz is 200 through bootstrap, clone, rewind and waiting: only a manager that gave up restarts.
        "livenessProbe": _probe("/healthz", failure_threshold=3, period=10),
        # /readyz: a primary that holds the Lease, a replica that streams; Services route only to ready pods.
        "readinessProbe": _probe("/readyz", failure_threshold=1, period=1),
    }


def _volumes(inp: RenderInput) -> list[dict[str, Any]]:
    return [
        {"name": "config", "configMap": {"name": names.postgres_config(inp.name), "defaultMode": 0o555}},
        {"name": "run", "emptyDir": {}},
        pod.tmp_volume(),
        {"name": "shm", "emptyDir": {"medium": "Memory", "sizeLimit": "256Mi"}},
    ]


def render_statefulset(inp: RenderInput) -> dict[str, Any]:
    """The PostgreSQL StatefulSet: pods -0..n alike; no role anywhere in the template.

    Parallel pod management: a replica must be able to start (and clone) while another ordinal is down, which
    OrderedReady would forbid after a failover away from -0. `OnDelete` updates: the controller would roll by
    ordinal and restart the primary wherever it is; the operator deletes the pods itself, replicas first, then
    switches over and restarts the old primary (rolling.py).
    """
    n = inp.name
    pg = inp.spec.postgres
    labels = names.labels(inp, names.POSTGRES)
    pod_spec: dict[str, Any] = {
        **pod.base(inp),
        "serviceAccountName": names.postgres(n),
        "automountServiceAccountToken": True,  # the manager talks to the API server (Lease, its annotation)
        "securityContext": pod.pod_security(UID),
        "terminationGracePeriodSeconds": 60,
        "topologySpreadConstraints": pod.topology_spread(names.selector(inp, names.POSTGRES)),
        "containers": [_container(inp)],
        "volumes": _volumes(inp),
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": names.metadata(inp, names.postgres(n), names.POSTGRES),
        "spec": {
            "replicas": members(inp),
            "serviceName": names.postgres_headless(n),
            "podManagementPolicy": "Parallel",
            "updateStrategy": {"type": "OnDelete"},
            "persistentVolumeClaimRetentionPolicy": pod.pvc_retention(inp.spec.deletion_policy),
            "selector": {"matchLabels": names.selector(inp, names.POSTGRES)},
            "template": {
                "metadata": {
                    "labels": dict(labels),
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


def render_rbac(inp: RenderInput) -> list[dict[str, Any]]:
    """ServiceAccount, Role and RoleBinding of the managers, all named `<name>-postgres`."""
    n = names.postgres(inp.name)
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": names.metadata(inp, n, names.POSTGRES)},
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": names.metadata(inp, n, names.POSTGRES),
            "rules": [dict(r) for r in MANAGER_RULES],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": names.metadata(inp, n, names.POSTGRES),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": n},
            "subjects": [{"kind": "ServiceAccount", "name": n, "namespace": inp.namespace}],
        },
    ]


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
        _service(inp, names.postgres_rw(n), {**base, names.LABEL_ROLE: names.ROLE_PRIMARY}),
        _service(inp, names.postgres_ro(n), {**base, names.LABEL_ROLE: names.ROLE_REPLICA}),
    ]


def render_primary_pdb(inp: RenderInput) -> dict[str, Any]:
    """No voluntary eviction of the primary: a drain waits until a switchover has moved the role away."""
    sel = {**names.selector(inp, names.POSTGRES), names.LABEL_ROLE: names.ROLE_PRIMARY}
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": names.metadata(inp, names.postgres_primary_pdb(inp.name), names.POSTGRES),
        "spec": {"minAvailable": 1, "selector": {"matchLabels": sel}},
    }


def render(inp: RenderInput) -> list[dict[str, Any]]:
    return [*render_rbac(inp), *render_services(inp), render_statefulset(inp), render_primary_pdb(inp)]
