"""The steps of an in-place restore on each member (the contract and the persisted state: inplace.py).

Target primary: stop the server (fast; the Lease stays held and renewed), rename PGDATA aside, download the base
backup and recover with the restore bootstrap's mechanism (restore.py), let PostgreSQL promote itself on a new
timeline, write its settings back as primary, report ``completed``, and only then delete the old PGDATA. Any failure
before the promotion (download, a damaged backup, the server exiting during recovery), or a promotion at a gap in
the archive (restore.py's check), moves the old PGDATA back and starts it as it was, reporting ``failed``. A
manager killed at any point resumes from the persisted phase: the old copy is deleted only after ``completed`` was
written, the new one only while the old one is still there.

Replicas keep their data (and their server) until the target primary reports ``completed`` for the request: its
history now forks before their position, and pg_rewind needs WAL back to that fork, so they re-clone with
pg_basebackup. A replica reports ``completed`` once it streams from the restored primary on its timeline.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path
from typing import Any

import asyncpg

from req1_operator.instance import inplace, objectstore
from req1_operator.instance.control import ToolError
from req1_operator.instance.inplace import InPlaceRequest
from req1_operator.instance.kube import ApiError
from req1_operator.instance.report import ANNOTATION
from req1_operator.instance.state import log
from req1_operator.instance.transitions import HANDOVER_POLL, Transitions

PEER_POLL = 1.0  # a waiting replica reads the target primary's report this often


class InPlaceRestoring(Transitions):
    async def in_place(self) -> bool:
        """One step of an in-place restore; True when it took the step (the usual role logic waits)."""
        doc = self.inplace.result
        if doc and doc.get("phase") not in inplace.FINAL:
            if doc.get("role") == "primary":
                return await self._primary_step(doc)
            return await self._replica_step(doc)
        if doc and doc.get("phase") == "completed" and doc.get("aside") and not doc.get("asideRemoved"):
            await self._remove_aside(doc)
            if not (self.inplace.result or {}).get("asideRemoved"):
                return False  # its path stays recorded until it is gone: no new request replaces this document
        req = self.inplace_request
        if req is None or req.phase != inplace.ACTIVE or not self.target_known or self.target is None:
            return False
        done = inplace.done_requests(doc)
        if req.request in done:
            return False
        role = "primary" if self.target == self.s.pod_name else "replica"
        log.info("in-place restore %s: starting as the %s (backup %s, target %s)", req.request, role,
                 req.backup_id or "latest", req.target_time or "end of WAL")  # fmt: skip
        self.inplace = inplace.begin(self.s, self.pg, req, role, done, has_data=self.pg.has_data())
        if role == "primary" and (refused := self._refusal(req)):
            inplace.finished(self.inplace, "failed", error=refused)
            self.message = f"in-place restore {req.request} refused: {refused}"
            return False
        self.wake.set()
        return True

    def _refusal(self, req: InPlaceRequest) -> str:
        if req.error:
            return req.error
        if self.s.backup is None:
            return "backups are not configured on this instance (no REQ1_BACKUP_DESTINATION): nothing to restore"
        return ""

    # -- the target primary

    async def _primary_step(self, doc: dict[str, Any]) -> bool:
        phase, request = doc["phase"], doc["request"]
        req = self.inplace_request
        if phase in ("stopping", "downloading", "recovering") and req is not None and req.request == request \
                and req.phase == "failed":  # fmt: skip
            await self._roll_back("the operator gave up on this restore")
            return False
        if phase == "rolling-back":
            await self._roll_back(str(doc.get("error") or "interrupted during the rollback"))
            return False
        if phase == "stopping":
            try:
                await self._stop_and_move_aside(doc)
            except (ToolError, OSError) as exc:
                inplace.finished(self.inplace, "failed", error=str(exc))  # nothing was moved: start as it was
                self.message = f"in-place restore {request} failed: {exc}"
                return False
            phase = "downloading"
        if phase == "downloading":
            self.message = f"in-place restore {request}: downloading the base backup"
            await self.report()
            try:
                await self.inplace.fetch()
            except (ToolError, OSError) as exc:
                await self._roll_back(f"download failed: {exc}")
                return False
            phase = "recovering"
        return await self._recover(request)

    async def _stop_and_move_aside(self, doc: dict[str, Any]) -> None:
        """Stop the server (its last WAL switched out to the archive first), then rename PGDATA aside."""
        if self.pg.running:
            with contextlib.suppress(OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
                await self.local.switch_wal()  # archived at the shutdown: the pre-restore state is complete
            self.expect_running = False
            self.message = f"in-place restore {doc['request']}: stopping the server"
            await self.pg.stop("fast")
            await self.local.close()
            self.obs = None
        if doc.get("aside"):
            if not await asyncio.to_thread(inplace.move_aside, self.s.pgdata, Path(doc["aside"])):
                raise ToolError(f"both {self.s.pgdata} and {doc['aside']} hold data: neither is touched")
            log.info("in-place restore %s: PGDATA moved aside to %s", doc["request"], doc["aside"])

    async def _recover(self, request: str) -> bool:
        """Run the restored server until it has promoted itself; then it is an ordinary primary again."""
        if not self.pg.running:
            if not await self.take_lease():
                self.wake_in(HANDOVER_POLL)
                return True
            self.fenced = False
            self.write_conf(standby=False)  # restore_command and the target, from the in-place restore
            await self.start(standby=False)
            self.message = f"in-place restore {request}: replaying archived WAL"
            return True
        if self.obs is None:
            return True
        if self.obs.in_recovery:  # never promote early: PostgreSQL promotes itself at the target
            self.message = f"in-place restore {request}: replaying archived WAL (at {self.obs.replay_lsn})"
            return True
        if why := await self.inplace.archive_gap(self.obs.timeline):  # stopped at a gap: the old data is better
            abandoned = self.obs.timeline
            await self._roll_back(why)
            await self._forget_timeline(abandoned)
            return False
        self.inplace.finish(self.obs.timeline, self.obs.lsn)
        self.write_conf(standby=False)  # drops restore_command and the target
        self.pg.reload()
        self.next_slots = self.next_roles = 0.0  # the backup's slots and passwords are those of its time
        self.message = f"in-place restore {request} completed on timeline {self.obs.timeline}"
        log.info("in-place restore %s completed: timeline %s, LSN %s", request, self.obs.timeline, self.obs.lsn)
        await self.report()
        await self._remove_aside(self.inplace.result or {})
        return False

    async def _remove_aside(self, doc: dict[str, Any]) -> None:
        """Delete the old PGDATA once ``completed`` is in the annotation (not before: it is the way back)."""
        said = (self.reporter.sent.in_place_restore if self.reporter.sent else None) or {}
        if said.get("request") != doc["request"] or said.get("phase") != "completed":
            return
        await asyncio.to_thread(inplace.remove, Path(doc["aside"]))
        log.info("in-place restore %s: removed the old PGDATA %s", doc["request"], doc["aside"])
        self.inplace.update(asideRemoved=True)

    async def _roll_back(self, why: str) -> None:
        """Put the old PGDATA back (the restored copy is deleted only while the old one exists) and report failed."""
        doc = self.inplace.update(phase="rolling-back", error=why[-500:])
        log.error("in-place restore %s failed, rolling back: %s", doc["request"], why)
        self.expect_running = False
        await self.pg.stop("fast")
        await self.local.close()
        self.obs = None
        await asyncio.to_thread(inplace.put_back, self.s.pgdata, Path(doc["aside"]) if doc.get("aside") else None)
        inplace.finished(self.inplace, "failed")
        self.message = f"in-place restore {doc['request']} failed; the data before it is back: {why[:200]}"
        self.wake.set()  # the usual path starts it again as primary (Lease first)

    async def _forget_timeline(self, timeline: int) -> None:
        """The rolled-back server archived its new timeline for a few seconds: remove it, or a later restore to the
        latest timeline would follow it away from the data that is back (and a promotion could reuse its number)."""
        if self.s.backup is None:
            return
        try:
            gone = await asyncio.to_thread(objectstore.drop_timeline, self.s.backup.location, timeline)
        except Exception as exc:  # boto3's errors: said loudly, the rollback stands
            log.error("in-place restore: the abandoned timeline %s stays in the archive: %s", timeline, exc)
            return
        log.warning("in-place restore: removed the abandoned timeline %s from the archive: %s", timeline, gone)

    # -- replicas

    async def _replica_step(self, doc: dict[str, Any]) -> bool:
        phase, request = doc["phase"], doc["request"]
        if phase == "waiting":
            peer = await self._primary_report(request)
            req = self.inplace_request
            abandoned = self.target_known and (req is None or req.request != request or req.phase == "failed")
            if peer.get("phase") == "failed" or (abandoned and peer.get("phase") != "completed"):
                why = peer.get("error") or "the operator ended it"
                inplace.finished(self.inplace, "failed", error=f"not restored on {self.target}; this replica "
                                 f"kept its data ({str(why)[:200]})")  # fmt: skip
                return False
            if peer.get("phase") != "completed":
                self.message = f"in-place restore {request}: waiting for {self.target} to restore"
                self.wake_in(PEER_POLL)
                return True
            self.inplace.update(phase="cloning", timeline=peer.get("timeline"), backupId=peer.get("backupId"))
            phase = "cloning"
        if phase == "cloning":
            if not await self.primary_is_up():
                self.message = f"in-place restore {request}: waiting for the restored primary"
                self.wake_in(HANDOVER_POLL)
                return True
            self.expect_running = False
            await self.pg.stop("fast")
            await self.local.close()
            self.obs = None
            await self.clone()  # wipe and pg_basebackup: the old history cannot be rewound onto the new one
            self.inplace.update(phase="following")
            return True
        obs = self.obs
        if obs is not None and obs.streaming and obs.timeline >= int(doc.get("timeline") or 0):
            inplace.finished(self.inplace, "completed", timeline=obs.timeline, lsn=obs.lsn)
            log.info("in-place restore %s: re-cloned, streaming on timeline %s", request, obs.timeline)
        return False  # following: the usual replica logic gets it streaming

    async def _primary_report(self, request: str) -> dict[str, Any]:
        """The target primary's ``inPlaceRestore`` for ``request`` (empty while it has none)."""
        if self.target is None:
            return {}
        try:
            raw = (await self.kube.pod_annotations(self.target)).get(ANNOTATION) or "{}"
            found = json.loads(raw).get("inPlaceRestore") or {}
        except (ApiError, ValueError, AttributeError) as exc:
            log.debug("in-place restore: the primary's report: %s", exc)
            return {}
        return found if isinstance(found, dict) and found.get("request") == request else {}
