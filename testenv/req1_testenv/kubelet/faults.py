"""Faults on demand for the process nodes, and the read side (logs, PIDs) tests and people use.

Everything goes by the state a node agent keeps under ``<cluster dir>/nodes/<node>/pods``: one
directory per pod (``<namespace>_<name>_<uid>``), one per container with its ``pid`` and its logs
(``<restart>.log``). Nothing here asks the node agent: a fault is done to the processes directly.
"""

from __future__ import annotations

import contextlib
import os
import signal
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ContainerDir:
    node: str
    namespace: str
    pod: str
    uid: str
    container: str
    path: Path

    @property
    def pid(self) -> int | None:
        with contextlib.suppress(FileNotFoundError, ValueError):
            return int((self.path / "pid").read_text())
        return None

    def logs(self) -> list[Path]:
        """Log files, oldest restart first."""
        return sorted(self.path.glob("*.log"), key=lambda p: int(p.stem))


def containers(cluster_dir: Path, namespace: str, pod: str, container: str | None = None) -> list[ContainerDir]:
    """The container directories of a pod (of every pod incarnation with that name, newest last)."""
    out: list[ContainerDir] = []
    for pod_path in sorted((cluster_dir / "nodes").glob(f"*/pods/{namespace}_{pod}_*"),
                           key=lambda p: p.stat().st_mtime):
        uid = pod_path.name[len(f"{namespace}_{pod}_"):]
        node = pod_path.parent.parent.name
        for c in sorted(pod_path.iterdir()):
            if c.is_dir() and c.name != "volumes" and (container is None or c.name == container):
                out.append(ContainerDir(node, namespace, pod, uid, c.name, c))
    return out


def kill(cluster_dir: Path, namespace: str, pod: str, container: str | None = None) -> list[int]:
    """SIGKILL the current processes of a pod's containers (no grace): the node agent sees them die."""
    killed: list[int] = []
    latest = _latest(containers(cluster_dir, namespace, pod, container))
    for c in latest:
        pid = c.pid
        if pid is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
                killed.append(pid)
    return killed


def fail_probes(cluster_dir: Path, namespace: str, pod: str, container: str, failing: bool = True) -> None:
    """Make every probe of a container fail (or pass again); the node agent reports it as it would a real failure."""
    for c in _latest(containers(cluster_dir, namespace, pod, container)):
        flag = c.path / "fail-probes"
        if failing:
            flag.touch()
        else:
            flag.unlink(missing_ok=True)


def _latest(found: list[ContainerDir]) -> list[ContainerDir]:
    """Only the newest pod incarnation's containers."""
    if not found:
        return []
    uid = found[-1].uid
    return [c for c in found if c.uid == uid]


def kill_node(cluster_dir: Path, node: str) -> list[int]:
    """SIGKILL every container process of one node (the node agent is stopped by its own PID first)."""
    killed: list[int] = []
    for pid_file in (cluster_dir / "nodes" / node / "pods").glob("*/*/pid"):
        with contextlib.suppress(ValueError, ProcessLookupError, PermissionError, OSError):
            pid = int(pid_file.read_text())
            os.killpg(pid, signal.SIGKILL)
            killed.append(pid)
    return killed


def kill_all(cluster_dir: Path) -> None:
    """Leftover container processes of every node (a node agent that was killed cannot stop its pods)."""
    for node in (cluster_dir / "nodes").glob("*"):
        kill_node(cluster_dir, node.name)
