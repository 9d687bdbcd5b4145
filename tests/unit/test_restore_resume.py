"""A restore whose download was interrupted (the instance manager killed) starts over into a wiped PGDATA and keeps
the first start: the duration in status.restore is the whole restore's, and the attempts are counted."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

from req1_operator.instance import settings
from req1_operator.instance.restore import Restore

ENV = {"REQ1_INSTANCE": "copy", "POD_NAMESPACE": "prod", "POD_NAME": "copy-postgres-0", "POSTGRES_PASSWORD": "p",
       "REQ1_APP_USER": "req1", "REQ1_APP_PASSWORD": "a", "REQ1_REPLICATION_USER": "r",
       "REQ1_REPLICATION_PASSWORD": "r", "REQ1_RESTORE_SOURCE": "s3://b/req1/prod/orig"}  # fmt: skip


class FakePg:
    """barman-cloud-restore stand-in: writes a backup's files, or is killed half-way (left files, no pg_control)."""

    def __init__(self, pgdata: Path) -> None:
        self.pgdata = pgdata
        self.killed = False
        self.wipes = 0

    def wipe(self) -> None:
        self.wipes += 1
        for f in sorted(self.pgdata.rglob("*"), reverse=True):
            f.unlink() if f.is_file() else f.rmdir()
        self.pgdata.mkdir(parents=True, exist_ok=True)

    async def tool(self, argv: list[str], **_: Any) -> str:
        assert not (self.pgdata / "half-copied").exists(), "the second attempt must start from an empty PGDATA"
        (self.pgdata / "half-copied").write_text("x")
        if self.killed:
            raise asyncio.CancelledError  # the process dies here: nothing after runs
        (self.pgdata / "half-copied").unlink()
        (self.pgdata / "global").mkdir()
        (self.pgdata / "global" / "pg_control").write_text("ok")
        return "Restoring from backup_id: 20261203T102937\n"


def test_an_interrupted_download_starts_over_and_keeps_the_first_start(tmp_path: Path) -> None:
    s = settings.load({**ENV, "PGDATA": str(tmp_path / "data" / "pgdata")})
    pg = FakePg(s.pgdata)
    pg.killed = True
    first = Restore(s, pg)  # type: ignore[arg-type]
    with contextlib.suppress(asyncio.CancelledError):
        asyncio.run(first.fetch())
    started = first.result and first.result["startedAt"]

    again = Restore(s, pg)  # type: ignore[arg-type]  # a new manager process reads restore.json
    assert again.interrupted_download and again.wanted() and again.result is not None
    pg.killed = False
    again.result["startedAtEpoch"] -= 100  # the first attempt began 100 s ago
    asyncio.run(again.fetch())
    assert again.phase == "recovering" and (s.pgdata / "recovery.signal").exists() and pg.wipes == 2
    assert again.result is not None and again.result["attempts"] == 2 and again.result["startedAt"] == started
    assert again.result["downloadSeconds"] >= 100 and again.result["backupId"] == "20261203T102937"
    done = Restore(s, pg).finish(2, "0/9000000")  # type: ignore[arg-type]
    assert done["durationSeconds"] >= 100 and done["attempts"] == 2 and done["phase"] == "completed"


def test_a_first_restore_counts_one_attempt(tmp_path: Path) -> None:
    s = settings.load({**ENV, "PGDATA": str(tmp_path / "data" / "pgdata")})
    r = Restore(s, FakePg(s.pgdata))  # type: ignore[arg-type]
    asyncio.run(r.fetch())
    assert r.result is not None and r.result["attempts"] == 1 and r.phase == "recovering"
