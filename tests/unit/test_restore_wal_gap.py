"""A restore without a target time that promoted at a gap in the WAL archive is found out (instance/walgap.py)."""

from __future__ import annotations

import pytest

from req1_operator.instance import walgap

HISTORY = "1\t0/5001234\tno recovery target specified\n"


def test_history_last_entry_is_the_parent_and_switch_point() -> None:
    text = "1\t0/3000000\tno recovery target specified\n\n2\t1/A2000028\tat restore point\n"
    assert walgap.parse_history(text) == (2, "1/A2000028")
    assert walgap.history_name(3) == "00000003.history"
    with pytest.raises(ValueError):
        walgap.parse_history("# nothing here\n")
    with pytest.raises(ValueError):
        walgap.parse_history("1 05001234 x\n")


def test_segment_names_and_numbers() -> None:
    assert walgap.lsn_value("1/A2000028") == 0x1A2000028
    assert walgap.segment_number("0000000100000001000000A2") == 0x1A2
    assert walgap.segment_name(1, 0x1A2) == "0000000100000001000000A2"
    assert walgap.segment_name(2, 0xFF) == "0000000200000000000000FF"
    assert walgap.segment_name(2, 0x100) == "000000020000000100000000"


def test_only_plain_segments_of_the_timeline_count() -> None:
    names = [
        "000000010000000000000004.gz",
        "000000010000000000000007.partial.gz",
        "00000002.history.gz",
        "000000010000000000000003.00000028.backup.gz",
        "000000020000000000000009.gz",
        "000000010000000000000005",
    ]
    assert walgap.archived_segments(names, 1) == ["000000010000000000000004", "000000010000000000000005"]
    assert walgap.archived_segments(names, 2) == ["000000020000000000000009"]


def test_no_gap_when_recovery_reached_the_last_archived_segment() -> None:
    assert walgap.gap(HISTORY, ["000000010000000000000004.gz", "000000010000000000000005.gz"]) == ""
    assert walgap.gap(HISTORY, []) == ""
    # a later timeline's segments or another timeline's .partial are not this timeline's WAL
    assert walgap.gap(HISTORY, ["000000010000000000000006.partial.gz", "000000020000000000000007.gz"]) == ""


def test_a_later_segment_in_the_archive_is_a_gap_named_by_the_first_missing() -> None:
    why = walgap.gap(HISTORY, ["000000010000000000000005.gz", "000000010000000000000007.gz"])
    assert why == (
        "recovery stopped at 0/5001234 but the archive holds WAL of timeline 1 up to "
        "000000010000000000000007: segment 000000010000000000000006 is missing or unreadable"
    )


def test_a_switch_at_a_segment_boundary_ends_the_segment_before() -> None:
    """After a segment switch record recovery ends at the next segment's start: that segment, if archived, was
    not read."""
    at_boundary = "1\t0/6000000\tno recovery target specified\n"
    assert walgap.gap(at_boundary, ["000000010000000000000005.gz"]) == ""
    assert "segment 000000010000000000000006 is missing" in walgap.gap(at_boundary, ["000000010000000000000006.gz"])
