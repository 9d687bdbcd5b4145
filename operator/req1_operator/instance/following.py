"""When a replica restarts its walreceiver, and when it gives up on it and rewinds.

A replica streams from the primary Service. When the primary changes (``status.targetPrimary`` names another pod,
or the replica sees a new timeline), its walreceiver may be stuck on a connection to the old primary: a node that
went down sends no RST, and libpq's asynchronous connect, which the walreceiver uses, ignores ``connect_timeout``.
PostgreSQL logs nothing meanwhile, and in ``required`` mode the new primary's commits wait for this standby. So a
replica that does not stream a moment after a change of primary has its walreceiver terminated (SIGTERM from the
manager, its grandparent and the same OS user); the startup process starts a new one within
``wal_retrieve_retry_interval`` (1 s), which connects to whatever the Service leads to now. Should that not help
either, the replica is rewound after a limit that is shorter right after a change of primary than in steady state.

Pure bookkeeping over a monotonic clock, so the rules are unit-tested without servers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

KICK_GRACE = 2.0  # a walreceiver gets this long to stream by itself (after a change, or after it stopped)
KICK_EVERY = 3.0  # then it is terminated at most this often, while it does not stream
REBUILD_AFTER = 30.0  # not streaming this long while the primary is up: rewind or re-clone
REBUILD_AFTER_CHANGE = 10.0  # the same, measured from a change of primary, while CHANGE_WINDOW lasts
CHANGE_WINDOW = 60.0

Action = Literal["wait", "kick", "rebuild"]


@dataclass
class Follower:
    """The state of one replica's streaming, fed with observations; ``action`` says what to do next."""

    target: str | None = None
    timeline: int = 0
    changed_at: float | None = None  # the last change of primary (target or timeline)
    not_streaming_since: float | None = None
    last_kick: float | None = None

    def observe_target(self, target: str | None, t: float) -> bool:
        """A (new) targetPrimary; True when it names another pod than before (a change of primary)."""
        changed = self.target is not None and target is not None and target != self.target
        if target is not None:
            self.target = target
        if changed:
            self._changed(t)
        return changed

    def observe_timeline(self, timeline: int, t: float) -> None:
        if self.timeline and timeline > self.timeline:
            self._changed(t)
        self.timeline = max(self.timeline, timeline)

    def _changed(self, t: float) -> None:
        self.changed_at = t
        self.last_kick = None

    def recent_change(self, t: float) -> bool:
        return self.changed_at is not None and t - self.changed_at <= CHANGE_WINDOW

    def streaming(self) -> None:
        self.not_streaming_since = None
        self.last_kick = None

    def reset(self) -> None:
        """The server was (re)started, rewound or re-cloned: its walreceiver is new."""
        self.not_streaming_since = None
        self.last_kick = None

    def not_streaming(self, t: float) -> Action:
        """The replica does not stream at ``t``: wait, terminate its walreceiver, or rebuild (if the primary is up)."""
        if self.not_streaming_since is None:
            self.not_streaming_since = t
        since = self.not_streaming_since
        limit = REBUILD_AFTER
        if self.recent_change(t):
            assert self.changed_at is not None
            since = max(since, self.changed_at)
            limit = REBUILD_AFTER_CHANGE
        if t - since > limit:
            return "rebuild"
        if t - since >= KICK_GRACE and self.kick_due(t):
            return "kick"
        return "wait"

    def kick_due(self, t: float) -> bool:
        return self.last_kick is None or t - self.last_kick >= KICK_EVERY

    def kicked(self, t: float) -> None:
        self.last_kick = t

    def rebuilt(self) -> None:
        self.reset()
