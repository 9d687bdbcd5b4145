"""Synchronous replication: spec.postgres.synchronousMode and the synchronous_standby_names it asks for."""

from __future__ import annotations

from typing import Any

from req1_operator.instance import pgconf


def sync_mode(instance: dict[str, Any] | None) -> str:
    """spec.postgres.synchronousMode as off|preferred|required (a bool means required/off)."""
    value = (((instance or {}).get("spec") or {}).get("postgres") or {}).get("synchronousMode", "off")
    if value is True:
        return "required"
    if value in (False, None):
        return "off"
    value = str(value).lower()
    return value if value in ("off", "preferred", "required") else "off"


def sync_names(mode: str, streaming_standbys: int) -> str:
    if mode == "required" or (mode == "preferred" and streaming_standbys > 0):
        return pgconf.SYNC_ANY_ONE
    return ""
