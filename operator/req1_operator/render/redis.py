"""Redis: a single-pod StatefulSet (AOF on a PVC when persistence is on, memory only otherwise) and its Service."""

from __future__ import annotations

from typing import Any

from req1_operator.render import config, names, pod
from req1_operator.render.types import RenderInput

UID = 999  # the redis user of the official image


def render_statefulset(inp: RenderInput) -> dict[str, Any]:
    n = inp.name
    spec = inp.spec.redis
    sel = names.selector(inp, names.REDIS)
    probe = {
        "exec": {"command": ["sh", "-c", 'REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli -p 6379 ping | grep -q PONG']},
        "periodSeconds": 10,
        "timeoutSeconds": 3,
        "failureThreshold": 3,
    }
    container = {
        "name": "redis",
        "image": spec.image,
        "imagePullPolicy": inp.spec.image_pull_policy,
        "command": ["redis-server", "/etc/redis/redis.conf", "--requirepass", "$(REDIS_PASSWORD)"],
        "env": [pod.secret_env("REDIS_PASSWORD", names.redis_secret(n), "password")],
        "ports": [{"name": "redis", "containerPort": config.REDIS_PORT, "protocol": "TCP"}],
        "resources": pod.resources(spec.resources),
        "securityContext": pod.container_security(),
        "volumeMounts": [
            {"name": "data", "mountPath": "/data"},
            {"name": "config", "mountPath": "/etc/redis", "readOnly": True},
        ],
        "livenessProbe": probe,
        "readinessProbe": {**probe, "periodSeconds": 5},
    }
    volumes: list[dict[str, Any]] = [{"name": "config", "configMap": {"name": names.redis_config(n)}}]
    sts_spec: dict[str, Any] = {
        "replicas": 1,
        "serviceName": names.redis(n),
        "selector": {"matchLabels": sel},
        "updateStrategy": {"type": "RollingUpdate"},
        "template": {
            "metadata": {
                "labels": names.labels(inp, names.REDIS),
                "annotations": {names.ANNOTATION_CONFIG_CHECKSUM: names.checksum(config.redis_data(inp))},
            },
            "spec": {
                **pod.base(inp),
                "securityContext": pod.pod_security(UID),
                "containers": [container],
                "volumes": volumes,
            },
        },
    }
    if spec.persistence:
        sts_spec["persistentVolumeClaimRetentionPolicy"] = pod.pvc_retention(inp.spec.deletion_policy)
        sts_spec["volumeClaimTemplates"] = [
            pod.pvc_template("data", spec.storage.size, spec.storage.storage_class_name, names.labels(inp, names.REDIS))
        ]
    else:
        volumes.append({"name": "data", "emptyDir": {}})
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": names.metadata(inp, names.redis(n), names.REDIS),
        "spec": sts_spec,
    }


def render_service(inp: RenderInput) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": names.metadata(inp, names.redis(inp.name), names.REDIS),
        "spec": {
            "type": "ClusterIP",
            "selector": names.selector(inp, names.REDIS),
            "ports": [{"name": "redis", "port": config.REDIS_PORT, "targetPort": "redis", "protocol": "TCP"}],
        },
    }


def render(inp: RenderInput) -> list[dict[str, Any]]:
    return [render_service(inp), render_statefulset(inp)]
