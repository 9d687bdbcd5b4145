"""The main loop: observe the desired role (status.targetPrimary) and the local server, take one step toward
agreement, report. Each step is idempotent and re-derives everything from what it observes, so a restart of the
manager, a lost API server or a dead postmaster all land back in the same few cases.

Rules that make two writable primaries impossible: a primary starts or promotes only after taking the Lease
(with a resourceVersion precondition); it renews every 2 s; it stops accepting writes when it has not renewed
for (duration - 2 s) (fencing.py); a demoting primary stops first and releases the lease after.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from dataclasses import replace
from typing import Any

import asyncpg

from req1_operator.instance import archiving, pgconf
from req1_operator.instance.backup import Backups
from req1_operator.instance.control import Postgres, ToolError
from req1_operator.instance.fencing import Fence
from req1_operator.instance.following import Follower
from req1_operator.instance.kube import ApiError, Kube
from req1_operator.instance.lease import LeaseLost, PrimaryLease, now
from req1_operator.instance.report import InstanceStatus, Reporter, Role
from req1_operator.instance.restore import Restore
from req1_operator.instance.settings import Settings, slot_name
from req1_operator.instance.sql import Local, Observation

log = logging.getLogger(__name__)

RENEW_INTERVAL = 2.0
STEP_INTERVAL = 1.0
SLOTS_INTERVAL = 5.0
ROLES_INTERVAL = 30.0
READY_LAG_BYTES = 16 * 1024 * 1024
REPLAY_PROGRESS_WINDOW = 5.0
HANDOVER_POLL = 0.2  # in a handover (waiting for the old primary's Lease, or for the new primary): look this often
INSTANCE_READ_INTERVAL = 5.0  # the Req1Instance is also read this often: a watch can go silent without an error
CHECKPOINT_LIMIT = 30.0  # the CHECKPOINT before a demotion, which keeps the shutdown checkpoint (the write pause) short
MAX_RESTARTS = 5  # postmaster deaths within RESTART_WINDOW before the container gives up
RESTART_WINDOW = 120.0


class Exit(Exception):
    """The manager cannot keep PostgreSQL running: exit non-zero and let the kubelet restart the container."""


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


class Manager:
    def __init__(self, settings: Settings, kube: Kube) -> None:
        self.s = settings
        self.kube = kube
        self.pg = Postgres(settings)
        self.local = Local(settings)
        self.lease = PrimaryLease(kube, settings.lease_name, settings.pod_name, settings.lease_seconds)
        self.lease_lock = asyncio.Lock()
        self.fence = Fence(settings.fence_after)
        self.reporter = Reporter(kube, settings.pod_name)
        self.wake = asyncio.Event()
        self.backups = Backups(settings, kube, self.pg, self.wake)
        self.restore = Restore(settings, self.pg)
        self.archiving: dict[str, Any] | None = None
        # desired state, from the instance watch
        self.target: str | None = None
        self.target_known = False
        self.mode = "off"
        self.instance_rv = 0  # resourceVersion of what _set_instance last applied (an older read is ignored)
        self.next_instance_read = 0.0
        # local state
        self.obs: Observation | None = None
        self.system_identifier = ""
        self.expect_running = False
        self.fenced = False
        self.fence_reason = ""
        self.failed = False
        self.needs_rewind = False
        self.stopping = False
        self.message = "starting"
        self.deaths: list[float] = []
        self.retry_at = 0.0
        self.backoff = 1.0
        self.next_slots = 0.0
        self.next_roles = 0.0
        self.follower = Follower()  # when to restart the walreceiver, when to rewind (following.py)
        self.last_replay: tuple[str, float] = ("", 0.0)

    # ------------------------------------------------------------------------------------------ desired state

    def _set_instance(self, instance: dict[str, Any] | None, *, read: bool = False) -> None:
        rv = _resource_version(instance)
        if rv is not None:
            if rv < self.instance_rv:
                return  # a read that raced with a newer watch event
            self.instance_rv = rv
        target = ((instance or {}).get("status") or {}).get("targetPrimary") or None
        mode = sync_mode(instance)
        if target != self.target or mode != self.mode or not self.target_known:
            log.info("targetPrimary=%s synchronousMode=%s%s", target, mode,
                     " (read; the watch had not delivered it)" if read and self.target_known else "")  # fmt: skip
            self.follower.observe_target(target, time.monotonic())
            self.target, self.mode, self.target_known = target, mode, True
            self.wake.set()

    async def refresh_instance(self) -> None:
        self.next_instance_read = time.monotonic() + INSTANCE_READ_INTERVAL
        self._set_instance(await self.kube.get_instance(self.s.instance), read=True)

    async def watch_instance(self) -> None:
        """List+watch the Req1Instance forever; every change wakes the main loop."""
        while True:
            try:
                instance = await self.kube.get_instance(self.s.instance)
                self._set_instance(instance)
                rv = (instance or {}).get("metadata", {}).get("resourceVersion", "0")
                async for event in self.kube.watch_instance(self.s.instance, rv):
                    kind, obj = event.get("type"), event.get("object") or {}
                    if kind in ("ADDED", "MODIFIED"):
                        self._set_instance(obj)
                    elif kind == "DELETED":
                        self._set_instance(None)
                    elif kind == "ERROR":
                        break  # e.g. 410 Gone: list again
            except ApiError as exc:
                log.warning("instance watch: %s", exc)
                await asyncio.sleep(1.0)

    # ------------------------------------------------------------------------------------------ lease

    @property
    def holding(self) -> bool:
        return self.fence.armed

    async def renew_loop(self) -> None:
        while True:
            await asyncio.sleep(RENEW_INTERVAL)
            if not self.holding or self.stopping:
                continue
            async with self.lease_lock:
                if not self.holding:
                    continue
                try:
                    await self.lease.renew()
                    self.fence.renewed()
                except LeaseLost as exc:
                    log.error("primary lease taken by %s: fencing", exc.holder)
                    await self.fence_now(f"lease taken by {exc.holder}")
                except ApiError as exc:
                    log.warning("lease renewal failed (%.1fs left): %s", self.fence.seconds_left(), exc)

    async def fence_now(self, why: str) -> None:
        """Stop accepting writes at once: fast shutdown (immediate after 3 s)."""
        if not self.fence.armed:
            return
        self.fence.disarm()
        self.fenced = True
        self.expect_running = False
        self.fence_reason = f"fenced: {why}"
        await self.pg.stop("fast", grace=3.0)
        await self.local.close()
        self.wake.set()

    async def take_lease(self) -> bool:
        """Acquire the lease and arm the fence; False (with a message) when another live holder has it."""
        async with self.lease_lock:
            if await self.lease.acquire():
                self.fence.arm()
                return True
        view = self.lease.view()
        self.message = f"waiting for the primary lease held by {view.holder if view else '?'}"
        return False

    async def release_lease(self) -> None:
        async with self.lease_lock:
            self.fence.disarm()
            try:
                await self.lease.release()
            except ApiError as exc:
                log.warning("could not release the lease (it will expire): %s", exc)

    # ------------------------------------------------------------------------------------------ status

    def role(self) -> Role:
        if self.failed:
            return "failed"
        if self.fenced:
            return "fenced"
        if self.pg.running and self.obs is not None:
            return "replica" if self.obs.in_recovery else "primary"
        return "starting"

    def ready(self) -> tuple[bool, str]:
        obs = self.obs
        if not self.pg.running or obs is None:
            return False, self.message
        if not obs.in_recovery:
            if not self.holding:
                return False, "primary without the lease"
            return True, "primary"
        if not obs.streaming:
            return False, "replica not streaming"
        if obs.lag_bytes < READY_LAG_BYTES:
            return True, "replica streaming"
        if time.monotonic() - self.last_replay[1] < REPLAY_PROGRESS_WINDOW:
            return True, f"replica catching up ({obs.lag_bytes} bytes behind, replaying)"
        return False, f"replica {obs.lag_bytes} bytes behind and not replaying"

    def healthz(self) -> tuple[bool, str]:
        if self.failed:
            return False, self.message
        return True, self.role()

    def readyz(self) -> tuple[bool, str]:
        return self.ready()

    def status(self) -> InstanceStatus:
        obs = self.obs
        ready, _ = self.ready()
        role = self.role()
        message = self.fence_reason if role == "fenced" and self.fence_reason else self.message
        base = InstanceStatus(
            role=role, ready=ready, system_identifier=self.system_identifier, message=message,
            backup=self.backups.result, restore=self.restore.report(),
            archiving=self.archiving if role == "primary" else None,
        )  # fmt: skip
        if obs is None or not self.pg.running:
            return base
        return replace(
            base, timeline=obs.timeline, lsn=obs.lsn, replay_lsn=obs.replay_lsn, streaming=obs.streaming,
            lag_bytes=obs.lag_bytes, system_identifier=obs.system_identifier,
        )  # fmt: skip

    async def report(self) -> None:
        await self.reporter.report(self.status())

    # ------------------------------------------------------------------------------------------ the loop

    async def run(self) -> None:
        while not self.stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), STEP_INTERVAL)
            self.wake.clear()
            if self.stopping:
                break
            if time.monotonic() >= self.next_instance_read:
                # The watch delivers changes at once; this read catches the ones a silently dead watch connection
                # (seen live after the API server was briefly unreachable: no error, no events) would never deliver.
                with contextlib.suppress(ApiError):
                    await self.refresh_instance()
            if time.monotonic() < self.retry_at:
                await self.report()
                continue
            try:
                await self.step()
                self.backoff = 1.0
            except ApiError as exc:  # the API server is away: try again next second (fencing runs regardless)
                log.warning("step: %s", exc)
                self.message = f"{self.message.split(';')[0]}; API server unreachable"
            except Exit:
                raise
            except Exception as exc:  # PID 1 outlives its own bugs: log, back off, observe again
                log.error("step failed: %s", exc, exc_info=not isinstance(exc, ToolError | OSError))
                self.message = f"retrying: {str(exc)[:300]}"
                self.retry_at = time.monotonic() + self.backoff
                self.backoff = min(self.backoff * 2, 30.0)
            await self.report()

    async def observe(self) -> None:
        self.obs = None
        if not self.pg.running:
            return
        try:
            self.obs = await self.local.observe()
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
            log.debug("server not answering yet: %s", exc)
            await self.local.close()
            return
        self.system_identifier = self.obs.system_identifier
        if self.obs.replay_lsn != self.last_replay[0]:
            self.last_replay = (self.obs.replay_lsn, time.monotonic())

    async def step(self) -> None:
        pg = self.pg
        await self.report()  # what is true before acting (e.g. "fenced", once the API answers again)
        if self.expect_running and not pg.running:
            self.on_postmaster_death()
        await self.observe()
        me = self.s.pod_name
        target = self.target
        if not pg.has_data() or self.restore.interrupted_download:
            if target == me or (target is None and self.target_known and await self.fresh_instance()):
                if self.restore.wanted():
                    await self.restore_primary()
                else:
                    await self.bootstrap_primary()
            elif target is not None:
                await self.clone()
            else:
                self.message = "waiting for status.targetPrimary (no data here)"
            return
        if not self.system_identifier:
            control = await pg.controldata()
            self.system_identifier = control.system_identifier if control else ""
        if not pg.running:
            await self.start_stopped(target)
            return
        if self.obs is None:
            self.message = "postgres starting"
            return
        if self.restore.recovering:
            if self.obs.in_recovery:  # never promote early: PostgreSQL promotes itself at the target
                self.message = f"restoring: replaying archived WAL (at {self.obs.replay_lsn})"
                return
            self.restore.finish(self.obs.timeline, self.obs.lsn)
            self.write_conf(standby=False)  # drops restore_command and the target
            self.pg.reload()
        if not self.obs.in_recovery:
            await self.as_primary(target)
        else:
            await self.as_replica(target)
        if self.pg.running and self.obs is not None:
            await self.backups.poll(server_running=True, in_recovery=self.obs.in_recovery)

    def on_postmaster_death(self) -> None:
        t = time.monotonic()
        self.deaths = [d for d in self.deaths if t - d < RESTART_WINDOW] + [t]
        code = self.pg.exit_code if self.pg.exit_code is not None else (self.pg.proc and self.pg.proc.returncode)
        log.error("postmaster exited unexpectedly (code %s)", code)
        self.expect_running = False
        self.fence.disarm()  # a dead primary accepts no writes; it takes the lease again before restarting
        self.obs = None
        if self.restore.recovering:
            self.restore.failed(f"postgres exited during recovery (code {code}); see its log")
        if len(self.deaths) > MAX_RESTARTS:
            self.failed = True
            self.message = f"postmaster died {len(self.deaths)} times in {RESTART_WINDOW:.0f}s"
            raise Exit(self.message)
        self.message = f"postmaster exited (code {code}), restarting"

    async def fresh_instance(self) -> bool:
        """Ordinal 0 of a brand-new instance bootstraps without a target: no primary Lease has ever existed."""
        if self.s.ordinal != 0:
            return False
        return await self.lease.read() is None

    # ------------------------------------------------------------------------------------------ actions

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

    async def start_stopped(self, target: str | None) -> None:
        me = self.s.pod_name
        standby = self.pg.standby_signal()
        if target == me and not standby:
            if self.fenced:
                # Say "fenced" first, then ask the API server itself (not the watch) whether we are still the target.
                sent = await self.reporter.report(self.status())
                if not sent or self.reporter.sent is None or self.reporter.sent.role != "fenced":
                    return
                await self.refresh_instance()
                if self.target != me:
                    return
            if await self.take_lease():
                self.write_conf(standby=False)
                await self.start(standby=False)
                self.fenced = False
                self.message = "primary started"
                return
            view = self.lease.view()
            if view is not None and view.live_holder(now()) not in (None, me):
                self.needs_rewind = True
                await self.follow()
            return
        if target is None:
            if standby and not self.fenced:
                self.write_conf(standby=True)
                await self.start(standby=True)  # read-only is always safe
                self.message = "standby started (no target yet)"
            else:
                self.message = "waiting for status.targetPrimary"
            return
        if target == me or (standby and not self.needs_rewind):
            self.write_conf(standby=True)
            await self.start(standby=True)
            self.message = "standby started"
            return
        await self.follow()

    async def as_primary(self, target: str | None) -> None:
        me = self.s.pod_name
        if target is not None and target != me:
            await self.demote(f"targetPrimary is {target}")
            return
        if not self.holding and not await self.take_lease():
            # e.g. the manager restarted under a running primary and another pod holds the lease: never unguarded
            self.fence.arm()
            await self.fence_now(self.message)
            return
        obs = self.obs
        assert obs is not None
        names = sync_names(self.mode, obs.streaming_standbys)
        if names != obs.sync_names:
            self.write_conf(standby=False, streaming_standbys=obs.streaming_standbys)
            self.pg.reload()
        self.message = self.primary_message(obs)
        await self.observe_archiving()
        t = time.monotonic()
        if t >= self.next_slots:
            self.next_slots = t + SLOTS_INTERVAL
            await self.sync_slots()
        if t >= self.next_roles:
            self.next_roles = t + ROLES_INTERVAL
            changed = await self.local.ensure_roles()
            if changed:
                log.warning("role passwords differed from the Secrets and were reset: %s", ", ".join(changed))

    def primary_message(self, obs: Observation) -> str:
        if self.mode == "required":
            return "primary; synchronous (required)" + ("" if obs.streaming_standbys else ": writes wait for a standby")
        if self.mode == "preferred":
            if obs.streaming_standbys:
                return "primary; synchronous (preferred)"
            return "primary; synchronous replication off: no streaming standby (preferred)"
        return "primary"

    async def observe_archiving(self) -> None:
        if self.s.backup is None:
            self.archiving = None
            return
        failure = archiving.last_failure(self.s.state_dir)
        self.archiving = archiving.health(await self.local.archiver(), failure, self.s.backup.location.full)

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

    async def as_replica(self, target: str | None) -> None:
        obs = self.obs
        assert obs is not None
        if target == self.s.pod_name:
            await self.promote()
            return
        t = time.monotonic()
        self.follower.observe_timeline(obs.timeline, t)
        if obs.streaming:
            self.follower.streaming()
            self.message = "replica streaming"
            return
        self.message = f"replica not streaming from {self.s.primary_host}:{self.s.primary_port}"
        action = self.follower.not_streaming(t)
        if action == "rebuild" and target is not None and await self.primary_is_up():
            log.warning("not streaming while the primary is up: rewinding")
            self.follower.rebuilt()
            await self.pg.stop("fast")
            self.expect_running = False
            self.needs_rewind = True
            await self.follow()
            return
        if action != "wait" and self.follower.kick_due(t):
            self.follower.kicked(t)
            self.restart_walreceiver()

    def restart_walreceiver(self) -> None:
        """Terminate our walreceiver (stuck, e.g., connecting to a primary that vanished with its node); the startup
        process starts a new one within wal_retrieve_retry_interval, which connects to what the Service leads to now.
        pg_terminate_backend() cannot signal an auxiliary process, so the manager, the postmaster's parent and the
        same OS user, signals it itself."""
        pid = self.pg.walreceiver_pid()
        if pid is None:
            return  # none running: the startup process starts one on its own
        log.info("walreceiver (pid %s) not streaming: restarting it", pid)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGTERM)

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

    # ------------------------------------------------------------------------------------------ helpers

    def write_conf(self, *, standby: bool, streaming_standbys: int = 0) -> None:
        self.pg.set_standby_signal(standby)
        pgconf.write(self.s.pgdata, pgconf.managed_settings(
            self.s, standby=standby, sync_names=sync_names(self.mode, streaming_standbys),
            recovering=self.restore.recovering))  # fmt: skip

    async def start(self, *, standby: bool) -> None:
        await self.pg.start()
        self.expect_running = True
        self.obs = None
        self.follower.reset()
        self.wake.set()

    def wake_in(self, seconds: float) -> None:
        """Run the next step after ``seconds`` instead of the usual STEP_INTERVAL."""
        asyncio.get_running_loop().call_later(seconds, self.wake.set)

    async def wait_accepting(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if not self.pg.running:
                raise ToolError(f"postgres exited during startup (code {self.pg.exit_code})")
            with contextlib.suppress(OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
                await self.local.observe()
                return
            await self.local.close()
            await asyncio.sleep(0.2)
        raise ToolError(f"postgres did not accept connections within {seconds:.0f}s")

    async def shutdown(self) -> None:
        """SIGTERM: fast shutdown for a primary (then the lease is released), smart for a replica."""
        self.stopping = True
        await self.backups.close()
        primary = self.obs is not None and not self.obs.in_recovery
        self.expect_running = False
        self.message = "shutting down"
        if primary or self.holding:
            self.fence.disarm()
            await self.pg.stop("fast", grace=20.0)
            await self.release_lease()
        else:
            await self.local.close()  # a smart shutdown waits for every session, ours included
            await self.pg.stop("smart", grace=15.0)
        await self.local.close()
        self.obs = None
        with contextlib.suppress(ApiError):
            await self.reporter.report(
                InstanceStatus(role="starting", system_identifier=self.system_identifier, message="stopped"), force=True
            )


def _resource_version(instance: dict[str, Any] | None) -> int | None:
    """The object's resourceVersion as a number (etcd's revision), or None when absent or not numeric."""
    value = ((instance or {}).get("metadata") or {}).get("resourceVersion")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
