"""What the manager says about its server: role, readiness (a replica that stopped streaming is not Ready), the
probes' answers and the status report."""

from __future__ import annotations

import time
from dataclasses import replace

from req1_operator.instance import inplace
from req1_operator.instance.holding import LeaseHolding
from req1_operator.instance.report import InstanceStatus, Role
from req1_operator.instance.syncrep import sync_state

READY_LAG_BYTES = 16 * 1024 * 1024
REPLAY_PROGRESS_WINDOW = 5.0


class Health(LeaseHolding):
    def role(self) -> Role:
        if self.failed:
            return "failed"
        if self.fenced:
            return "fenced"
        if inplace.primary_busy(self.inplace.result):
            return "starting"  # restoring in place: its server in recovery is no replica to count on
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
            in_place_restore=inplace.report(self.inplace.result),
            archiving=self.archiving if role == "primary" else None,
        )  # fmt: skip
        if obs is None or not self.pg.running:
            return base
        # A replica without a walreceiver can only tell the timeline of its last restartpoint, which lags behind
        # after a failover until the next one (checkpoint_timeout); the operator ranks failover candidates by
        # timeline first, so the highest timeline this replica has received on is reported instead.
        timeline = max(obs.timeline, self.follower.timeline) if obs.in_recovery else obs.timeline
        return replace(
            base, timeline=timeline, lsn=obs.lsn, replay_lsn=obs.replay_lsn, streaming=obs.streaming,
            lag_bytes=obs.lag_bytes, system_identifier=obs.system_identifier,
            synchronous=sync_state(self.mode, obs.sync_names, obs.streaming_standbys) if role == "primary" else None,
        )  # fmt: skip

    async def report(self) -> None:
        await self.reporter.report(self.status())
