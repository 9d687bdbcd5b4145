"""The pod's ``req1.io/instance-status`` annotation: what this member is, written only when it matters.

A change of role, readiness, timeline, streaming, system identifier or message is written at once (the operator
watches pods and acts on these); LSN and lag changes at most every 5 s, so a busy primary costs the API server
one patch per pod per 5 s.

The same patch sets the pod's ``req1.io/role`` label by the operator's own rule (`names.role_label`): a promoted
primary is behind the -rw Service one patch after its promotion, and a demoted one leaves it, without waiting for
an operator pass (a switchover's write pause lasted that long, and standbys in ``required`` mode reach the new
primary through the same Service). The operator still writes the label too, from the reports it reads.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

from req1_operator.instance import archiving
from req1_operator.instance.kube import ApiError, Kube
from req1_operator.roles import LABEL_ROLE, role_label

log = logging.getLogger(__name__)

ANNOTATION = "req1.io/instance-status"
LSN_INTERVAL = 5.0

Role = Literal["primary", "replica", "starting", "fenced", "failed"]


@dataclass(frozen=True)
class InstanceStatus:
    role: Role = "starting"
    timeline: int = 0
    lsn: str = "0/0"
    replay_lsn: str = "0/0"
    streaming: bool = False
    lag_bytes: int = 0
    ready: bool = False
    system_identifier: str = ""
    message: str = ""
    synchronous: str | None = None  # a primary's commits: off|sync|async|waiting (syncrep.sync_state)
    # Backups (docs/backups.md): present only when configured or when something happened.
    archiving: dict[str, Any] | None = field(default=None, hash=False)
    backup: dict[str, Any] | None = field(default=None, hash=False)
    restore: dict[str, Any] | None = field(default=None, hash=False)
    in_place_restore: dict[str, Any] | None = field(default=None, hash=False)  # inPlaceRestore (inplace.py)

    def significant(self) -> tuple[Any, ...]:
        return (self.role, self.ready, self.timeline, self.streaming, self.system_identifier, self.message,
                self.synchronous, archiving.significant(self.archiving), json.dumps(self.backup, sort_keys=True),
                json.dumps(self.restore, sort_keys=True),
                json.dumps(self.in_place_restore, sort_keys=True))  # fmt: skip

    def to_json(self, updated_at: dt.datetime) -> str:
        d = asdict(self)
        doc = {
            "role": d["role"],
            "timeline": d["timeline"],
            "lsn": d["lsn"],
            "replayLsn": d["replay_lsn"],
            "streaming": d["streaming"],
            "lagBytes": d["lag_bytes"],
            "ready": d["ready"],
            "systemIdentifier": d["system_identifier"],
            "message": d["message"],
            "updatedAt": updated_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        if d["synchronous"] is not None:
            doc["synchronous"] = d["synchronous"]
        for key in ("archiving", "backup", "restore"):
            if d[key] is not None:
                doc[key] = d[key]
        if d["in_place_restore"] is not None:
            doc["inPlaceRestore"] = d["in_place_restore"]
        return json.dumps(doc, separators=(",", ":"))


def due(new: InstanceStatus, sent: InstanceStatus | None, since_sent: float) -> bool:
    """Whether ``new`` must be written, given what was last written ``since_sent`` seconds ago (pure)."""
    if sent is None or new.significant() != sent.significant():
        return True
    return new != sent and since_sent >= LSN_INTERVAL


UNSENT = "unsent"  # no label written yet (None means: the label removed)


class Reporter:
    def __init__(self, kube: Kube, pod: str, is_target: Callable[[], bool] = lambda: False) -> None:
        self.kube = kube
        self.pod = pod
        self.is_target = is_target  # whether status.targetPrimary names this pod, as the manager last read it
        self.sent: InstanceStatus | None = None
        self.sent_label: str | None = UNSENT
        self.sent_at = 0.0
        self.current = InstanceStatus()

    async def report(self, status: InstanceStatus, *, force: bool = False) -> bool:
        """Write ``status`` (and the role label) if due; False when the API server could not be reached (retried
        on the next call)."""
        self.current = status
        label = role_label(status.role, self.is_target())
        if not force and label == self.sent_label and not due(status, self.sent, time.monotonic() - self.sent_at):
            return True
        try:
            await self.kube.patch_pod(self.pod, {ANNOTATION: status.to_json(dt.datetime.now(dt.UTC))},
                                      {LABEL_ROLE: label})  # fmt: skip
        except ApiError as exc:
            log.warning("could not report status: %s", exc)
            return False
        if self.sent is None or status.significant() != self.sent.significant():
            log.info("reported %s", replace(status, message=status.message[:200]))
        if label != self.sent_label:
            log.info("role label %s", label or "removed")
        self.sent, self.sent_at, self.sent_label = status, time.monotonic(), label
        return True
