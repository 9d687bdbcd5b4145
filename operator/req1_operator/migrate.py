"""From the two-StatefulSet PostgreSQL layout to one StatefulSet of instance-manager pods, keeping the data.

The old primary StatefulSet had the same name as the new one (`<name>-postgres`) but a selector with the
`req1.io/set` label, and selectors are immutable. So it is deleted with `propagationPolicy: Orphan` (the garbage
collector then drops its ownerReferences from the pod and the PersistentVolumeClaim, whatever the claim retention
policy said), and the next pass creates the new StatefulSet. That one adopts the orphaned pod -0 (its labels match
the new selector) and, its revision being another, replaces it by a pod of the new template: no pod is deleted by
the operator. Pod -0 mounts the old primary's claim `data-<name>-postgres-0`; its manager finds a primary's data
directory and, as `status.targetPrimary` names it, starts it as primary.
The old replica StatefulSet and Services are pruned as any child no longer rendered; new replicas clone afresh.
"""

from __future__ import annotations

import logging

from req1_operator.kube.apply import Owner
from req1_operator.kube.client import KubeClient
from req1_operator.kube.events import NORMAL, emit
from req1_operator.kube.observe import Observed
from req1_operator.kube.resources import resource_for
from req1_operator.render import names
from req1_operator.render.postgres import LEGACY_LABEL_SET

log = logging.getLogger(__name__)


def legacy_statefulset(observed: Observed, instance: str) -> bool:
    """Whether `<name>-postgres` is still the old layout's primary StatefulSet."""
    live = observed.get("StatefulSet", names.postgres(instance))
    if live is None:
        return False
    sel = ((live.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    return LEGACY_LABEL_SET in sel


async def retire_legacy(client: KubeClient, owner: Owner, observed: Observed) -> int:
    """Remove the old primary StatefulSet, orphaning its pod and claim; returns the writes sent."""
    name = names.postgres(owner.name)
    live = observed.get("StatefulSet", name) or {}
    if not legacy_statefulset(observed, owner.name) or (live.get("metadata") or {}).get("deletionTimestamp"):
        return 0
    if not await client.delete(resource_for("apps/v1", "StatefulSet"), owner.namespace, name, propagation="Orphan"):
        return 0
    await emit(client, owner, NORMAL, "MigratingPostgres",
               f"replacing the two-StatefulSet PostgreSQL layout: {name} recreated with instance managers; "
               f"pod {names.postgres_pod(owner.name, 0)} keeps the primary's volume")
    log.info("%s/%s: retired the legacy PostgreSQL StatefulSet %s", owner.namespace, owner.name, name)
    return 2
