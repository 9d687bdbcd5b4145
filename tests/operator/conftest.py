"""Operator fixtures: the CRD and the chart's RBAC installed once, and a factory for operator processes that
authenticate with the chart's ServiceAccount token (never as cluster admin)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from operator_harness import OPERATOR_NAMESPACE, OPERATOR_SA, Kubectl, Operator, install_rbac_and_crd


@pytest.fixture(scope="session")
def admin(kube_cluster: Any) -> Kubectl:
    return Kubectl(Path(kube_cluster.kubeconfig))


@pytest.fixture(scope="session")
def operator_kubeconfig(kube_cluster: Any, admin: Kubectl) -> Path:
    """A kubeconfig holding a token of the chart's ServiceAccount, bound to the chart's ClusterRole."""
    install_rbac_and_crd(admin)
    return Path(kube_cluster.service_account_kubeconfig(OPERATOR_NAMESPACE, OPERATOR_SA, create=False))


@pytest.fixture
def start_operator(operator_kubeconfig: Path, tmp_path: Path) -> Iterator[Callable[..., Operator]]:
    """Start `req1-operator run` for some namespaces; every process started is stopped after the test."""
    started: list[Operator] = []

    def start(*namespaces: str, resync: float = 5.0, extra: tuple[str, ...] = ()) -> Operator:
        workdir = tmp_path / f"op{len(started)}"
        op = Operator(operator_kubeconfig, workdir, list(namespaces), resync=resync, extra=extra).start()
        started.append(op)
        return op

    yield start
    for op in started:
        op.stop()


@pytest.fixture
def kube_namespace_2(kube_cluster: Any, admin: Kubectl, kube_namespace: str) -> Iterator[str]:
    """A second fresh namespace (for isolation tests)."""
    name = f"{kube_namespace}-b"
    admin.run("create", "namespace", name)
    wait_sa = ("get", "serviceaccount", "default", "-n", name)
    import time

    for _ in range(120):
        if admin.run(*wait_sa, check=False).returncode == 0:
            break
        time.sleep(0.25)
    yield name
    admin.run("delete", "namespace", name, "--wait=false", check=False)
