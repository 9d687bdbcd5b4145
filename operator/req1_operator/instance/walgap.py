"""Did a restore without a target time replay everything the archive holds? (pure; the listing: objectstore.py)

PostgreSQL takes a failed ``restore_command`` for the end of WAL: a segment missing from the archive ends recovery
there, the server promotes and the later segments are silently not applied. After the promotion the new timeline's
history file says where recovery ended (its last line: ``<parent TLI> <switch LSN> <reason>``); if the archive
holds a segment of that parent timeline after the one the switch point ends, recovery stopped at a gap.
"""

from __future__ import annotations

import re

SEGMENT_SIZE = 16 * 1024 * 1024  # PostgreSQL's default; initdb here never sets --wal-segsize
SEGMENT = re.compile(r"^([0-9A-F]{8})([0-9A-F]{8})([0-9A-F]{8})$")


def history_name(timeline: int) -> str:
    return f"{timeline:08X}.history"


def parse_history(text: str) -> tuple[int, str]:
    """(parent timeline, switch LSN) from a timeline history file's last entry; ValueError when it has none."""
    for line in reversed(text.splitlines()):
        fields = line.split("#", 1)[0].split()
        if len(fields) >= 2:
            parent, lsn = int(fields[0]), fields[1]
            lsn_value(lsn)
            return parent, lsn
    raise ValueError("the history file has no entry")


def lsn_value(lsn: str) -> int:
    high, sep, low = lsn.partition("/")
    if not sep:
        raise ValueError(f"not an LSN: {lsn!r}")
    return (int(high, 16) << 32) | int(low, 16)


def segment_number(name: str, size: int = SEGMENT_SIZE) -> int:
    m = SEGMENT.match(name)
    if not m:
        raise ValueError(f"not a WAL segment name: {name!r}")
    return int(m.group(2), 16) * (0x100000000 // size) + int(m.group(3), 16)


def segment_name(timeline: int, number: int, size: int = SEGMENT_SIZE) -> str:
    per_log = 0x100000000 // size
    return f"{timeline:08X}{number // per_log:08X}{number % per_log:08X}"


def archived_segments(names: list[str], timeline: int) -> list[str]:
    """Plain segment names of ``timeline`` among archive file names (``.gz`` dropped; ``.partial``, ``.history``
    and backup labels are not segments recovery reads in sequence)."""
    out = {n.rsplit("/", 1)[-1].removesuffix(".gz") for n in names}
    return sorted(n for n in out if SEGMENT.match(n) and int(n[:8], 16) == timeline)


def gap(history: str, archive_names: list[str], size: int = SEGMENT_SIZE) -> str:
    """Why recovery stopped early, or "" when it reached the last archived segment of its timeline.

    The last segment replayed is the one holding the byte before the switch LSN (after a segment switch record
    recovery ends exactly at the next segment's start); any later archived segment of that timeline was missed."""
    parent, lsn = parse_history(history)
    last = (lsn_value(lsn) - 1) // size
    held = archived_segments(archive_names, parent)
    if not held or segment_number(held[-1], size) <= last:
        return ""
    missing = segment_name(parent, last + 1, size)
    return (f"recovery stopped at {lsn} but the archive holds WAL of timeline {parent} up to {held[-1]}: "
            f"segment {missing} is missing or unreadable")  # fmt: skip
