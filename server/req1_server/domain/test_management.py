"""Test management (extended contract §5): the accepted values with their 400 messages, and the coverage
figures computed from counts — pure rules, so the store only counts and the tests can check the arithmetic."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from typing import Any

TEST_TYPES = ("manual", "automated", "exploratory")
PRIORITIES = ("critical", "high", "medium", "low")
CASE_STATUSES = ("draft", "ready", "deprecated")
EXECUTION_STATUSES = ("passed", "failed", "blocked", "skipped", "not_run")
NOT_RUN = "not_run"  # the latest status of a case without executions
MAX_DURATION_MS = 2**63 - 1  # bigint


class TestRuleError(ValueError):
    """A refusal whose message is the contract's 400."""

    __test__ = False  # not a pytest class


def duration(value: int) -> int:
    if value < 0:
        raise TestRuleError("duration_ms must not be negative")
    if value > MAX_DURATION_MS:
        raise TestRuleError(f"duration_ms must be at most {MAX_DURATION_MS}")
    return value


def timestamp(value: str, name: str) -> dt.datetime:
    """ISO 8601 with a UTC offset (the frontend sends ``toISOString()``); a local time is ambiguous."""
    try:
        parsed = dt.datetime.fromisoformat(value.strip())
        if parsed.tzinfo is not None:
            return parsed.astimezone(dt.UTC)  # year 1 at +14:00 is not a time Python (or the response) can hold
    except (ValueError, OverflowError):
        pass
    raise TestRuleError(f"{name} must be an ISO 8601 time with a UTC offset")


def percent(part: int, whole: int) -> float:
    """Unrounded 0 to 100; ``0.0`` when there is nothing to cover."""
    return part * 100.0 / whole if whole else 0.0


def tally(values: Iterable[str], keys: tuple[str, ...]) -> dict[str, int]:
    """Counts per key, every key present."""
    counts = Counter(values)
    return {key: counts.get(key, 0) for key in keys}


def coverage(total: int, with_tests: int, passing: int, latest: Iterable[str | None]) -> dict[str, Any]:
    """TestCoverage from the requirement counts and each case's latest execution status (None: no execution)."""
    statuses = [status or NOT_RUN for status in latest]
    return {"total_requirements": total, "requirements_with_tests": with_tests,
            "requirements_with_passing_tests": passing, "test_coverage_pct": percent(with_tests, total),
            "pass_coverage_pct": percent(passing, total), "total_test_cases": len(statuses),
            "by_status": tally(statuses, EXECUTION_STATUSES)}
