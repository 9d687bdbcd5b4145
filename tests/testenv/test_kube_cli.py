"""`python -m req1_testenv.kube up|status|down` (what `make cluster-up/-status/-down` run) round trip."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from req1_testenv.kube import KubeCluster, require_binaries
from req1_testenv.process import ServiceStartError, pid_alive


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "req1_testenv.kube", *args], capture_output=True, text=True, timeout=300, check=False
    )


@pytest.mark.kube
@pytest.mark.slow
def test_up_status_down_by_recorded_pids(tmp_path: Path) -> None:
    try:
        require_binaries()
    except ServiceStartError as exc:
        pytest.fail(str(exc), pytrace=False)
    workdir = tmp_path / "cluster"
    pids: dict[str, int | None] = {}
    up = cli("up", "--dir", str(workdir), "--nodes", "2")
    try:
        assert up.returncode == 0, up.stderr
        printed = yaml.safe_load(up.stdout)
        assert printed == yaml.safe_load((workdir / "kubeconfig").read_text())
        assert printed["clusters"][0]["cluster"]["server"].startswith("https://127.0.0.1:")

        status = cli("status", "--dir", str(workdir))
        assert status.returncode == 0, status.stdout
        assert all(name in status.stdout for name in KubeCluster.attach(workdir).components()), status.stdout

        again = cli("up", "--dir", str(workdir))
        assert again.returncode == 0 and "already running" in again.stderr
        pids = KubeCluster.attach(workdir).pids()
        assert all(pid is not None and pid_alive(pid) for pid in pids.values()), pids
    finally:
        down = cli("down", "--dir", str(workdir))
    assert down.returncode == 0, down.stderr
    assert all(pid is None or not pid_alive(pid) for pid in pids.values())
    assert cli("status", "--dir", str(workdir)).returncode == 1
