"""One reconcile pass for one instance: render, gate the API rollout on migrations, apply, prune, status.

Observation comes in as an `Observed` snapshot (the handlers take it from the watch caches), so a pass that
finds every child up to date sends no request at all.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from req1_operator import backups, gates, ha, migrate, secret_guard
from req1_operator.kube.apply import HASH_ANNOTATION, Owner, apply_child, with_ownership
from req1_operator.kube.client import ApiError, KubeClient
from req1_operator.kube.events import NORMAL, WARNING, emit
from req1_operator.kube.observe import LABEL_COMPONENT, Observed
from req1_operator.kube.resources import CHILD_KINDS, REQ1, UnknownKindError, resource_for, resource_of
from req1_operator.render import names, render_all
from req1_operator.render.types import RenderInput
from req1_operator.spec import API_VERSION, KIND, Req1InstanceSpec, parse_spec
from req1_operator.status import FAILED, StatusInput, UserError, compute_status

log = logging.getLogger(__name__)

_ORDER = {(r.api_version, r.kind): i for i, r in enumerate(CHILD_KINDS)}
#: Kinds removed when no longer rendered. Secrets (generated credentials) and PVCs (data) never are.
PRUNABLE = tuple((r.api_version, r.kind) for r in CHILD_KINDS if r.kind not in ("Secret", "PersistentVolumeClaim"))

#: Kinds of optional CRDs the operator does not watch: read before applying so a pass stays write-free.
UNWATCHED_KINDS = frozenset({"ServiceMonitor"})


@dataclass
class Outcome:
    """What one pass did: writes sent, the status it computed, and the phase before and after."""

    writes: int = 0
    applied: list[str] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)
    status: dict[str, Any] = field(default_factory=dict)
    old_phase: str | None = None
    error: UserError | None = None
    status_version: int = 0  # resourceVersion returned by our status write, 0 when none was sent
    recheck_in: float | None = None  # seconds until a pass may decide differently without any event (a Lease)


def resource_version(obj: Mapping[str, Any]) -> int:
    try:
        return int((obj.get("metadata") or {}).get("resourceVersion") or 0)
    except ValueError:
        return 0


def owner_of(body: Mapping[str, Any]) -> Owner:
    meta = body["metadata"]
    return Owner(API_VERSION, KIND, meta["name"], meta["uid"], meta["namespace"])


#: Apply waves: what workloads reference first, then Services and claims, then workloads, then the rest.
_WAVE_OF = {
    "ServiceAccount": 0,
    "Role": 0,
    "RoleBinding": 1,  # after its Role: the API server checks a binding against the rules it grants
    "Secret": 0,
    "ConfigMap": 0,
    "Service": 1,
    "PersistentVolumeClaim": 1,
    "StatefulSet": 2,
    "Job": 2,
    "CronJob": 2,
    "Deployment": 2,
}


def _waves(desired: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Objects grouped so each group is applied concurrently and groups in order."""
    waves: list[list[dict[str, Any]]] = [[], [], [], []]
    for obj in desired:
        waves[_WAVE_OF.get(obj["kind"], 3)].append(obj)
    return [w for w in waves if w]


async def _apply_one(
    client: KubeClient,
    owner: Owner,
    obj: dict[str, Any],
    observed: Observed,
    gate: gates.Gate,
    out: Outcome,
    on_write: Callable[[str], None] | None,
) -> None:
    """Apply one child (or replace a changed Job); user-fixable refusals become `out.error`."""
    key = (obj["kind"], obj["metadata"]["name"])
    if key in gate.hold:
        return
    live = observed.get(*key)
    try:
        if live is None and obj["kind"] == "Secret":
            if await _create_secret(client, owner, obj):
                out.writes += 1
                out.applied.append(f"Secret/{key[1]}")
                if on_write:
                    on_write("Secret")
            return
        if live is None and obj["kind"] in UNWATCHED_KINDS:
            live = await client.get(resource_of(obj), owner.namespace, key[1])
        if obj["kind"] == "Job" and live is not None and not _same_job(obj, live, owner):
            await client.delete(resource_of(obj), owner.namespace, key[1])
            out.writes += 1
            return  # the deletion's watch event brings the next pass, which creates it anew
        res = await apply_child(client, owner, obj, live)
    except UnknownKindError as e:
        out.error = UserError("UnsupportedObject", str(e))
        return
    except ApiError as e:
        if not e.user_error:
            raise
        out.error = UserError("ApplyRejected", f"{key[0]} {key[1]}: {e.message}")
        return
    if res.changed:
        out.writes += 1
        out.applied.append(f"{key[0]}/{key[1]}")
        if on_write:
            on_write(key[0])


