"""One container of a pod: its process, its probes, its restarts, and its status as the API shows it.

The process is started by :mod:`req1_testenv.kubelet.launch` inside the pod's network namespace and
a mount namespace of its own; its output goes to ``<pod dir>/<container>/<restart>.log`` and its PID
to ``<pod dir>/<container>/pid`` (faults kill it by that PID). Restarts follow ``restartPolicy`` with
the kubelet's back-off (10 s doubling to 5 min, none for the first restart, reset after 10 min up).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from req1_testenv.kubelet import images
from req1_testenv.kubelet.images import ImageStandIn
from req1_testenv.kubelet.probes import ProbeState, run_probe
from req1_testenv.kubelet.volumes import Mount

BACKOFF_START = 10.0
BACKOFF_MAX = 300.0
BACKOFF_RESET = 600.0


def now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class LaunchPlan:
    """Everything the launcher needs, resolved by the pod worker at each (re)start."""

    argv: list[str]
    env: dict[str, str]
    uid: int
    gid: int
    groups: list[int]
    mounts: list[Mount]
    etc_files: dict[str, str]
    hostname: str
    read_only_root: bool


class Container:
    """Supervises one container; ``changed`` is called whenever its reported status changes."""

    def __init__(
        self,
        spec: dict[str, Any],
        image: ImageStandIn,
        directory: Path,
        netns: str,
        pod_ip: str,
        *,
        probe_netns: str,
        init: bool,
        restart_policy: str,
        grace: Callable[[], float],
        plan: Callable[[], Awaitable[LaunchPlan]],
        changed: Callable[[], None],
        event: Callable[[str, str, str], Awaitable[None]],
        restart_count: int = 0,
    ) -> None:
        self.spec = spec
        self.name: str = spec["name"]
        self.image = image
        self.dir = directory
        self.netns = netns
        self.pod_ip = pod_ip
        self.probe_netns = probe_netns
        self.init = init
        self.restart_policy = restart_policy
        self.grace = grace
        self.plan = plan
        self.changed = changed
        self.event = event
        self.restart_count = restart_count
        self.state: dict[str, Any] = {"waiting": {"reason": "ContainerCreating"}}
        self.last_state: dict[str, Any] = {}
        self.ready = False
        self.started = False
        self.proc: asyncio.subprocess.Process | None = None
        self.env: dict[str, str] = {}
        self.uid = self.gid = 0
        self.stopping = False
        self._task: asyncio.Task[None] | None = None
        self.done = asyncio.Event()  # set when the container has terminated for good
        self.exit_code: int | None = None

    # -- status

    def status(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "image": self.spec["image"],
            "imageID": f"req1-testbed://{self.spec['image']}",
            "ready": self.ready,
            "restartCount": self.restart_count,
            "started": self.started,
            "state": self.state,
            "lastState": self.last_state,
        }
        if self.proc is not None:
            out["containerID"] = f"req1://{self.proc.pid}"
        return out

    def _set_state(self, state: dict[str, Any]) -> None:
        self.state = state
        self.changed()

    def _set_ready(self, ready: bool) -> None:
        if ready != self.ready:
            self.ready = ready
            self.changed()

    # -- lifecycle

    def start(self) -> None:
        self._task = asyncio.create_task(self._supervise(), name=f"container {self.name}")

    async def _supervise(self) -> None:
        backoff = 0.0
        while not self.stopping:
            try:
                plan = await self.plan()
            except Exception as exc:  # a missing Secret/ConfigMap/claim: CreateContainerConfigError, retried
                self._set_state({"waiting": {"reason": "CreateContainerConfigError", "message": str(exc)}})
                await self.event("Warning", "Failed", f"Error: {exc}")
                await asyncio.sleep(2)
                continue
            began = time.monotonic()
            code = await self._run_once(plan)
            if self.stopping:
                break
            ran = time.monotonic() - began
            if self.restart_policy == "Never" or (self.restart_policy == "OnFailure" and code == 0):
                break
            backoff = 0.0 if ran > BACKOFF_RESET else backoff
            self.restart_count += 1
            self.last_state = self.state
            if backoff:
                self._set_state({"waiting": {"reason": "CrashLoopBackOff", "message": (
                    f"back-off {backoff:g}s restarting failed container={self.name}")}})
                await self.event("Warning", "BackOff", f"Back-off restarting failed container {self.name}")
                await asyncio.sleep(backoff)
            backoff = min(BACKOFF_MAX, max(BACKOFF_START, backoff * 2))
        self.done.set()

    async def _run_once(self, plan: LaunchPlan) -> int:
        """Start the process, probe it while it runs, return its exit code."""
        self.env, self.uid, self.gid = plan.env, plan.uid, plan.gid
        self.dir.mkdir(parents=True, exist_ok=True)
        root = self.dir / f"root-{self.restart_count}"
        for sub in ("upper", "work", "merged"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        spec_file = self.dir / "launch.json"
        spec_file.write_text(json.dumps({
            "root": {"upper": str(root / "upper"), "work": str(root / "work"), "merged": str(root / "merged")},
            "mounts": [m.as_json() for m in plan.mounts],
            "accounts": [a.__dict__ for a in self.image.accounts],
            "readable": list(self.image.readable),
            # what the image ships that lives on this host: the project (venv, web UI) and its Python
            "image_paths": [str(images.REPO_ROOT), *self.image.readable],
            "etc_files": plan.etc_files,
            "workdir": self.spec.get("workingDir") or self.image.workdir,
            "read_only_root": plan.read_only_root,
            "hostname": plan.hostname,
            "uid": plan.uid, "gid": plan.gid, "groups": plan.groups,
            "argv": plan.argv, "env": plan.env,
        }))
        log = (self.dir / f"{self.restart_count}.log").open("ab")
        argv = ["nsenter", f"--net=/run/netns/{self.netns}", "--", "unshare", "--mount", "--uts", "--",
                sys.executable, "-m", "req1_testenv.kubelet.launch", str(spec_file)]
        try:
            self.proc = await asyncio.create_subprocess_exec(
                *argv, stdout=log, stderr=log, stdin=asyncio.subprocess.DEVNULL, start_new_session=True,
                env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": os.environ.get("PYTHONPATH", "")},
            )
        finally:
            log.close()
        (self.dir / "pid").write_text(f"{self.proc.pid}\n")
        started_at = now()
        self.started = False
        self._set_state({"running": {"startedAt": started_at}})
        await self.event("Normal", "Started", f"Started container {self.name}")
        probes = asyncio.create_task(self._probe_loop(), name=f"probes {self.name}")
        code = await self.proc.wait()
        probes.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await probes
        self._kill_group(signal.SIGKILL)  # leftovers of the process group (e.g. postgres backends)
        self.exit_code = code
        self.started = False
        self._set_ready(False)
        if code < 0:
            code = 128 - code  # killed by signal N: exit code 128+N, as a container runtime reports it
        reason = "Completed" if code == 0 else "Error"
        self._set_state({"terminated": {"exitCode": code, "reason": reason, "startedAt": started_at,
                                        "finishedAt": now(), "containerID": f"req1://{self.proc.pid}"}})
        return code

    async def _probe_loop(self) -> None:
        startup = self.spec.get("startupProbe")
        liveness = self.spec.get("livenessProbe")
        readiness = self.spec.get("readinessProbe")
        if self.init:
            return
        if startup:
            state = ProbeState(startup, initial=False)
            await asyncio.sleep(state.initial_delay)
            while not state.verdict:
                ok, msg = await self._probe(startup)
                state.record(ok, msg)
                if not ok and state.failures >= int(startup.get("failureThreshold", 3)):
                    await self.event("Warning", "Unhealthy", f"Startup probe failed: {msg}")
                    await self._restart_for("failed startup probe")
                    return
                if not state.verdict:
                    await asyncio.sleep(state.period)
        self.started = True
        self.changed()
        if not readiness:
            self._set_ready(True)
        tasks = []
        if readiness:
            tasks.append(self._readiness(readiness))
        if liveness:
            tasks.append(self._liveness(liveness))
        if tasks:
            await asyncio.gather(*tasks)

    async def _readiness(self, probe: dict[str, Any]) -> None:
        state = ProbeState(probe, initial=False)
        await asyncio.sleep(state.initial_delay)
        while True:
            ok, msg = await self._probe(probe)
            if state.record(ok, msg) and not state.verdict:
                await self.event("Warning", "Unhealthy", f"Readiness probe failed: {msg}")
            self._set_ready(state.verdict)
            await asyncio.sleep(state.period)

    async def _liveness(self, probe: dict[str, Any]) -> None:
        state = ProbeState(probe, initial=True)
        await asyncio.sleep(state.initial_delay)
        while True:
            ok, msg = await self._probe(probe)
            if not ok:
                await self.event("Warning", "Unhealthy", f"Liveness probe failed: {msg}")
            state.record(ok, msg)
            if not state.verdict:
                await self._restart_for("failed liveness probe")
                return
            await asyncio.sleep(state.period)

    async def _probe(self, probe: dict[str, Any]) -> tuple[bool, str]:
        forced = self.dir / "fail-probes"
        if forced.exists():
            return False, f"probe failed by the test bed's fault injection ({forced})"
        return await run_probe(probe, self.spec, self.pod_ip, self.exec_argv, self.env, self.probe_netns)

    def exec_argv(self, command: list[str]) -> list[str]:
        """Run a command inside this container: its namespaces, root, working directory and user."""
        assert self.proc is not None
        return ["nsenter", "-t", str(self.proc.pid), "-m", "-u", "-n", "-r", "-w",
                "-S", str(self.uid), "-G", str(self.gid), "--", *command]

    async def _restart_for(self, why: str) -> None:
        await self.event("Normal", "Killing", f"Container {self.name} {why}, will be restarted")
        await self.terminate(self.grace())

    # -- stopping

    def _kill_group(self, sig: int) -> None:
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, sig)

    async def terminate(self, grace: float) -> None:
        """SIGTERM, then SIGKILL after ``grace`` seconds; returns when the process is gone."""
        proc = self.proc
        if proc is None or proc.returncode is not None:
            return
        self._kill_group(signal.SIGTERM)
        try:
            await asyncio.wait_for(asyncio.shield(proc.wait()), max(grace, 0.1))
        except TimeoutError:
            self._kill_group(signal.SIGKILL)
            await proc.wait()

    async def stop(self, grace: float) -> None:
        """Stop for good (pod deletion): no restart afterwards."""
        self.stopping = True
        await self.terminate(grace)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if not self.state.get("terminated"):
            self._set_state({"terminated": {"exitCode": 137, "reason": "Error", "finishedAt": now()}})
        self.done.set()
