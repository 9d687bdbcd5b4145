"""The desired state: status.targetPrimary and spec.postgres.synchronousMode of the Req1Instance, from a watch and
a periodic read (a watch can go silent without an error)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from req1_operator.instance import inplace
from req1_operator.instance.kube import ApiError
from req1_operator.instance.state import ManagerState, log
from req1_operator.instance.syncrep import sync_mode

INSTANCE_READ_INTERVAL = 5.0  # the Req1Instance is also read this often: a watch can go silent without an error


class DesiredState(ManagerState):
    def _set_instance(self, instance: dict[str, Any] | None, *, read: bool = False) -> None:
        rv = _resource_version(instance)
        if rv is not None:
            if rv < self.instance_rv:
                return  # a read that raced with a newer watch event
            self.instance_rv = rv
        status = (instance or {}).get("status") or {}
        target = status.get("targetPrimary") or None
        members = (status.get("postgres") or {}).get("members") or []
        seen = {str(m.get("name")): str(m.get("role")) for m in members if isinstance(m, dict)}
        if seen != self.seen_roles:
            self.seen_roles = seen
            if self.fenced:
                self.wake.set()  # a fenced manager waits for the operator to have seen it (manager.start_stopped)
        mode = sync_mode(instance)
        request = inplace.parse_request(status)
        if request != self.inplace_request:
            log.info("in-place restore request: %s", request)
            self.inplace_request = request
            self.wake.set()
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


def _resource_version(instance: dict[str, Any] | None) -> int | None:
    """The object's resourceVersion as a number (etcd's revision), or None when absent or not numeric."""
    value = ((instance or {}).get("metadata") or {}).get("resourceVersion")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
