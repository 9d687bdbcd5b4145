"""kopf wiring: Req1Instance lifecycle handlers, a safety-net timer, and watches on every child kind.

Children are watched, not polled: one kopf index per child kind (filtered by the managed-by label) keeps the
latest copy of each child keyed by its owning instance, and an event handler on the same watch schedules a
pass for that owner, which restores a deleted or edited child and refreshes status.
"""

from __future__ import annotations

import logging
from typing import Any

import kopf

from req1_operator import metrics
from req1_operator.drill_plan import RESULT_ANNOTATION as DRILL_RESULT
from req1_operator.engine import CHILD_INDEX_SUFFIX, LEASES_INDEX, OWNERS_INDEX, PODS_INDEX, Engine
from req1_operator.kube.client import close_client, get_client
from req1_operator.kube.observe import LABEL_INSTANCE, LABEL_MANAGED_BY, LABEL_NAME, instance_key, trim
from req1_operator.kube.resources import CHILD_KINDS, PVC, REQ1, Resource
from req1_operator.render.names import ANNOTATION_INSTANCE_STATUS
from req1_operator.render.names import MANAGED_BY as MANAGER
from req1_operator.settings import OPTIONS, configure
from req1_operator.spec import parse_spec

log = logging.getLogger(__name__)

ENGINE = Engine(get_client, debounce=OPTIONS.debounce)
_MANAGED: dict[str, Any] = {LABEL_MANAGED_BY: MANAGER}
_PODS: dict[str, Any] = {LABEL_NAME: "req1", LABEL_INSTANCE: kopf.PRESENT}
_RUNNERS: list[Any] = []
LEASE_SUFFIX = "-postgres-primary"
_HOLDERS: dict[tuple[str, str], str | None] = {}


@kopf.on.startup()
async def startup(settings: kopf.OperatorSettings, **_: Any) -> None:
    configure(settings, OPTIONS)
    metrics.count_http_requests()
    metrics.LIVE.phases = ENGINE.phase_counts
    metrics.LIVE.requests = lambda: dict(get_client().counts)
    if OPTIONS.metrics_port:
        _RUNNERS.append(await metrics.start_server(OPTIONS.metrics_host, OPTIONS.metrics_port))


@kopf.on.cleanup()
async def cleanup(**_: Any) -> None:
    for runner in _RUNNERS:
        await runner.cleanup()
    _RUNNERS.clear()
    await close_client()


# ------------------------------------------------------------------------------------------------ the owner


@kopf.index(REQ1.api_version, REQ1.plural, id=OWNERS_INDEX)
def req1_owners(body: kopf.Body, namespace: str | None, name: str, **_: Any) -> dict[tuple[str, str], dict[str, Any]]:
    return {_key(namespace, name): trim(body)}


def _key(namespace: str | None, name: str | None) -> tuple[str, str]:
    return (str(namespace), str(name))


@kopf.on.resume(REQ1.api_version, REQ1.plural)
@kopf.on.create(REQ1.api_version, REQ1.plural)
@kopf.on.update(REQ1.api_version, REQ1.plural, field="spec")
async def reconcile_instance(body: kopf.Body, namespace: str | None, name: str, reason: str, **kwargs: Any) -> None:
    """Create, spec change or operator start: one pass now; an error makes kopf retry with backoff."""
    ENGINE.bind(kwargs)
    out = await ENGINE.run(_key(namespace, name), trim(body), str(reason))
    if out.error is not None and out.error.reason == "InvalidSpec":
        raise kopf.PermanentError(out.error.message)


@kopf.timer(REQ1.api_version, REQ1.plural, interval=OPTIONS.timer_interval, initial_delay=OPTIONS.timer_interval)
async def resync(body: kopf.Body, namespace: str | None, name: str, **kwargs: Any) -> None:
    """Safety net for anything a watch missed; costs no request when nothing changed."""
    if body.get("metadata", {}).get("deletionTimestamp"):
        return
    ENGINE.bind(kwargs)
    await ENGINE.run(_key(namespace, name), trim(body), "timer")


@kopf.on.delete(REQ1.api_version, REQ1.plural)
async def delete_instance(body: kopf.Body, namespace: str | None, name: str, logger: kopf.Logger, **_: Any) -> None:
    """Children go with their owner (garbage collection); PVCs go only with deletionPolicy: Delete."""
    ENGINE.forget(_key(namespace, name))
    try:
        policy = parse_spec(dict(body.get("spec") or {})).deletion_policy
    except Exception:
        policy = "Retain"
    if policy != "Delete":
        logger.info("deletionPolicy Retain: PersistentVolumeClaims of %s are kept", name)
        return
    client = get_client()
    claims = await client.list(PVC, str(namespace), f"{LABEL_NAME}=req1,{LABEL_INSTANCE}={name}")
    for claim in claims:
        await client.delete(PVC, str(namespace), claim["metadata"]["name"])
    logger.info("deletionPolicy Delete: removed %d PersistentVolumeClaims", len(claims))


