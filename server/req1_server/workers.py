"""Worker processes: ``req1-server serve`` on every core the pod is given.

How many: ``WEB_WORKERS`` when set (≥ 1), else the CPU quota of the process's cgroup rounded up
(``cpu.max`` of cgroup v2, ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us`` of v1), bounded by the CPUs the
process may run on; no quota → one per CPU. One worker is the single process of before, no supervisor.

With more than one, the parent (:class:`Supervisor`) runs the migrations once, binds one listening socket
per worker on the same address with ``SO_REUSEPORT`` (the kernel spreads new connections across them and
the parent keeps them open, so a restarted worker takes over its socket's queue), then starts each worker
as ``python -m req1_server.cli serve`` with its socket inherited (``REQ1_LISTEN_FD``), migrations off, its share
of ``DATABASE_POOL_SIZE`` (the pod's connection budget, so the count per pod does not grow with N) and a
shared ``PROMETHEUS_MULTIPROC_DIR`` (created, and emptied, by the parent) so ``/metrics`` on any worker
reports the sum over all of them. A worker that dies is restarted (after 1 s, doubling while it keeps dying
young); a worker that dies at start three times in a row stops the server with its exit code. SIGTERM or
SIGINT to the parent: every worker gets SIGTERM and drains as a single process would (readiness 503 at
once, in-flight requests finish within SHUTDOWN_TIMEOUT_SECONDS), the parent closes its sockets, waits for
them all, and exits 0.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from req1_server.config import Settings

log = logging.getLogger("req1.workers")

LISTEN_FD = "REQ1_LISTEN_FD"  # set in a worker: the inherited listening socket
WORKER_INDEX = "REQ1_WORKER_INDEX"
MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"
CGROUP_ROOT = Path("/sys/fs/cgroup")
YOUNG_SECONDS = 10.0  # a worker that exits sooner than this after its start "died young"
MAX_YOUNG_DEATHS = 3
BACKLOG = 1024


# ---- how many ----------------------------------------------------------------------------------


def parse_cpu_max(text: str) -> float | None:
    """CPUs allowed by a cgroup v2 ``cpu.max`` ("150000 100000" → 1.5; "max 100000" → None)."""
    parts = text.split()
    if not parts or parts[0] == "max":
        return None
    try:
        quota = int(parts[0])
        period = int(parts[1]) if len(parts) > 1 else 100_000
    except ValueError:
        return None
    return quota / period if quota > 0 and period > 0 else None


def parse_cfs(quota_text: str, period_text: str) -> float | None:
    """CPUs allowed by cgroup v1 ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us`` (quota -1 → None)."""
    try:
        quota, period = int(quota_text.strip()), int(period_text.strip())
    except ValueError:
        return None
    return quota / period if quota > 0 and period > 0 else None


def own_cgroup(proc_self_cgroup: str) -> str | None:
    """The v2 path of this process's cgroup from ``/proc/self/cgroup`` ("0::/kubepods/pod1/c1")."""
    for line in proc_self_cgroup.splitlines():
        if line.startswith("0::"):
            return line[3:].strip() or "/"
    return None


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None


def cpu_quota(root: Path = CGROUP_ROOT, proc_self_cgroup: Path = Path("/proc/self/cgroup")) -> float | None:
    """The CPU quota this process sees, in CPUs, or None without one. In a container the cgroup namespace
    makes its own cgroup the root; on a host, the process's cgroup is looked up (then its parents)."""
    candidates: list[Path] = []
    relative = own_cgroup(_read(proc_self_cgroup) or "")
    if relative is not None and relative != "/":
        path = root / relative.lstrip("/")
        while path != root and root in path.parents:
            candidates.append(path)
            path = path.parent
    candidates.append(root)
    limits = [q for c in candidates if (text := _read(c / "cpu.max")) is not None
              if (q := parse_cpu_max(text)) is not None]
    if limits:
        return min(limits)
    for v1 in (root / "cpu", root / "cpu,cpuacct"):
        quota, period = _read(v1 / "cpu.cfs_quota_us"), _read(v1 / "cpu.cfs_period_us")
        if quota is not None and period is not None:
            return parse_cfs(quota, period)
    return None


def available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def worker_count(pinned: int, quota: float | None, cpus: int) -> int:
    """``pinned`` (WEB_WORKERS) when ≥ 1; else the quota rounded up, at most ``cpus``; at least 1."""
    if pinned >= 1:
        return pinned
    if quota is None:
        return max(1, cpus)
    return max(1, min(cpus, math.ceil(quota - 1e-9)))


def worker_pool_size(pod_pool_size: int, workers: int) -> int:
    """DATABASE_POOL_SIZE is the pod's budget of PostgreSQL connections: the workers share it (rounded up)."""
    return max(1, math.ceil(pod_pool_size / max(1, workers)))


def workers_for(settings: Settings) -> int:
    return worker_count(settings.web_workers, cpu_quota(), available_cpus())


# ---- the parent --------------------------------------------------------------------------------


