"""Generated Secrets never drift from the data they protect.

A generated Secret (PostgreSQL superuser/app/replication passwords, Redis password, JWT key, S3 keys) is created
once, before the data exists. Once the instance holds data (a PostgreSQL claim exists, or a primary was ever
reported), a missing or relabelled generated Secret is *not* generated again: a new random password would no
longer match the one PostgreSQL was initialised with, and the next pod start would fail to authenticate. The
operator withholds it, sets `SecretsIntact=False` (reason `SecretMissing`) and posts a Warning Event saying how
to restore it; the running pods keep the values they loaded, so the app stays up.

Secrets the operator did not create (no `app.kubernetes.io/managed-by=req1-operator` label) are invisible to its
label-filtered watch; they are created with POST, never server-side applied, so a Secret of the same name that
someone else owns is never adopted or overwritten (the POST is refused with 409 and left at that).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from req1_operator.kube.observe import LABEL_COMPONENT, LABEL_INSTANCE, LABEL_MANAGED_BY, Observed
from req1_operator.render.names import MANAGED_BY as MANAGER

CONDITION = "SecretsIntact"
REASON_MISSING = "SecretMissing"
REASON_OK = "AllPresent"


@dataclass(frozen=True)
class SecretsDecision:
    """Which rendered (= not observed) generated Secrets to create, which to withhold, and the condition."""

    create: tuple[str, ...]
    withhold: tuple[str, ...]
    ok: bool
    reason: str
    message: str


def initialized(observed: Observed, previous_status: Mapping[str, Any], instance_created: str | None = None) -> bool:
    """Whether this instance's data exists: a primary was ever reported, or a PostgreSQL claim of this instance is
    observed. A claim older than the instance was retained from an earlier instance of the same name whose
    Secrets went with it: generating new ones is the only way forward there (the managers set the role passwords
    from the Secrets when nothing runs yet), so such a claim does not count."""
    for (kind, _), body in observed.children.items():
        meta = body.get("metadata") or {}
        labels = meta.get("labels") or {}
        if kind != "PersistentVolumeClaim" or labels.get(LABEL_COMPONENT) != "postgres":
            continue
        created = str(meta.get("creationTimestamp") or "")
        if not instance_created or not created or created >= instance_created:  # RFC 3339 UTC: order as text
            return True
    pg = previous_status.get("postgres") or {}
    return bool(previous_status.get("primary") or previous_status.get("targetPrimary") or pg.get("timeline"))


def restore_hint(instance: str, names: Sequence[str]) -> str:
    """What the user must do: put the old Secret back, with the labels that hand it to the operator."""
    labels = f"{LABEL_INSTANCE}={instance} {LABEL_MANAGED_BY}={MANAGER}"
    return (
        f"generated Secret {', '.join(names)} is missing or no longer labelled {LABEL_MANAGED_BY}={MANAGER}, and "
        "the data it protects already exists, so the operator will not generate a new password. Restore it from "
        "a backup of the Secret (kubectl apply -f <saved secret>.yaml), or recreate it with the password the data "
        f"uses (kubectl create secret generic <name> --from-literal=...) and label it: kubectl label secret <name> "
        f"{labels}. Running pods keep working meanwhile; new pods cannot start until it is back."
    )


def decide(rendered: Sequence[str], is_initialized: bool, instance: str) -> SecretsDecision:
    """`rendered` are the generated Secrets the renderer produced, i.e. those not observed as ours."""
    missing = tuple(sorted(rendered))
    if not missing:
        return SecretsDecision((), (), True, REASON_OK, "every generated Secret is present")
    if not is_initialized:
        return SecretsDecision(missing, (), True, REASON_OK, "creating the generated Secrets before any data exists")
    return SecretsDecision((), missing, False, REASON_MISSING, restore_hint(instance, missing))


def condition(
    decision: SecretsDecision, previous_status: Mapping[str, Any], generation: int, now: str
) -> dict[str, Any]:
    """The `SecretsIntact` condition, keeping lastTransitionTime while its status stays the same."""
    status = "True" if decision.ok else "False"
    old = next((c for c in previous_status.get("conditions") or [] if c.get("type") == CONDITION), None)
    since = old.get("lastTransitionTime", now) if old is not None and old.get("status") == status else now
    return {
        "type": CONDITION,
        "status": status,
        "reason": decision.reason,
        "message": decision.message,
        "lastTransitionTime": since,
        "observedGeneration": generation,
    }


def needs_event(decision: SecretsDecision, previous_status: Mapping[str, Any]) -> bool:
    """A Warning Event when Secrets go missing, or a different set goes missing; not on every pass."""
    if decision.ok:
        return False
    old = next((c for c in previous_status.get("conditions") or [] if c.get("type") == CONDITION), None)
    return old is None or old.get("status") != "False" or old.get("message") != decision.message