async def _create_secret(client: KubeClient, owner: Owner, obj: dict[str, Any]) -> bool:
    """Create a generated Secret with POST, never apply: a same-named Secret someone else owns (invisible to the
    label-filtered watch) is refused with 409 and left untouched instead of being adopted and overwritten."""
    try:
        await client.create(resource_of(obj), owner.namespace, with_ownership(owner, obj))
    except ApiError as e:
        if e.status != 409:
            raise
        log.info("%s/%s: Secret %s exists and is not ours; using it as it is", owner.namespace, owner.name,
                 obj["metadata"]["name"])
        return False
    return True


def _sorted(desired: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(desired, key=lambda o: _ORDER.get((o.get("apiVersion", ""), o.get("kind", "")), 99))


def _api_deployment(desired: list[dict[str, Any]]) -> dict[str, Any] | None:
    for o in desired:
        if o["kind"] == "Deployment" and (o["metadata"].get("labels") or {}).get(LABEL_COMPONENT) == "api":
            return o
    return None


def _url(spec: Any, namespace: str, name: str) -> str:
    ing = spec.ingress
    if ing.enabled and ing.host:
        return f"{'https' if ing.tls.enabled else 'http'}://{ing.host}"
    return f"http://{name}-api.{namespace}.svc"


def status_patch(old: Mapping[str, Any], new: dict[str, Any]) -> dict[str, Any] | None:
    """The merge patch turning old status into new (kopf's own field untouched), or None if equal."""
    patch: dict[str, Any] = {}
    for k, v in new.items():
        before = old.get(k)
        if before == v:
            continue
        if isinstance(v, dict) and isinstance(before, Mapping):
            # A merge patch merges objects: fields the new value lacks must be nulled or they would survive
            # (components that went away, lastFailover.writesResumedAt of the previous failover, ...).
            patch[k] = {**{f: None for f in before if f not in v}, **v}
        else:
            patch[k] = v
    return patch or None


async def reconcile(
    client: KubeClient,
    body: Mapping[str, Any],
    observed: Observed,
    *,
    monitoring_crd_present: bool = False,
    on_write: Callable[[str], None] | None = None,
    previous_status: Mapping[str, Any] | None = None,
) -> Outcome:
    """Bring one instance's children and status in line with its spec; return what was done.

    `previous_status` replaces the body's status as the diff base when the caller knows a newer one (the
    status this operator wrote last, when the watch has not delivered it yet).
    """
    owner = owner_of(body)
    meta = body["metadata"]
    old_status: Mapping[str, Any] = previous_status if previous_status is not None else (body.get("status") or {})
    out = Outcome(old_phase=old_status.get("phase"))
    generation = int(meta.get("generation") or 0)
    desired: list[dict[str, Any]] = []
    guard: secret_guard.SecretsDecision | None = None
    url: str | None = None
    spec: Req1InstanceSpec | None = None
    gate = gates.Gate()
    restoring: str | None = None  # why the API is stopped: an in-place restore
    api_upgrading = False
    try:
        spec = parse_spec(dict(body.get("spec") or {}))
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        out.error = UserError("InvalidSpec", f"spec{'.' + where if where else ''}: {first.get('msg')}")
    else:
        inp = RenderInput(
            name=owner.name,
            namespace=owner.namespace,
            uid=owner.uid,
            spec=spec,
            existing_secrets=frozenset(observed.secret_names()),
            monitoring_crd_present=monitoring_crd_present,
        )
        desired = _sorted(render_all(inp))
        guard = secret_guard.decide(
            [o["metadata"]["name"] for o in desired if o["kind"] == "Secret"],
            secret_guard.initialized(observed, old_status, meta.get("creationTimestamp")),
            owner.name,
        )
        desired = [o for o in desired if not (o["kind"] == "Secret" and o["metadata"]["name"] in guard.withhold)]
        url = _url(spec, owner.namespace, owner.name)
        gate = gates.migration_gate(desired, observed)
        out.error = gate.error
        pre_upgrade = gates.hold_for_backup(owner.name, spec, gate, desired, observed, old_status)
        api_upgrading = gates.api_held(gate, desired)
        restoring = gates.hold_for_restore(owner.name, gate, desired, old_status)
        if migrate.legacy_statefulset(observed, owner.name):
            out.writes += await migrate.retire_legacy(client, owner, observed)
            gate.hold.add(("StatefulSet", names.postgres(owner.name)))
        for wave in _waves(desired):
            await asyncio.gather(*(_apply_one(client, owner, obj, observed, gate, out, on_write) for obj in wave))
        out.pruned = await _prune(client, owner, desired, observed)
        out.writes += len(out.pruned)

    api = _api_deployment(desired)
    status = compute_status(
        StatusInput(
            generation=generation,
            desired=desired,
            observed=observed,
            previous=old_status,
            api_deployment=api["metadata"]["name"] if api else None,
            url=url,
            upgrading=gate.upgrading,
            restoring=restoring,
            error=out.error,
        )
    )
    if gate.waiting and status["phase"] not in (FAILED,):
        for c in status["conditions"]:
            if c["type"] == "Progressing" and c["status"] == "True":
                c["message"] = gate.waiting
    if spec is not None and desired:
        pg = await ha.reconcile_postgres(client, owner, spec, observed, old_status, time.time())
        status.update(pg.status)
        status["conditions"] = [*status["conditions"], *pg.conditions]
        out.writes += pg.writes
        out.recheck_in = pg.recheck_in
        bk = await backups.reconcile_backups(client, owner, inp, observed, old_status, status.get("targetPrimary"),
                                             time.time(), pre_upgrade, api_upgrading)
        status.update(bk.status)
        status["conditions"] = [*status["conditions"], *bk.conditions]
        out.writes += bk.writes
        out.recheck_in = min((t for t in (out.recheck_in, bk.recheck_in) if t is not None), default=None)
    if guard is not None:
        now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        status["conditions"] = [*status["conditions"], secret_guard.condition(guard, old_status, generation, now)]
        if secret_guard.needs_event(guard, old_status):
            await emit(client, owner, WARNING, guard.reason, guard.message)
            out.writes += 1
    if api is not None:
        sel = (api.get("spec") or {}).get("selector", {}).get("matchLabels") or {}
        status["api"]["selector"] = ",".join(f"{k}={v}" for k, v in sorted(sel.items()))
    ready_version = (
        spec.version if spec is not None and out.error is None and status["phase"] == "Ready" and desired else None
    )
    status["version"] = ready_version or old_status.get("version")
    out.status = status
    patch = status_patch(old_status, status)
    if patch is not None:
        answer = await client.patch_status(REQ1, owner.namespace, owner.name, patch)
        out.writes += 1
        out.status_version = resource_version(answer)
    await _announce(client, owner, out, old_status)
    return out


def _same_job(desired: Mapping[str, Any], live: Mapping[str, Any], owner: Owner) -> bool:
    """Jobs are immutable: a live Job rendered differently must be replaced, not patched."""
    want = with_ownership(owner, dict(desired))["metadata"]["annotations"][HASH_ANNOTATION]
    return bool(((live.get("metadata") or {}).get("annotations") or {}).get(HASH_ANNOTATION) == want)


async def _prune(client: KubeClient, owner: Owner, desired: list[dict[str, Any]], observed: Observed) -> list[str]:
    """Delete children this instance no longer renders (never Secrets or PVCs)."""
    keep = {(o["kind"], o["metadata"]["name"]) for o in desired}
    pruned = []
    for (kind, name), live in sorted(observed.children.items()):
        api_version = str(live.get("apiVersion") or "")
        if (kind, name) in keep or (api_version, kind) not in PRUNABLE:
            continue
        refs = (live.get("metadata") or {}).get("ownerReferences") or []
        if not any(r.get("uid") == owner.uid for r in refs):
            continue  # only what this very instance owns
        if await client.delete(resource_for(api_version, kind), owner.namespace, name):
            pruned.append(f"{kind}/{name}")
    return pruned


async def _announce(client: KubeClient, owner: Owner, out: Outcome, old_status: Mapping[str, Any]) -> None:
    """Events on every phase transition and on every new user-actionable error."""
    new_phase = out.status.get("phase")
    if new_phase != out.old_phase:
        type_ = WARNING if new_phase in ("Degraded", "Failed") else NORMAL
        why = next((c["message"] for c in out.status["conditions"] if c["type"] == "Ready"), "")
        await emit(client, owner, type_, f"Phase{new_phase}", f"phase {out.old_phase or 'None'} -> {new_phase}: {why}")
        out.writes += 1
    if out.error is not None:
        old: Mapping[str, Any] = next(
            (c for c in old_status.get("conditions") or [] if c.get("type") == "Reconciled"), {}
        )
        if old.get("message") != out.error.message:
            await emit(client, owner, WARNING, out.error.reason, out.error.message)
            out.writes += 1
