"""Synchronous replication: spec.postgres.synchronousMode, the synchronous_standby_names it asks for, and what
the primary's commits do meanwhile (reported, so the operator can set its condition and Events)."""

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
    """``required`` always names a standby; ``preferred`` only while one streams, so commits never wait for none."""
    if mode == "required" or (mode == "preferred" and streaming_standbys > 0):
        return pgconf.SYNC_ANY_ONE
    return ""


def sync_state(mode: str, applied_names: str, streaming_standbys: int) -> str:
    """What a primary's commits do now, from the setting in effect (not the one asked for): ``off`` (mode off),
    ``sync`` (a streaming standby acknowledges them), ``async`` (preferred fell back: no standby), ``waiting``
    (a standby is required and none streams: commits wait)."""
    if mode == "off":
        return "off"
    if not applied_names:
        return "async"
    return "sync" if streaming_standbys > 0 else "waiting"
