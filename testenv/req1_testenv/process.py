"""Start and stop one local service process, tracked by its own PID file.

Every real service the tests and ``make up`` use (PostgreSQL, Redis, SeaweedFS, the Kubernetes
control plane, the req1 server) goes through this one mechanism, so that each is stopped by the PID
it recorded and never by name, and so that a failed start always shows the tail of its log.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

LOG_TAIL_LINES = 40


class ServiceStartError(RuntimeError):
    """A service died or did not become ready in time; the message carries its log tail."""


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1", timeout: float = 0.2) -> bool:
    """True when something accepts TCP connections on host:port."""
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=timeout):
        return True
    return False


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    """Last lines of a log file, or a note that it is missing."""
    if not path.exists():
        return f"(no log at {path})"
    text = path.read_text(errors="replace").splitlines()
    return "\n".join(text[-lines:])


def pid_alive(pid: int) -> bool:
    """True while a process with this PID exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        if stat.rsplit(")", 1)[1].split()[0] == "Z":
            return False
    return True


def stop_pid(pid: int, timeout: float = 15.0, sig: int = signal.SIGTERM) -> None:
    """Signal one PID, wait for it to exit, then SIGKILL it if it is still there."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, os.WNOHANG)
        if not pid_alive(pid):
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, 0)


class ManagedProcess:
    """One long-running process with a PID file and a log file in ``workdir``.

    ``ready`` is polled after the start until it returns True; the process dying first, or the
    timeout passing, raises :class:`ServiceStartError` with the log tail.
    """

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        workdir: Path,
        *,
        env: Mapping[str, str] | None = None,
        ready: Callable[[], bool] | None = None,
        timeout: float = 60.0,
        user: str | None = None,
        cwd: Path | None = None,
        stop_signal: int = signal.SIGTERM,
    ) -> None:
        self.name = name
        self.argv = [str(a) for a in argv]
        self.workdir = Path(workdir)
        self.env = dict(env) if env is not None else None
        self.ready = ready
        self.timeout = timeout
        self.user = user
        self.cwd = cwd
        self.stop_signal = stop_signal
        self.popen: subprocess.Popen[bytes] | None = None

    @property
    def pid_file(self) -> Path:
        return self.workdir / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return self.workdir / f"{self.name}.log"

    @property
    def pid(self) -> int | None:
        """The recorded PID, read from the PID file so another process can stop it too."""
        with contextlib.suppress(FileNotFoundError, ValueError):
            return int(self.pid_file.read_text().strip())
        return None

    def running(self) -> bool:
        pid = self.pid
        return pid is not None and pid_alive(pid)

    def start(self) -> ManagedProcess:
        self.workdir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **self.env} if self.env is not None else None
        with self.log_file.open("ab") as log:
            self.popen = subprocess.Popen(
                self.argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                cwd=self.cwd or self.workdir,
                user=self.user,
                group=self.user,
                start_new_session=True,
            )
        self.pid_file.write_text(f"{self.popen.pid}\n")
        self.wait_ready()
        return self

    def wait_ready(self) -> None:
        deadline = time.monotonic() + self.timeout
        if self.ready is None:
            time.sleep(0.3)  # no probe: at least catch a process that dies at once
        while True:
            if self.popen is not None and self.popen.poll() is not None:
                raise ServiceStartError(
                    f"{self.name} exited with code {self.popen.returncode} during start "
                    f"({' '.join(self.argv[:3])} ...); last lines of {self.log_file}:\n"
                    f"{log_tail(self.log_file)}"
                )
            if self.ready is None or self.ready():
                return
            if time.monotonic() > deadline:
                self.stop()
                raise ServiceStartError(
                    f"{self.name} did not become ready within {self.timeout:.0f}s; "
                    f"last lines of {self.log_file}:\n{log_tail(self.log_file)}"
                )
            time.sleep(0.1)

    def stop(self, timeout: float = 15.0) -> None:
        """Stop exactly the recorded PID and remove the PID file."""
        pid = self.pid
        if pid is not None:
            stop_pid(pid, timeout=timeout, sig=self.stop_signal)
        if self.popen is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=1)
        self.pid_file.unlink(missing_ok=True)
