"""RFC 3339 times in status fields and Kubernetes objects, as seconds since the epoch (pure)."""

from __future__ import annotations

import datetime as dt
from typing import Any


def parse_time(value: Any) -> float | None:
    """`2026-12-03T06:15:30Z` (or with an offset, or a fraction) as epoch seconds; None when absent or malformed."""
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def stamp_seconds(t: float) -> str:
    """Epoch seconds as RFC 3339 in UTC, to the second."""
    return dt.datetime.fromtimestamp(int(t), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
