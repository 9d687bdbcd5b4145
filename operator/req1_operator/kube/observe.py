"""Reading children back: what exists now for one instance, from the watch caches or from the API.

The operator observes through kopf indexes fed by its child watches, so a reconcile costs no reads; the
API path (`read_children`) serves tools and tests that have no watch running.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from req1_operator.kube.client import KubeClient
from req1_operator.kube.resources import CHILD_KINDS, LEASE, POD, Resource

LABEL_NAME = "app.kubernetes.io/name"
LABEL_INSTANCE = "app.kubernetes.io/instance"
LABEL_COMPONENT = "app.kubernetes.io/component"
LABEL_MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGER = "req1-operator"
ROLE_LABEL = "req1.io/role"

Key = tuple[str, str]  # (namespace, instance name)


def trim(body: Mapping[str, Any]) -> dict[str, Any]:
    """A plain, small copy of a watched object: no managedFields, and never a Secret's values."""
    meta = dict(body.get("metadata") or {})
    meta.pop("managedFields", None)
    out: dict[str, Any] = {"apiVersion": body.get("apiVersion"), "kind": body.get("kind"), "metadata": meta}
    if body.get("kind") == "Secret":
        out["type"] = body.get("type")
        out["dataKeys"] = sorted((body.get("data") or {}).keys())
        return out
    for k, v in body.items():
        if k not in ("apiVersion", "kind", "metadata"):
            out[k] = v
    return out


def instance_key(body: Mapping[str, Any]) -> Key | None:
    """The (namespace, instance) a child belongs to, from its instance label or controller reference."""
    meta = body.get("metadata") or {}
    ns = meta.get("namespace")
    if not ns:
        return None
    name = (meta.get("labels") or {}).get(LABEL_INSTANCE)
    if not name:
        for ref in meta.get("ownerReferences") or []:
            if ref.get("kind") == "Req1Instance":
                name = ref.get("name")
    return (ns, name) if name else None


@dataclass
class Observed:
    """Everything that exists now for one instance."""

    children: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # (kind, name) -> body
    pods: list[dict[str, Any]] = field(default_factory=list)
    terminating_pods: list[dict[str, Any]] = field(default_factory=list)  # with a deletionTimestamp
    lease: dict[str, Any] | None = None  # the PostgreSQL primary Lease, None when not seen (yet)

    def get(self, kind: str, name: str) -> dict[str, Any] | None:
        return self.children.get((kind, name))

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [b for (k, _), b in sorted(self.children.items()) if k == kind]

    def secret_names(self) -> set[str]:
        return {n for (k, n) in self.children if k == "Secret"}

    def pods_of(self, component: str) -> list[dict[str, Any]]:
        return [p for p in self.pods if (p["metadata"].get("labels") or {}).get(LABEL_COMPONENT) == component]


def from_bodies(
    bodies: Iterable[Mapping[str, Any]], pods: Iterable[Mapping[str, Any]] = (), lease: Mapping[str, Any] | None = None
) -> Observed:
    obs = Observed(lease=dict(lease) if lease is not None else None)
    for b in bodies:
        obs.children[(str(b.get("kind")), str(b["metadata"]["name"]))] = dict(b)
    for p in pods:
        deleting = (p.get("metadata") or {}).get("deletionTimestamp")
        (obs.terminating_pods if deleting else obs.pods).append(dict(p))
    return obs


def selector(instance: str) -> str:
    return f"{LABEL_INSTANCE}={instance},{LABEL_MANAGED_BY}={MANAGER}"


async def read_children(
    client: KubeClient, namespace: str, instance: str, kinds: Iterable[Resource] = CHILD_KINDS
) -> Observed:
    """Observe one instance by listing every child kind (one request per kind) and its pods."""
    bodies: list[dict[str, Any]] = []
    for res in kinds:
        try:
            items = await client.list(res, namespace, selector(instance))
        except Exception:  # a kind whose CRD is absent (ServiceMonitor) simply has no objects
            if res.group == "monitoring.coreos.com":
                continue
            raise
        for item in items:
            item.setdefault("apiVersion", res.api_version)
            item.setdefault("kind", res.kind)
            bodies.append(trim(item))
    pods = await client.list(POD, namespace, f"{LABEL_INSTANCE}={instance},{LABEL_NAME}=req1")
    lease = await client.get(LEASE, namespace, f"{instance}-postgres-primary")
    return from_bodies(bodies, [trim(p) for p in pods], lease)
