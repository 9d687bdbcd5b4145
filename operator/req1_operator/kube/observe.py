"""Reading children back: what exists now for one instance, from the watch caches or from the API.

The operator observes through kopf indexes fed by its child watches, so a reconcile costs no reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# Label names are defined once, beside the objects that carry them (render/names.py); re-exported for the I/O layer.
from req1_operator.render.names import LABEL_COMPONENT as LABEL_COMPONENT
from req1_operator.render.names import LABEL_INSTANCE as LABEL_INSTANCE
from req1_operator.render.names import LABEL_MANAGED_BY as LABEL_MANAGED_BY
from req1_operator.render.names import LABEL_NAME as LABEL_NAME

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