# ------------------------------------------------------------------------------------------------ children


def _schedule_owner(body: kopf.Body, kwargs: dict[str, Any], reason: str) -> None:
    """What every child watch does with an event: a (debounced) pass for the instance that owns the object."""
    ENGINE.bind(kwargs)
    key = instance_key(body)
    if key is not None:
        ENGINE.schedule(key, reason)


def _watch_children(res: Resource) -> None:
    """An index and an event handler on one child kind, both on the same (label-filtered) watch."""

    def index_fn(body: kopf.Body, **_: Any) -> dict[tuple[str, str], dict[str, Any]] | None:
        key = instance_key(body)
        return {key: trim(body)} if key else None

    async def event_fn(body: kopf.Body, **kwargs: Any) -> None:
        _schedule_owner(body, kwargs, f"child:{res.kind}")

    kopf.index(res.api_version, res.plural, id=f"{res.plural}{CHILD_INDEX_SUFFIX}", labels=_MANAGED)(index_fn)
    kopf.on.event(res.api_version, res.plural, id=f"{res.plural}_watch", labels=_MANAGED)(event_fn)


for _res in CHILD_KINDS:
    if _res.group != "monitoring.coreos.com":  # optional CRD: not watched, re-applied by the timer
        _watch_children(_res)


def _disowned_secret(body: kopf.Body, **_: Any) -> bool:
    """A Secret of an instance (its ownerReference, or req1's name and instance labels) without the managed-by
    label: the filtered watch above drops it silently when the label goes, so this brings the pass that reports
    it (`SecretsIntact`, see secret_guard.py). The timer pass would notice too, only later."""
    meta = body.get("metadata") or {}
    labels = meta.get("labels") or {}
    if labels.get(LABEL_MANAGED_BY) == MANAGER:
        return False
    owned = any(r.get("kind") == REQ1.kind for r in meta.get("ownerReferences") or [])
    return owned or (labels.get(LABEL_NAME) == "req1" and bool(labels.get(LABEL_INSTANCE)))


@kopf.on.event("v1", "secrets", id="req1_secrets_disowned", when=_disowned_secret)
async def secret_disowned(body: kopf.Body, **kwargs: Any) -> None:
    _schedule_owner(body, kwargs, "child:Secret")


@kopf.index("v1", "pods", id=PODS_INDEX, labels=_PODS)
def req1_pods(body: kopf.Body, **_: Any) -> dict[tuple[str, str], dict[str, Any]] | None:
    key = instance_key(body)
    if key is None:
        return None
    meta = dict(body.get("metadata") or {})
    small = {k: meta.get(k) for k in ("name", "namespace", "labels", "ownerReferences", "deletionTimestamp")}
    # a PostgreSQL pod's manager report (what failover decides on), a restore drill's result (drill_plan.py)
    kept = {k: v for k, v in (meta.get("annotations") or {}).items() if k in (ANNOTATION_INSTANCE_STATUS, DRILL_RESULT)}
    if kept:
        small["annotations"] = kept
    spec = {"nodeName": (body.get("spec") or {}).get("nodeName")}
    return {key: {"metadata": small, "spec": spec, "status": dict(body.get("status") or {})}}


def _lease_owner(namespace: str | None, name: str) -> tuple[str, str] | None:
    return (str(namespace), name[: -len(LEASE_SUFFIX)]) if name.endswith(LEASE_SUFFIX) else None


@kopf.index("coordination.k8s.io/v1", "leases", id=LEASES_INDEX)
def req1_leases(
    body: kopf.Body, namespace: str | None, name: str, **_: Any
) -> dict[tuple[str, str], dict[str, Any]] | None:
    """The PostgreSQL primary Leases (`<instance>-postgres-primary`), kept current by the watch.

    Renewals (every 2 s) only refresh this cache; a pass reads it and schedules itself for when the Lease would
    lapse, so a primary that stops renewing is noticed without polling."""
    key = _lease_owner(namespace, name)
    if key is None:
        return None
    meta = {"name": name, "namespace": namespace, "resourceVersion": body.get("metadata", {}).get("resourceVersion")}
    return {key: {"metadata": meta, "spec": dict(body.get("spec") or {})}}


@kopf.on.event("coordination.k8s.io/v1", "leases", id="req1_leases_watch")
async def lease_event(body: kopf.Body, namespace: str | None, name: str, type: str | None, **kwargs: Any) -> None:
    """A change of holder (taken, released) or a deletion brings a pass at once; a renewal does not."""
    key = _lease_owner(namespace, name)
    if key is None:
        return
    holder = (body.get("spec") or {}).get("holderIdentity")
    if type == "DELETED" or _HOLDERS.get(key, "?") != holder:
        _HOLDERS[key] = holder
        ENGINE.bind(kwargs)
        ENGINE.schedule(key, "lease")


@kopf.on.event("v1", "pods", id="req1_pods_watch", labels=_PODS)
async def pod_event(body: kopf.Body, **kwargs: Any) -> None:
    _schedule_owner(body, kwargs, "child:Pod")
