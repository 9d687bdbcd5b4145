"""The API: Deployment, Service, the `req1-server migrate` Job, HPA and PodDisruptionBudget."""

from __future__ import annotations

from typing import Any

from req1_operator.render import config, names, pod
from req1_operator.render.types import RenderInput

UID = 1000
READY_TOLERANCE_SECONDS = 30


def env(inp: RenderInput) -> list[dict[str, Any]]:
    """Secret-backed environment of the API and migrate containers (the rest comes from the ConfigMap).

    Connection URLs are assembled with Kubernetes `$(VAR)` expansion from variables defined earlier in the list,
    so the passwords stay in their Secrets.
    """
    n, ns = inp.name, inp.namespace
    app_secret = names.postgres_app_secret(n)
    out = [
        pod.secret_env("REQ1_DB_USER", app_secret, "username"),
        pod.secret_env("REQ1_DB_PASSWORD", app_secret, "password"),
        pod.secret_env("REQ1_DB_NAME", app_secret, "database"),
        {
            "name": "DATABASE_URL",
            "value": f"postgresql://$(REQ1_DB_USER):$(REQ1_DB_PASSWORD)@{names.postgres_rw(n)}.{ns}.svc:"
            f"{config.PG_PORT}/$(REQ1_DB_NAME)",
        },
    ]
    if inp.spec.postgres.replicas > 0:
        out.append(
            {
                "name": "DATABASE_REPLICA_URL",
                "value": f"postgresql://$(REQ1_DB_USER):$(REQ1_DB_PASSWORD)@{names.postgres_ro(n)}.{ns}.svc:"
                f"{config.PG_PORT}/$(REQ1_DB_NAME)",
            }
        )
    out += [
        pod.secret_env("REQ1_REDIS_PASSWORD", names.redis_secret(n), "password"),
        {
            "name": "REDIS_URL",
            "value": f"redis://:$(REQ1_REDIS_PASSWORD)@{names.redis(n)}.{ns}.svc:{config.REDIS_PORT}/0",
        },
    ]
    ext = inp.spec.storage.external
    s3_secret = ext.secret_name if ext is not None else names.seaweedfs_s3_secret(n)
    out += [
        pod.secret_env("S3_ACCESS_KEY", s3_secret, "accessKey"),
        pod.secret_env("S3_SECRET_KEY", s3_secret, "secretKey"),
        pod.secret_env("JWT_SECRET", names.api_secret(n), "jwt-secret"),
        pod.secret_env("ADMIN_PASSWORD", names.api_secret(n), "admin-password"),
        {"name": "WEB_WORKERS", "valueFrom": {"resourceFieldRef": {  # a worker process per CPU, rounded up (#16)
            "resource": "limits.cpu" if inp.spec.api.resources.limits.cpu else "requests.cpu", "divisor": "1"}}},
    ]
    for extra in inp.spec.api.extra_env:
        if extra.secret_key_ref is not None:
            out.append(pod.secret_env(extra.name, extra.secret_key_ref.name, extra.secret_key_ref.key))
        else:
            out.append({"name": extra.name, "value": extra.value or ""})
    return out


def config_checksum(inp: RenderInput) -> str:
    """Hash of everything configuring the API pods except the image, so a change rolls them."""
    return names.checksum(config.api_data(inp), env(inp))


def _container(inp: RenderInput, name: str, args: list[str]) -> dict[str, Any]:
    return {
        "name": name,
        "image": inp.spec.effective_image,
        "imagePullPolicy": inp.spec.image_pull_policy,
        "command": ["req1-server", *args],
        "envFrom": [{"configMapRef": {"name": names.api_config(inp.name)}}],
        "env": env(inp),
        "resources": pod.resources(inp.spec.api.resources),
        "securityContext": pod.container_security(),
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }


def _pod_labels(inp: RenderInput, component: str) -> dict[str, str]:
    return {
        **names.labels(inp, component),
        names.LABEL_VERSION: inp.spec.version,
        names.LABEL_DB_CLIENT: "true",
    }


def _pod_spec(inp: RenderInput, containers: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        **pod.base(inp),
        "securityContext": pod.pod_security(UID),
        "containers": containers,
        "volumes": [pod.tmp_volume()],
    }


