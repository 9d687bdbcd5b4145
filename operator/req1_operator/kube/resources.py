"""Which REST path serves each kind the operator renders, watches or writes.

A fixed table instead of discovery: the operator only ever touches these kinds, and a table keeps every
reconcile free of discovery requests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Resource:
    """One API resource: group/version, kind, plural, and whether it lives in a namespace."""

    api_version: str
    kind: str
    plural: str
    namespaced: bool = True

    @property
    def group(self) -> str:
        return self.api_version.rpartition("/")[0]

    @property
    def version(self) -> str:
        return self.api_version.rpartition("/")[2]

    def path(self, namespace: str | None = None, name: str | None = None, sub: str | None = None) -> str:
        """The REST path of the collection, or of one object (and its subresource)."""
        base = f"/api/{self.api_version}" if "/" not in self.api_version else f"/apis/{self.api_version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{namespace}"
        base += f"/{self.plural}"
        if name:
            base += f"/{name}"
            if sub:
                base += f"/{sub}"
        return base


REQ1 = Resource("req1.io/v1alpha1", "Req1Instance", "req1instances")

# Kinds the renderer may produce, in the order they are applied (config before workloads).
CHILD_KINDS: tuple[Resource, ...] = (
    Resource("v1", "ServiceAccount", "serviceaccounts"),
    Resource("rbac.authorization.k8s.io/v1", "Role", "roles"),
    Resource("rbac.authorization.k8s.io/v1", "RoleBinding", "rolebindings"),
    Resource("v1", "Secret", "secrets"),
    Resource("v1", "ConfigMap", "configmaps"),
    Resource("v1", "Service", "services"),
    Resource("v1", "PersistentVolumeClaim", "persistentvolumeclaims"),
    Resource("apps/v1", "StatefulSet", "statefulsets"),
    Resource("batch/v1", "Job", "jobs"),
    Resource("batch/v1", "CronJob", "cronjobs"),
    Resource("apps/v1", "Deployment", "deployments"),
    Resource("autoscaling/v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers"),
    Resource("policy/v1", "PodDisruptionBudget", "poddisruptionbudgets"),
    Resource("networking.k8s.io/v1", "Ingress", "ingresses"),
    Resource("networking.k8s.io/v1", "NetworkPolicy", "networkpolicies"),
    Resource("monitoring.coreos.com/v1", "ServiceMonitor", "servicemonitors"),
)

POD = Resource("v1", "Pod", "pods")
PVC = Resource("v1", "PersistentVolumeClaim", "persistentvolumeclaims")
EVENT = Resource("v1", "Event", "events")
LEASE = Resource("coordination.k8s.io/v1", "Lease", "leases")
NODE = Resource("v1", "Node", "nodes", namespaced=False)
CRD = Resource("apiextensions.k8s.io/v1", "CustomResourceDefinition", "customresourcedefinitions", namespaced=False)

_BY_KIND = {(r.api_version, r.kind): r for r in (*CHILD_KINDS, REQ1, POD, EVENT, CRD, LEASE, NODE)}


class UnknownKindError(LookupError):
    """The renderer produced a kind the operator has no REST mapping (and no RBAC) for."""


def resource_for(api_version: str, kind: str) -> Resource:
    """The resource serving objects of this apiVersion and kind."""
    try:
        return _BY_KIND[(api_version, kind)]
    except KeyError:
        raise UnknownKindError(f"no REST mapping for {api_version} {kind}") from None


def resource_of(obj: dict[str, Any]) -> Resource:
    return resource_for(str(obj.get("apiVersion", "")), str(obj.get("kind", "")))
