"""pytest fixtures for the local Kubernetes control plane (see :mod:`req1_testenv.kube`).

One cluster per test session (it takes seconds to start, tests must not pay that each); every test
gets its own namespace, so tests stay independent. ``REQ1_KUBE_DIR`` points the session at a
cluster that is already up (``make cluster-up``) instead of starting one, for fast iteration.

Enable with ``pytest_plugins = ["req1_testenv.pytest_kube"]`` in the top conftest.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from req1_testenv.kube import KubeCluster, require_binaries
from req1_testenv.process import ServiceStartError
from req1_testenv.scratch import remove_tree, scratch_dir

KUBE_FIXTURES = frozenset({"kube_cluster", "kube_namespace", "kube_api"})


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "kube: needs the local Kubernetes control plane")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that uses a cluster fixture ``kube``, so ``-m 'not kube'`` skips them all."""
    for item in items:
        if KUBE_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.kube)


@pytest.fixture(scope="session")
def kube_cluster() -> Iterator[KubeCluster]:
    """The session's cluster: started in a temp dir and stopped at the end (or attached via REQ1_KUBE_DIR)."""
    reuse = os.environ.get("REQ1_KUBE_DIR")
    if reuse:
        cluster = KubeCluster.attach(Path(reuse).resolve())
        if not all(cluster.running().values()):
            pytest.fail(f"REQ1_KUBE_DIR={reuse} has no running cluster; run `make cluster-up` first")
        yield cluster
        return
    try:
        require_binaries()
    except ServiceStartError as exc:
        pytest.fail(str(exc), pytrace=False)
    root = scratch_dir("kube")
    cluster = KubeCluster(root)
    try:
        cluster.start()
    except ServiceStartError as exc:
        pytest.fail(f"local Kubernetes control plane did not start: {exc}", pytrace=False)
    try:
        yield cluster
    finally:
        cluster.stop()
        remove_tree(root)


@pytest.fixture
def kube_api(kube_cluster: KubeCluster) -> Iterator[Any]:
    """A ``kubernetes.client.ApiClient`` with admin rights on the session cluster."""
    api = kube_cluster.api_client()
    try:
        yield api
    finally:
        api.close()


@pytest.fixture
def kube_namespace(kube_cluster: KubeCluster, kube_api: Any) -> Iterator[str]:
    """A fresh namespace for this test, deleted afterwards (without waiting for finalization)."""
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    core = client.CoreV1Api(kube_api)
    name = f"t-{uuid.uuid4().hex[:10]}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name, labels={"req1.dev/test": "1"})))
    # Pods are rejected until the ServiceAccount controller has created "default" here.
    deadline = time.monotonic() + 30
    while True:
        try:
            core.read_namespaced_service_account("default", name)
            break
        except ApiException as exc:
            if exc.status != 404 or time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    try:
        yield name
    finally:
        try:
            core.delete_namespace(name)
        except ApiException as exc:
            if exc.status != 404:
                raise
