"""Pod-level building blocks shared by the workload renderers: security contexts, resources, volumes."""

from __future__ import annotations

from typing import Any

from req1_operator.render.types import RenderInput
from req1_operator.spec import ResourceList, Resources


def base(inp: RenderInput) -> dict[str, Any]:
    """Pod spec fields every child pod shares: no API token (none talks to Kubernetes), no service-link
    environment (it could shadow real settings), and the registry credentials from spec.imagePullSecrets."""
    out: dict[str, Any] = {"automountServiceAccountToken": False, "enableServiceLinks": False}
    if inp.spec.image_pull_secrets:
        out["imagePullSecrets"] = [{"name": n} for n in inp.spec.image_pull_secrets]
    return out


def pod_security(uid: int) -> dict[str, Any]:
    """Non-root pod security context (restricted Pod Security Standard)."""
    return {
        "runAsNonRoot": True,
        "runAsUser": uid,
        "runAsGroup": uid,
        "fsGroup": uid,
        "fsGroupChangePolicy": "OnRootMismatch",
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def container_security(read_only_root: bool = True) -> dict[str, Any]:
    return {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": read_only_root,
        "capabilities": {"drop": ["ALL"]},
    }


def _list(rl: ResourceList) -> dict[str, str]:
    out: dict[str, str] = {}
    if rl.cpu is not None:
        out["cpu"] = str(rl.cpu)
    if rl.memory is not None:
        out["memory"] = str(rl.memory)
    return out


def resources(res: Resources) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if req := _list(res.requests):
        out["requests"] = req
    if lim := _list(res.limits):
        out["limits"] = lim
    return out


def secret_env(name: str, secret: str, key: str) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def field_env(name: str, path: str) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": path}}}


def tmp_volume(name: str = "tmp") -> dict[str, Any]:
    return {"name": name, "emptyDir": {}}


def topology_spread(selector: dict[str, str]) -> list[dict[str, Any]]:
    """Spread replicas over nodes and zones without blocking scheduling on small clusters."""
    return [
        {
            "maxSkew": 1,
            "topologyKey": key,
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": dict(selector)},
        }
        for key in ("kubernetes.io/hostname", "topology.kubernetes.io/zone")
    ]


def pvc_template(name: str, size: str, storage_class: str | None, labels: dict[str, str]) -> dict[str, Any]:
    spec: dict[str, Any] = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}
    if storage_class:
        spec["storageClassName"] = storage_class
    return {"metadata": {"name": name, "labels": dict(labels)}, "spec": spec}


def pvc_retention(deletion_policy: str) -> dict[str, str]:
    """StatefulSet PVC retention from spec.deletionPolicy; PVCs of scaled-down pods are always kept."""
    return {"whenDeleted": deletion_policy, "whenScaled": "Retain"}
