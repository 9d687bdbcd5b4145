"""The `req1.io/role` label of PostgreSQL pods, which the -rw and -ro Services select on. A module of its own, with
no imports, because the instance manager in every PostgreSQL pod writes it too (instance/report.py)."""

from __future__ import annotations

LABEL_ROLE = "req1.io/role"
ROLE_PRIMARY = "primary"
ROLE_REPLICA = "replica"


def role_label(reported_role: str, is_target: bool, terminating: bool = False) -> str | None:
    """The label a PostgreSQL pod carries: primary only for the target that reports primary, replica as reported,
    none otherwise. The operator and the pod's own instance manager both write it, from this one rule, so they
    never undo each other."""
    if terminating:
        return None
    if reported_role == "primary" and is_target:
        return ROLE_PRIMARY
    if reported_role == "replica":
        return ROLE_REPLICA
    return None
