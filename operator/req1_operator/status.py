"""Status from observed state only: phase, conditions, per-component readiness, API replicas, primary.

compute_status is a pure function so its rules are tested without a cluster. It never stamps a new time
unless a condition actually changes, so a reconcile that finds nothing new computes an identical status and
the handler skips the write.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from req1_operator.kube.observe import LABEL_COMPONENT, Observed
from req1_operator.render.names import LABEL_ROLE as ROLE_LABEL

PENDING, PROVISIONING, READY, DEGRADED, UPGRADING, FAILED = (
    "Pending",
    "Provisioning",
    "Ready",
    "Degraded",
    "Upgrading",
    "Failed",
)
WORKLOAD_KINDS = ("Deployment", "StatefulSet")


@dataclass(frozen=True)
class UserError:
    """A problem only the user can fix (rejected object, invalid combination); shown as Failed."""

    reason: str
    message: str


@dataclass
class StatusInput:
    generation: int
    desired: Sequence[Mapping[str, Any]]  # what render_all produced this round
    observed: Observed
    previous: Mapping[str, Any] = field(default_factory=dict)
    api_deployment: str | None = None  # name of the API Deployment
    url: str | None = None
    upgrading: str | None = None  # message while a migration gates the API rollout
    restoring: str | None = None  # message while an in-place restore keeps the API stopped
    error: UserError | None = None
    now: datetime.datetime | None = None


@dataclass
class ComponentState:
    ready: bool
    message: str
    rolling: bool = False  # not ready because it is still being created or rolled out


def _pod_ready(pod: Mapping[str, Any]) -> bool | None:
    for c in (pod.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return bool(c.get("status") == "True")
    return None


def _is_job_pod(pod: Mapping[str, Any]) -> bool:
    refs = (pod.get("metadata") or {}).get("ownerReferences") or []
    return any(r.get("kind") == "Job" for r in refs) or (pod.get("status") or {}).get("phase") in ("Succeeded",)


def workload_state(
    live: Mapping[str, Any] | None, kind: str, name: str, desired_replicas: int | None = None,
) -> ComponentState:
    """Whether one Deployment or StatefulSet has all its replicas updated and ready. `desired_replicas`: what this
    pass renders (None when the count is not ours, e.g. an HPA's); the live object is from before this pass's
    apply, so a count that differs is a scale still to happen (an API back from an in-place restore's 0)."""
    if live is None:
        return ComponentState(False, f"{kind} {name} does not exist yet", rolling=True)
    spec, st = live.get("spec") or {}, live.get("status") or {}
    want = int(spec.get("replicas", 1))
    if desired_replicas is not None and desired_replicas != want:
        return ComponentState(False, f"{kind} {name}: scaling from {want} to {desired_replicas} replicas", rolling=True)
    ready = int(st.get("readyReplicas") or 0)
    updated = int(st.get("updatedReplicas") or 0)
    if int(st.get("observedGeneration") or 0) < int((live.get("metadata") or {}).get("generation") or 0):
        return ComponentState(False, f"{kind} {name} rollout not observed yet", rolling=True)
    if updated < want:
        return ComponentState(False, f"{kind} {name}: {updated}/{want} replicas updated", rolling=True)
    if int(st.get("replicas") or 0) < want:
        return ComponentState(False, f"{kind} {name}: {st.get('replicas') or 0}/{want} pods created", rolling=True)
    if ready < want:
        return ComponentState(False, f"{kind} {name}: {ready}/{want} replicas ready")
    return ComponentState(True, f"{kind} {name}: {ready}/{want} replicas ready")


def component_states(desired: Sequence[Mapping[str, Any]], observed: Observed) -> dict[str, ComponentState]:
    """Readiness of every component that has a workload or an Ingress among the desired objects."""
    states: dict[str, ComponentState] = {}
    for obj in desired:
        kind = str(obj.get("kind"))
        if kind not in (*WORKLOAD_KINDS, "Ingress"):
            continue
        meta = obj.get("metadata") or {}
        comp = (meta.get("labels") or {}).get(LABEL_COMPONENT) or kind.lower()
        live = observed.get(kind, meta["name"])
        if kind == "Ingress":
            st = ComponentState(live is not None, "Ingress exists" if live else "Ingress does not exist yet", True)
        else:
            replicas = (obj.get("spec") or {}).get("replicas")
            st = workload_state(live, kind, meta["name"], int(replicas) if replicas is not None else None)
        prev = states.get(comp)
        if prev is None or (prev.ready and not st.ready):
            states[comp] = st
    for comp, st in states.items():
        if not st.ready and st.rolling:
            continue
        pods = [p for p in observed.pods_of(comp) if not _is_job_pod(p) and not p["metadata"].get("deletionTimestamp")]
        starting = sorted(p["metadata"]["name"] for p in pods if (p.get("status") or {}).get("phase") == "Pending")
        bad = sorted(
            p["metadata"]["name"] for p in pods if _pod_ready(p) is False and p["metadata"]["name"] not in starting
        )
        if bad:
            states[comp] = ComponentState(False, f"pod {', '.join(bad)} not ready")
        elif starting and not st.ready:
            states[comp] = ComponentState(False, f"pod {', '.join(starting)} starting", rolling=True)
    return dict(sorted(states.items()))


def _condition(
    previous: Mapping[str, Mapping[str, Any]],
    type_: str,
    ok: bool,
    reason: str,
    message: str,
    generation: int,
    now: str,
) -> dict[str, Any]:
    status = "True" if ok else "False"
    old = previous.get(type_)
    same = old is not None and old.get("status") == status
    return {
        "type": type_,
        "status": status,
        "reason": reason,
        "message": message,
        "lastTransitionTime": old.get("lastTransitionTime", now) if same and old else now,
        "observedGeneration": generation,
    }


def _camel(component: str) -> str:
    return "".join(part.capitalize() for part in component.replace("_", "-").split("-"))


def primary_pod(observed: Observed) -> str | None:
    """The PostgreSQL pod labelled primary, preferring a ready one."""
    pods = [p for p in observed.pods if (p["metadata"].get("labels") or {}).get(ROLE_LABEL) == "primary"]
    pods.sort(key=lambda p: (not _pod_ready(p), p["metadata"]["name"]))
    return str(pods[0]["metadata"]["name"]) if pods else None


def compute_status(inp: StatusInput) -> dict[str, Any]:
    """The full status subresource (without status.kopf) for one instance."""
    now = (inp.now or datetime.datetime.now(datetime.UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    prev_phase = inp.previous.get("phase")
    prev_conds: dict[str, Mapping[str, Any]] = {
        str(c.get("type")): c for c in inp.previous.get("conditions") or [] if isinstance(c, Mapping)
    }
    states = component_states(inp.desired, inp.observed)
    if inp.restoring and "api" in states:
        states["api"] = ComponentState(False, inp.restoring, rolling=True)  # at 0 replicas on purpose, not ready
    ready_n = sum(1 for s in states.values() if s.ready)
    all_ready = bool(states) and ready_n == len(states)
    broken = {c: s for c, s in states.items() if not s.ready and not s.rolling}
    anything = bool(inp.observed.children)

    if inp.error is not None:
        phase = FAILED
    elif inp.upgrading:
        phase = UPGRADING
    elif all_ready:
        phase = READY
    elif prev_phase == UPGRADING and not broken:
        phase = UPGRADING  # the migrated version is rolling out
    elif broken and prev_phase in (READY, DEGRADED):
        phase = DEGRADED
    elif not anything:
        phase = PENDING
    elif prev_phase in (READY, DEGRADED):
        phase = DEGRADED if broken else PROVISIONING
    else:
        phase = PROVISIONING

    not_ready = {c: s for c, s in states.items() if not s.ready}
    summary = "; ".join(f"{c}: {s.message}" for c, s in not_ready.items())
    g = inp.generation
    conds = []
    if inp.error is not None:
        conds.append(_condition(prev_conds, "Ready", False, inp.error.reason, inp.error.message, g, now))
    else:
        conds.append(
            _condition(
                prev_conds,
                "Ready",
                all_ready,
                "AllComponentsReady" if all_ready else "ComponentsNotReady",
                "all components are ready" if all_ready else summary or "no components observed yet",
                g,
                now,
            )
        )
    progressing = phase in (PROVISIONING, UPGRADING, PENDING) or any(s.rolling for s in not_ready.values())
    rolling = "; ".join(f"{c}: {s.message}" for c, s in not_ready.items() if s.rolling)
    prog_msg = inp.upgrading or inp.restoring or rolling
    prog_reason = "Upgrading" if inp.upgrading else ("RestoringInPlace" if inp.restoring else "Reconciling")
    conds.append(
        _condition(
            prev_conds,
            "Progressing",
            progressing,
            prog_reason if progressing else "Stable",
            prog_msg if progressing else "nothing is rolling out",
            g,
            now,
        )
    )
    degraded = phase == DEGRADED
    conds.append(
        _condition(
            prev_conds,
            "Degraded",
            degraded,
            "ComponentNotReady" if degraded else "AsExpected",
            "; ".join(f"{c}: {s.message}" for c, s in broken.items()) if degraded else "no component is degraded",
            g,
            now,
        )
    )
    conds.append(
        _condition(
            prev_conds,
            "Reconciled",
            inp.error is None,
            inp.error.reason if inp.error else "Applied",
            inp.error.message if inp.error else "every child matches the spec",
            g,
            now,
        )
    )
    for comp, s in states.items():
        reason = "Ready" if s.ready else ("Progressing" if s.rolling else "NotReady")
        conds.append(_condition(prev_conds, f"{_camel(comp)}Ready", s.ready, reason, s.message, g, now))

    api_live = inp.observed.get("Deployment", inp.api_deployment) if inp.api_deployment else None
    api_want = int(((api_live or {}).get("spec") or {}).get("replicas", 0)) if api_live else 0
    api_ready = int(((api_live or {}).get("status") or {}).get("readyReplicas") or 0) if api_live else 0
    return {
        "phase": phase,
        "readyComponents": f"{ready_n}/{len(states)}",
        "api": {"replicas": api_want, "readyReplicas": api_ready},
        "apiReplicas": f"{api_ready}/{api_want}",
        "primary": primary_pod(inp.observed),
        "url": inp.url,
        "observedGeneration": g,
        "conditions": conds,
        "components": {c: {"ready": s.ready, "message": s.message} for c, s in states.items()},
    }
