"""Role changes of the local server: bootstrap (initdb or restore), clone, promote, demote, and follow a primary
(pg_rewind, else re-clone). A primary starts or promotes only after taking the Lease; a demoting primary stops
first and releases the Lease after."""

from __future__ import annotations

import time

import asyncpg

from req1_operator.instance.control import ToolError
from req1_operator.instance.health import Health
from req1_operator.instance.kube import ApiError
from req1_operator.instance.lease import now
from req1_operator.instance.settings import slot_name
from req1_operator.instance.state import ROLES_INTERVAL, SLOTS_INTERVAL, log

HANDOVER_POLL = 0.2  # in a handover (waiting for the old primary's Lease, or for the new primary): look this often
CHECKPOINT_LIMIT = 30.0  # the CHECKPOINT before a demotion, which keeps the shutdown checkpoint (the write pause) short


class Transitions(Health):
    async def bootstrap_primary(self) -> None:
        if not await self.take_lease():
            return
        self.message = "initdb"
        await self.report()
        await self.pg.initdb()
        self.write_conf(standby=False, streaming_standbys=0)
        await self.start(standby=False)
        await self.wait_accepting(60)
        changed = await self.local.ensure_roles()
        log.info("bootstrap: created %s", ", ".join(changed))
        self.next_roles = time.monotonic() + ROLES_INTERVAL
        self.message = "bootstrapped"

    async def restore_primary(self) -> None:
        """Bootstrap from backups (REQ1_RESTORE_*): download, then recover in the server (see restore.py)."""
        if not await self.take_lease():
            return
        self.message = "restoring: downloading the base backup"
        await self.report()
        await self.restore.fetch()
        self.write_conf(standby=False)
        await self.start(standby=False)
        self.message = "restoring: replaying archived WAL"

    async def clone(self) -> None:
        self.message = f"cloning from {self.s.primary_host}:{self.s.primary_port}"
        await self.report()
        await self.pg.basebackup()
        self.write_conf(standby=True)
        self.needs_rewind = False
        await self.start(standby=True)
        self.message = "cloned"

    async def sync_slots(self) -> None:
        try:
            replicas = await self.kube.statefulset_replicas(self.s.statefulset)
        except ApiError as exc:
            log.warning("slots: %s", exc)
            return
        if replicas is None:
            return
        wanted = {slot_name(f"{self.s.statefulset}-{i}") for i in range(replicas)} - {self.s.slot_name}
        created, dropped = await self.local.sync_slots(wanted)
        if created or dropped:
            log.info("replication slots: created %s, dropped %s", created, dropped)

    async def promote(self) -> None:
        try:
            view = await self.lease.read()
        except ApiError as exc:
            self.message = f"cannot read the primary lease: {exc}"
            return
        holder = view.live_holder(now()) if view else None
        if holder not in (None, self.s.pod_name):
            # A switchover: the old primary releases the Lease the moment its server has stopped. Look again soon
            # rather than at the next 1 s step; the write pause lasts until this promotion.
            self.message = f"waiting to promote: lease held by {holder}"
            self.wake_in(HANDOVER_POLL)
            return
        if not await self.take_lease():
            self.wake_in(HANDOVER_POLL)
            return
        log.info("promoting")
        self.message = "promoting"
        await self.local.promote()
        self.write_conf(standby=False)
        self.pg.reload()
        # The standbys need their slots before they can stream (and, in required mode, before commits return);
        # the operator moves the -rw Service once the report says primary: both at once, not at the next step.
        self.next_slots = time.monotonic() + SLOTS_INTERVAL
        await self.sync_slots()
        self.next_roles = 0.0
        self.message = "promoted"
        await self.observe()
        await self.report()
        self.wake.set()

    async def demote(self, why: str) -> None:
        log.info("demoting: %s", why)
        self.message = f"demoting: {why}"
        # Writes go on during this CHECKPOINT (the successor cannot promote before the Lease is released), and
        # the shutdown checkpoint after it, during which nothing is writable, has almost nothing left to write.
        try:
            await self.local.checkpoint(CHECKPOINT_LIMIT)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
            log.warning("checkpoint before the demotion: %s", exc)
        self.fence.disarm()
        self.expect_running = False
        await self.pg.stop("fast")
        await self.local.close()
        await self.release_lease()
        self.needs_rewind = True
        self.obs = None
        await self.report()
        await self.follow()

    async def primary_is_up(self, *, for_rewind: bool = False) -> bool:
        """The primary Service answers as a primary of our system.

        ``for_rewind``: pg_rewind reads the source's timeline from its control file, which a fresh promotion only
        updates at its next checkpoint (PostgreSQL documents this), so that checkpoint is asked for here."""
        try:
            conn = await asyncpg.connect(
                host=self.s.primary_host, port=self.s.primary_port, user=self.s.superuser,
                password=self.s.superuser_password, database="postgres", timeout=3,
            )  # fmt: skip
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
            return False
        try:
            in_recovery = await conn.fetchval("SELECT pg_is_in_recovery()")
            sysid = await conn.fetchval("SELECT system_identifier::text FROM pg_control_system()")
            up = not in_recovery and (not self.system_identifier or sysid == self.system_identifier)
            if up and for_rewind:
                stale = await conn.fetchval(
                    "SELECT (SELECT timeline_id FROM pg_control_checkpoint())"
                    " < ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int"
                )
                if stale:
                    log.info("checkpoint on the new primary so pg_rewind sees its timeline")
                    await conn.execute("CHECKPOINT")
        finally:
            await conn.close()
        return bool(up)

    async def follow(self) -> None:
        """Former primary (or diverged replica) → replica of the current primary: pg_rewind, else re-clone."""
        if not await self.primary_is_up(for_rewind=True):
            self.message = f"waiting for a primary at {self.s.primary_host}:{self.s.primary_port} to follow"
            self.wake_in(HANDOVER_POLL)
            return
        self.message = "rewinding"
        await self.report()
        try:
            await self.pg.rewind()
        except ToolError as exc:
            log.error("pg_rewind failed, re-cloning: %s", exc)
            self.message = "rewind failed, re-cloning"
            await self.report()
            await self.pg.basebackup()
        self.write_conf(standby=True)
        self.needs_rewind = False
        self.fenced = False
        await self.start(standby=True)
        self.message = "following the primary"