def listening_sockets(host: str, port: int, count: int) -> list[socket.socket]:
    """``count`` sockets listening on the same address with SO_REUSEPORT."""
    family, kind, proto, _, address = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM,
                                                         flags=socket.AI_PASSIVE)[0]
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind(address)
            sock.listen(BACKLOG)
            sock.set_inheritable(True)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


@dataclass
class Worker:
    index: int
    sock: socket.socket
    process: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    young_deaths: int = 0
    restart_at: float = 0.0


@dataclass
class Supervisor:
    settings: Settings
    count: int
    argv: list[str] = field(default_factory=lambda: [sys.executable, "-m", "req1_server.cli", "serve"])
    workers: list[Worker] = field(default_factory=list)
    stopping: str | None = None
    metrics_dir: Path | None = None
    own_metrics_dir: bool = False

    def run(self) -> int:
        """Start the workers, keep them running until SIGTERM/SIGINT, then drain them all. Exit code."""
        sockets = listening_sockets(self.settings.listen_host, self.settings.listen_port, self.count)
        self.workers = [Worker(i, s) for i, s in enumerate(sockets)]
        self.prepare_metrics_dir()
        previous = {sig: signal.signal(sig, self.on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        log.info("req1 server listening on http://%s:%d with %d workers", self.settings.listen_host,
                 self.settings.listen_port, self.count, extra={"build_sha": self.settings.build_sha})
        code = 0
        try:
            for worker in self.workers:
                self.start(worker)
            code = self.watch()
        finally:
            self.shutdown()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self.remove_metrics_dir()
        log.info("req1 server stopped")
        return code

    def on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if self.stopping is None:
            self.stopping = signal.Signals(signum).name

    def prepare_metrics_dir(self) -> None:
        given = os.environ.get(MULTIPROC_DIR)
        if given:
            self.metrics_dir = Path(given)
            self.metrics_dir.mkdir(parents=True, exist_ok=True)
            for stale in self.metrics_dir.glob("*.db"):  # a previous run's counters are not this one's
                stale.unlink(missing_ok=True)
        else:
            self.metrics_dir = Path(tempfile.mkdtemp(prefix="req1-metrics-"))
            self.own_metrics_dir = True

    def remove_metrics_dir(self) -> None:
        if self.metrics_dir is not None and self.own_metrics_dir:
            shutil.rmtree(self.metrics_dir, ignore_errors=True)

    def start(self, worker: Worker) -> None:
        env = {
            **os.environ,
            LISTEN_FD: str(worker.sock.fileno()),
            WORKER_INDEX: str(worker.index),
            MULTIPROC_DIR: str(self.metrics_dir),
            "RUN_MIGRATIONS": "false",  # the parent ran them
            "DATABASE_POOL_SIZE": str(worker_pool_size(self.settings.database_pool_size, self.count)),
        }
        worker.process = subprocess.Popen(self.argv, env=env, pass_fds=(worker.sock.fileno(),),
                                          stdin=subprocess.DEVNULL)
        worker.started = time.monotonic()
        log.info("worker %d started (pid %d)", worker.index, worker.process.pid)

    def watch(self) -> int:
        """Restart workers that exit until a signal arrives; the exit code of a worker that keeps dying at
        start otherwise."""
        while self.stopping is None:
            now = time.monotonic()
            for worker in self.workers:
                process = worker.process
                if process is None:
                    if now >= worker.restart_at:
                        self.start(worker)
                    continue
                code = process.poll()
                if code is None:
                    continue
                self.forget(process.pid)
                worker.process = None
                lived = now - worker.started
                worker.young_deaths = worker.young_deaths + 1 if lived < YOUNG_SECONDS else 0
                if worker.young_deaths >= MAX_YOUNG_DEATHS:
                    log.error("worker %d exited with code %d at start %d times in a row; stopping",
                              worker.index, code, worker.young_deaths)
                    return code if code > 0 else 1
                delay = min(30.0, 2.0 ** max(0, worker.young_deaths - 1)) if worker.young_deaths else 0.0
                worker.restart_at = now + delay
                log.warning("worker %d (pid %d) exited with code %d after %.0fs; restarting in %.0fs",
                            worker.index, process.pid, code, lived, delay)
            time.sleep(0.2)
        log.info("received %s: draining %d workers for up to %.0fs", self.stopping, self.count,
                 self.settings.shutdown_timeout_seconds)
        return 0

    def forget(self, pid: int) -> None:
        """A worker's live gauges (in flight, backend up) go with it; its counters stay in the totals."""
        if self.metrics_dir is None:
            return
        from prometheus_client import multiprocess

        with contextlib.suppress(OSError):
            multiprocess.mark_process_dead(pid, str(self.metrics_dir))

    def shutdown(self) -> None:
        """SIGTERM every worker, stop listening, wait for the drains; SIGKILL what outlives them."""
        running = [w.process for w in self.workers if w.process is not None and w.process.poll() is None]
        for process in running:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
        for worker in self.workers:
            worker.sock.close()
        deadline = time.monotonic() + self.settings.shutdown_timeout_seconds + 10
        for process in running:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("worker pid %d did not stop in time: killed", process.pid)
                process.kill()
                process.wait()
        for worker in self.workers:
            if worker.process is not None:
                self.forget(worker.process.pid)
