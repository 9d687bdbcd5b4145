"""How many worker processes ``req1-server serve`` runs: WEB_WORKERS, else the cgroup CPU quota."""

from __future__ import annotations

from pathlib import Path

import pytest

from req1_server.config import Settings
from req1_server.workers import cpu_quota, own_cgroup, parse_cfs, parse_cpu_max, worker_count, worker_pool_size


@pytest.mark.parametrize(("text", "cpus"), [
    ("max 100000\n", None),
    ("200000 100000\n", 2.0),
    ("150000 100000", 1.5),
    ("50000 100000", 0.5),
    ("100000", 1.0),  # period omitted: the kernel's default 100 ms
    ("", None),
    ("garbage 100000", None),
    ("0 100000", None),
])
def test_parse_cpu_max(text: str, cpus: float | None) -> None:
    assert parse_cpu_max(text) == cpus


def test_parse_cfs() -> None:
    assert parse_cfs("-1\n", "100000\n") is None
    assert parse_cfs("300000\n", "100000\n") == 3.0
    assert parse_cfs("x", "100000") is None


@pytest.mark.parametrize(("pinned", "quota", "cpus", "expected"), [
    (0, None, 8, 8),      # no quota: every CPU
    (0, 2.0, 8, 2),       # limits.cpu: 2
    (0, 1.5, 8, 2),       # 1500m: rounded up
    (0, 0.5, 8, 1),       # 500m: one
    (0, 16.0, 4, 4),      # a quota above the CPUs there are
    (3, 2.0, 8, 3),       # WEB_WORKERS pins it
    (1, None, 8, 1),
    (0, None, 0, 1),
])
def test_worker_count(pinned: int, quota: float | None, cpus: int, expected: int) -> None:
    assert worker_count(pinned, quota, cpus) == expected


def test_own_cgroup() -> None:
    assert own_cgroup("0::/kubepods/burstable/pod1/c1\n") == "/kubepods/burstable/pod1/c1"
    assert own_cgroup("12:cpu,cpuacct:/docker/x\n") is None
    assert own_cgroup("0::/\n") == "/"


def test_cpu_quota_v2_own_cgroup_then_parents(tmp_path: Path) -> None:
    root = tmp_path / "cgroup"
    own = root / "kubepods" / "pod1" / "c1"
    own.mkdir(parents=True)
    (root / "cpu.max").write_text("max 100000\n")
    (root / "kubepods" / "pod1" / "cpu.max").write_text("300000 100000\n")
    (own / "cpu.max").write_text("max 100000\n")
    proc = tmp_path / "cgroup-self"
    proc.write_text("0::/kubepods/pod1/c1\n")
    assert cpu_quota(root, proc) == 3.0  # the pod's limit, inherited by its container
    (own / "cpu.max").write_text("150000 100000\n")
    assert cpu_quota(root, proc) == 1.5  # the tightest one wins


def test_cpu_quota_namespaced_root_and_v1(tmp_path: Path) -> None:
    root = tmp_path / "cgroup"
    root.mkdir()
    proc = tmp_path / "cgroup-self"
    proc.write_text("0::/\n")
    assert cpu_quota(root, proc) is None  # nothing to read: no quota
    (root / "cpu.max").write_text("200000 100000\n")
    assert cpu_quota(root, proc) == 2.0  # in a container the cgroup namespace makes its own cgroup the root
    (root / "cpu.max").unlink()
    v1 = root / "cpu,cpuacct"
    v1.mkdir()
    (v1 / "cpu.cfs_quota_us").write_text("400000\n")
    (v1 / "cpu.cfs_period_us").write_text("100000\n")
    assert cpu_quota(root, tmp_path / "missing") == 4.0


def test_web_workers_setting() -> None:
    base = {"DATABASE_URL": "postgresql://u:p@localhost/db"}
    assert Settings.from_env(base).web_workers == 0
    assert Settings.from_env({**base, "WEB_WORKERS": "4"}).web_workers == 4
    odd = Settings.from_env({**base, "WEB_WORKERS": "many"})
    assert odd.web_workers == 0 and any("WEB_WORKERS" in w for w in odd.warnings)


def test_workers_share_the_pods_connection_budget() -> None:
    assert worker_pool_size(20, 1) == 20
    assert worker_pool_size(20, 2) == 10
    assert worker_pool_size(20, 3) == 7
    assert worker_pool_size(2, 4) == 1
