"""What the operator observes of its PostgreSQL members: the pods (from the watch cache), their managers'
reports, the primary Lease, the StatefulSet's revisions, and the Node of a terminating primary (the only read)."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from typing import Any

from req1_operator import failover, rolling
from req1_operator.kube.client import ApiError, KubeClient
from req1_operator.kube.observe import Observed
from req1_operator.kube.resources import NODE
from req1_operator.render import names
from req1_operator.render.postgres import LEGACY_LABEL_SET
from req1_operator.times import parse_time

log = logging.getLogger(__name__)

REVISION_LABEL = "controller-revision-hash"


def instance_report(pod: Mapping[str, Any]) -> dict[str, Any]:
    """The manager's `req1.io/instance-status` JSON of a pod; empty when absent or malformed."""
    raw = ((pod.get("metadata") or {}).get("annotations") or {}).get(names.ANNOTATION_INSTANCE_STATUS)
    try:
        data = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def report_of(pod: Mapping[str, Any]) -> failover.Report:
    data = instance_report(pod)
    return failover.Report(
        role=str(data.get("role") or "unknown"),
        timeline=int(data.get("timeline") or 0),
        lsn=failover.lsn_value(str(data.get("lsn") or "")),
        ready=bool(data.get("ready")),
        streaming=bool(data.get("streaming")),
        system_identifier=str(data.get("systemIdentifier") or ""),
        message=str(data.get("message") or ""),
        synchronous=str(data.get("synchronous") or ""),
    )


def pod_ready(pod: Mapping[str, Any]) -> bool:
    for c in (pod.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return bool(c.get("status") == "True")
    return False


def member_pods(observed: Observed, instance: str) -> dict[str, dict[str, Any]]:
    """The StatefulSet's pods (terminating ones too), by name; pods of the legacy layout are not members."""
    pattern = re.compile(rf"^{re.escape(names.postgres(instance))}-(\d+)$")
    out: dict[str, dict[str, Any]] = {}
    for pod in [*observed.pods, *observed.terminating_pods]:
        meta = pod.get("metadata") or {}
        labels = meta.get("labels") or {}
        if labels.get(names.LABEL_COMPONENT) != names.POSTGRES or LEGACY_LABEL_SET in labels:
            continue
        if pattern.match(str(meta.get("name"))):
            out[str(meta["name"])] = pod
    return out


def lease_view(observed: Observed) -> failover.LeaseView | None:
    lease = observed.lease
    if lease is None:
        return None
    spec = lease.get("spec") or {}
    holder = spec.get("holderIdentity") or None
    renew = parse_time(spec.get("renewTime"))
    duration = float(spec.get("leaseDurationSeconds") or 0)
    return failover.LeaseView(holder, renew + duration if renew is not None and holder else None, renew)


def stopped_at(pod: Mapping[str, Any]) -> float | None:
    """When the PostgreSQL container last terminated, if the kubelet now holds it off (waiting) or reports it
    terminated: proof that no process of that incarnation runs."""
    for c in (pod.get("status") or {}).get("containerStatuses") or []:
        if c.get("name") != "postgres":
            continue
        state = c.get("state") or {}
        if "running" in state:
            return None
        term = state.get("terminated") or (c.get("lastState") or {}).get("terminated") or {}
        return parse_time(term.get("finishedAt"))
    return None


async def node_ready(client: KubeClient, pod: Mapping[str, Any]) -> bool | None:
    node = (pod.get("spec") or {}).get("nodeName")
    if not node:
        return None
    try:
        body = await client.get(NODE, None, str(node))
    except ApiError as e:
        log.warning("cannot read node %s: %s", node, e)
        return None
    for c in ((body or {}).get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return bool(c.get("status") == "True")
    return None if body else False


def lag(pod: Mapping[str, Any]) -> int:
    raw = ((pod.get("metadata") or {}).get("annotations") or {}).get(names.ANNOTATION_INSTANCE_STATUS)
    try:
        return int((json.loads(raw) if raw else {}).get("lagBytes") or 0)
    except (ValueError, AttributeError):
        return 0


async def members_of(
    client: KubeClient, pods: Mapping[str, Mapping[str, Any]], target: str | None
) -> list[failover.Member]:
    """The members as the failover decision sees them, ordered by name."""
    members: list[failover.Member] = []
    for name, pod in sorted(pods.items()):
        terminating = bool((pod.get("metadata") or {}).get("deletionTimestamp"))
        node = await node_ready(client, pod) if terminating and name == target else None
        members.append(
            failover.Member(
                name=name,
                ordinal=int(name.rsplit("-", 1)[1]),
                report=report_of(pod),
                pod_ready=pod_ready(pod),
                terminating=terminating,
                node_ready=node,
                stopped_at=stopped_at(pod),
            )
        )
    return members


def roll_pods(observed: Observed, instance: str, members: list[failover.Member]) -> list[rolling.Pod]:
    """Every pod of the StatefulSet with its revision, adopted pods of the legacy layout included."""
    pattern = re.compile(rf"^{re.escape(names.postgres(instance))}-(\d+)$")
    by_name = {m.name: m for m in members}
    sts_uid = ((observed.get("StatefulSet", names.postgres(instance)) or {}).get("metadata") or {}).get("uid")
    out: list[rolling.Pod] = []
    for pod in [*observed.pods, *observed.terminating_pods]:
        meta = pod.get("metadata") or {}
        labels = meta.get("labels") or {}
        match = pattern.match(str(meta.get("name")))
        if labels.get(names.LABEL_COMPONENT) != names.POSTGRES or match is None:
            continue
        legacy = LEGACY_LABEL_SET in labels
        if legacy and not _controlled_by(meta, sts_uid):
            continue  # still the old layout's: migrate.py retires its StatefulSet first
        m = by_name.get(str(meta["name"]))
        healthy = m is not None and (failover.healthy_primary(m) or failover.healthy_replica(m))
        out.append(
            rolling.Pod(
                name=str(meta["name"]),
                ordinal=int(match.group(1)),
                revision=str(labels.get(REVISION_LABEL) or ""),
                uid=str(meta.get("uid") or ""),
                healthy=healthy,
                role=m.report.role if m is not None else "unknown",
                timeline=m.report.timeline if m is not None else 0,
                lsn=m.report.lsn if m is not None else 0,
                terminating=bool(meta.get("deletionTimestamp")),
                legacy=legacy,
            )
        )
    return sorted(out, key=lambda p: p.ordinal)


def _controlled_by(meta: Mapping[str, Any], uid: str | None) -> bool:
    refs = meta.get("ownerReferences") or []
    return uid is not None and any(r.get("controller") and r.get("uid") == uid for r in refs)


def statefulset_revision(observed: Observed, instance: str) -> tuple[str | None, bool, int]:
    """The StatefulSet's update revision, whether its controller has seen the latest spec, and its size; no
    revision while it is the legacy layout's StatefulSet (nothing to roll before the migration)."""
    sts = observed.get("StatefulSet", names.postgres(instance)) or {}
    meta, spec, status = sts.get("metadata") or {}, sts.get("spec") or {}, sts.get("status") or {}
    if LEGACY_LABEL_SET in ((spec.get("selector") or {}).get("matchLabels") or {}):
        return None, False, 0
    settled = int(status.get("observedGeneration") or 0) >= int(meta.get("generation") or 1)
    return status.get("updateRevision") or None, settled, int(spec.get("replicas") or 0)
