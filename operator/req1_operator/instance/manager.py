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
import os
import signal
import time

from req1_operator.instance import archiving
from req1_operator.instance.control import ToolError
from req1_operator.instance.desired import DesiredState
from req1_operator.instance.inplace_flow import InPlaceRestoring
from req1_operator.instance.kube import ApiError
from req1_operator.instance.lease import now
from req1_operator.instance.report import InstanceStatus
from req1_operator.instance.sql import Observation
from req1_operator.instance.state import ROLES_INTERVAL, SLOTS_INTERVAL, Exit, log
from req1_operator.instance.syncrep import sync_mode, sync_names

__all__ = ["Exit", "Manager", "sync_mode", "sync_names"]

STEP_INTERVAL = 1.0
#: A fenced manager keeps reporting "fenced" until the operator's status shows it (so its Event is never missed
#: between two passes), at most this long; then it resumes or follows as usual.
FENCED_ANNOUNCE_WAIT = 5.0
MAX_RESTARTS = 5  # postmaster deaths within RESTART_WINDOW before the container gives up
RESTART_WINDOW = 120.0


class Manager(DesiredState, InPlaceRestoring):
    """The main loop: one step toward what the Req1Instance asks, then a report."""

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

    async def step(self) -> None:
        pg = self.pg
        await self.report()  # what is true before acting (e.g. "fenced", once the API answers again)
        if self.expect_running and not pg.running:
            self.on_postmaster_death()
        await self.observe()
        if await self.in_place():  # an in-place restore under way takes the step (inplace_flow.py)
            return
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
            self.restore.finish(self.obs.timeline, self.obs.lsn, await self.restore.archive_gap(self.obs.timeline))
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
        if self.inplace.recovering:  # recovery cannot reach the target (or the copy is damaged): roll back
            self.inplace.update(phase="rolling-back", error=f"postgres exited during recovery (code {code})")
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

    async def start_stopped(self, target: str | None) -> None:
        me = self.s.pod_name
        standby = self.pg.standby_signal()
        if self.fenced and not await self.fencing_announced():
            return
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

    async def fencing_announced(self) -> bool:
        """Whether the operator has seen this pod fenced (or FENCED_ANNOUNCE_WAIT has passed since the report was
        written). A fenced pod that rewinds or resumes within a second would otherwise report "fenced" for less than
        one operator pass, and the fencing would go without its Event."""
        sent = await self.reporter.report(self.status())
        if not sent or self.reporter.sent is None or self.reporter.sent.role != "fenced":
            return False
        t = time.monotonic()
        if self.fenced_reported_at is None:
            self.fenced_reported_at = t
        if self.seen_roles.get(self.s.pod_name) == "fenced" or t - self.fenced_reported_at >= FENCED_ANNOUNCE_WAIT:
            return True
        self.wake_in(0.5)
        return False

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
