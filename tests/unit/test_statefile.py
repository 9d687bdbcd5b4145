"""The state file that backup and restore results persist in beside PGDATA."""

from __future__ import annotations

from pathlib import Path

from req1_operator.instance.statefile import StateFile


def test_round_trip_creates_the_directory(tmp_path: Path) -> None:
    f = StateFile(tmp_path / "state", "backup.json")
    assert f.load() is None
    f.save({"phase": "running", "requestId": "a"})
    assert f.load() == {"phase": "running", "requestId": "a"}
    assert not (tmp_path / "state" / "backup.tmp").exists()


def test_unreadable_or_non_object_reads_as_none(tmp_path: Path) -> None:
    f = StateFile(tmp_path, "restore.json")
    f.path.write_text("{not json")
    assert f.load() is None
    f.path.write_text("[1, 2]")
    assert f.load() is None
