"""What every part of the instance manager shares: its collaborators, the desired and observed state, and the few
helpers (write the managed settings, start the server, look at it) each role change uses."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

import asyncpg

from req1_operator.instance import inplace, pgconf
from req1_operator.instance.backup import Backups
from req1_operator.instance.control import Postgres, ToolError
from req1_operator.instance.fencing import Fence
from req1_operator.instance.following import Follower
from req1_operator.instance.inplace import InPlaceRequest
from req1_operator.instance.kube import Kube
from req1_operator.instance.lease import PrimaryLease
from req1_operator.instance.objectstore import RestoreConfig
from req1_operator.instance.report import Reporter
from req1_operator.instance.restore import Restore
from req1_operator.instance.settings import Settings
from req1_operator.instance.sql import Local, Observation
from req1_operator.instance.syncrep import sync_names

log = logging.getLogger("req1_operator.instance.manager")

SLOTS_INTERVAL = 5.0
ROLES_INTERVAL = 30.0


class Exit(Exception):
    """The manager cannot keep PostgreSQL running: exit non-zero and let the kubelet restart the container."""


class ManagerState:
    def __init__(self, settings: Settings, kube: Kube) -> None:
        self.s = settings
        self.kube = kube
        self.pg = Postgres(settings)
        self.local = Local(settings)
        self.lease = PrimaryLease(kube, settings.lease_name, settings.pod_name, settings.lease_seconds)
        self.lease_lock = asyncio.Lock()
        self.fence = Fence(settings.fence_after)
        self.reporter = Reporter(kube, settings.pod_name, lambda: self.target == settings.pod_name)
        self.wake = asyncio.Event()
        self.backups = Backups(settings, kube, self.pg, self.wake)
        self.restore = Restore(settings, self.pg)  # the bootstrap from another instance's backups
        self.inplace = inplace.load(settings, self.pg)  # an in-place restore from this instance's own backups
        self.archiving: dict[str, Any] | None = None
        # desired state, from the instance watch
        self.target: str | None = None
        self.target_known = False
        self.mode = "off"
        self.inplace_request: InPlaceRequest | None = None  # status.restore.inPlace
        self.instance_rv = 0  # resourceVersion of what _set_instance last applied (an older read is ignored)
        self.next_instance_read = 0.0
        # local state
        self.obs: Observation | None = None
        self.system_identifier = ""
        self.expect_running = False
        self.fenced = False
        self.fenced_reported_at: float | None = None  # when "fenced" was first written after the last fencing
        self.seen_roles: dict[str, str] = {}  # status.postgres.members: each member's role as the operator saw it
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

    def write_conf(self, *, standby: bool, streaming_standbys: int = 0) -> None:
        self.pg.set_standby_signal(standby)
        pgconf.write(self.s.pgdata, pgconf.managed_settings(
            self.s, standby=standby, sync_names=sync_names(self.mode, streaming_standbys),
            recovering=self.recovering()))  # fmt: skip

    def recovering(self) -> RestoreConfig | None:
        """The restore whose recovery runs in this PGDATA (its restore_command and target), if any."""
        for restore in (self.inplace, self.restore):
            if restore.recovering:
                return restore.cfg
        return None

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
