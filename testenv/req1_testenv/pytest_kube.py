"""pytest fixtures for the local Kubernetes control plane (see :mod:`req1_testenv.kube`).

One cluster per test session (it takes seconds to start, tests must not pay that each); every test
gets its own namespace, so tests stay independent. ``REQ1_KUBE_DIR`` points the session at a
cluster that is already up (``make cluster-up``) instead of starting one, for fast iteration.

The session cluster has KWOK nodes (pods turn Ready at once; the default) and, when run as root,
``REQ1_PROCESS_NODES`` (default 3) process nodes whose pods really run; ``live_namespace`` gives a
namespace whose pods go there.

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

from req1_testenv.kube import NODE_SELECTOR_ANNOTATION, PROCESS_NODE_SELECTOR, KubeCluster, require_binaries
from req1_testenv.process import ServiceStartError
from req1_testenv.scratch import remove_tree, scratch_dir

KUBE_FIXTURES = frozenset({"kube_cluster", "kube_namespace", "kube_api", "live_namespace"})


def process_node_count() -> int:
    """Process nodes need root (network namespaces, mounts); elsewhere the cluster has KWOK nodes only."""
    return int(os.environ.get("REQ1_PROCESS_NODES", "3")) if os.geteuid() == 0 else 0


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
    cluster = KubeCluster(root, process_nodes=process_node_count())
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
    """A fresh namespace for this test (pods on KWOK nodes), deleted afterwards (without waiting for finalization)."""
    yield from _namespace(kube_api, "t", {})


@pytest.fixture
def live_namespace(kube_cluster: KubeCluster, kube_api: Any) -> Iterator[str]:
    """A fresh namespace whose pods run as processes on the process nodes (their own network, real probes)."""
    if not kube_cluster.process_nodes:
        pytest.fail("the session cluster has no process nodes: they need root (see docs/testing.md)", pytrace=False)
    yield from _namespace(kube_api, "live", {NODE_SELECTOR_ANNOTATION: PROCESS_NODE_SELECTOR})


def _namespace(kube_api: Any, prefix: str, annotations: dict[str, str]) -> Iterator[str]:
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    core = client.CoreV1Api(kube_api)
    name = f"{prefix}-{uuid.uuid4().hex[:10]}"
    meta = client.V1ObjectMeta(name=name, labels={"req1.dev/test": "1"}, annotations=annotations or None)
    core.create_namespace(client.V1Namespace(metadata=meta))
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