def render_deployment(inp: RenderInput) -> dict[str, Any]:
    spec = inp.spec
    sel = names.selector(inp, names.API)
    container = _container(inp, "api", ["serve"])
    container["ports"] = [{"name": "http", "containerPort": config.API_PORT, "protocol": "TCP"}]
    container["startupProbe"] = {
        "httpGet": {"path": "/health/live", "port": "http"},
        "periodSeconds": 2,
        "failureThreshold": 60,
    }
    container["livenessProbe"] = {
        "httpGet": {"path": "/health/live", "port": "http"},
        "periodSeconds": 10,
        "timeoutSeconds": 3,
        "failureThreshold": 3,
    }
    # /health/ready fails while the PostgreSQL primary does not answer. A failover or switchover takes seconds, and
    # during it reads still work from replicas and writes get 503 + Retry-After: so only an outage longer than
    # READY_TOLERANCE_SECONDS takes API pods out of their Service (issue #9).
    container["readinessProbe"] = {
        "httpGet": {"path": "/health/ready", "port": "http"},
        "periodSeconds": 5,
        "timeoutSeconds": 3,
        "failureThreshold": READY_TOLERANCE_SECONDS // 5,
    }
    pod_spec = _pod_spec(inp, [container])
    # The server drains for SHUTDOWN_TIMEOUT_SECONDS (25) after SIGTERM.
    pod_spec["terminationGracePeriodSeconds"] = 35
    pod_spec["topologySpreadConstraints"] = pod.topology_spread(sel)
    deploy_spec: dict[str, Any] = {
        "selector": {"matchLabels": sel},
        "revisionHistoryLimit": 5,
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
        "template": {
            "metadata": {
                "labels": _pod_labels(inp, names.API),
                "annotations": {names.ANNOTATION_CONFIG_CHECKSUM: config_checksum(inp)},
            },
            "spec": pod_spec,
        },
    }
    if not spec.api.autoscaling.enabled:
        # With an HPA the Deployment's replicas belong to the HPA: never send the field, so no fight.
        deploy_spec["replicas"] = spec.api.replicas
    meta = names.metadata(inp, names.api(inp.name), names.API, **{names.LABEL_VERSION: spec.version})
    meta["annotations"] = {names.ANNOTATION_VERSION: spec.version}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta, "spec": deploy_spec}


def render_migrate_job(inp: RenderInput) -> dict[str, Any]:
    """`req1-server migrate` for this version and image; the runtime waits for it before rolling the API."""
    spec = inp.spec
    name = names.migrate_job(inp.name, spec.version, spec.effective_image)
    pod_spec = _pod_spec(inp, [_container(inp, "migrate", ["migrate"])])
    pod_spec["restartPolicy"] = "Never"
    meta = names.metadata(inp, name, names.MIGRATE, **{names.LABEL_VERSION: spec.version})
    meta["annotations"] = {names.ANNOTATION_VERSION: spec.version}
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": meta,
        "spec": {
            "backoffLimit": 4,
            "activeDeadlineSeconds": 3600,
            "template": {"metadata": {"labels": _pod_labels(inp, names.MIGRATE)}, "spec": pod_spec},
        },
    }


def render_service(inp: RenderInput) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": names.metadata(inp, names.api(inp.name), names.API),
        "spec": {
            "type": "ClusterIP",
            "selector": names.selector(inp, names.API),
            "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
        },
    }


def render_hpa(inp: RenderInput) -> dict[str, Any] | None:
    auto = inp.spec.api.autoscaling
    if not auto.enabled:
        return None
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": names.metadata(inp, names.api(inp.name), names.API),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": names.api(inp.name)},
            "minReplicas": auto.min_replicas,
            "maxReplicas": auto.max_replicas,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": auto.target_cpu_utilization_percentage},
                    },
                }
            ],
        },
    }


def render_pdb(inp: RenderInput) -> dict[str, Any]:
    """At most one API pod voluntarily evicted at a time (never blocks a drain, even with one replica)."""
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": names.metadata(inp, names.api(inp.name), names.API),
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": names.selector(inp, names.API)}},
    }


def render(inp: RenderInput) -> list[dict[str, Any]]:
    out = [render_migrate_job(inp), render_deployment(inp), render_service(inp), render_pdb(inp)]
    hpa = render_hpa(inp)
    if hpa is not None:
        out.append(hpa)
    return out
