"""Fixtures of the backup, restore and drill tests: a SeaweedFS of the module's own (the outage test stops it),
namespaces for restored instances, and instance clusters (managers as host processes, as in the HA tests)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from backup_support import BUCKET
from test_instance_manager import Cluster, crd, managed_clusters, wait_for

from req1_testenv.scratch import remove_tree, scratch_dir
from req1_testenv.seaweedfs import SeaweedS3

__all__ = ["crd"]  # the module-scoped CRD fixture `clusters` needs


@pytest.fixture(scope="module")
def s3() -> Iterator[SeaweedS3]:
    workdir = scratch_dir("backup-s3")
    server = SeaweedS3(workdir / "s3", bucket=BUCKET, name="seaweedfs-backups").start()
    try:
        yield server
    finally:
        server.stop()
        remove_tree(workdir)


@pytest.fixture
def namespaces(kube_api: Any) -> Iterator[Callable[[], str]]:
    """Extra namespaces (one per restored instance), deleted afterwards."""
    from kubernetes import client

    core = client.CoreV1Api(kube_api)
    made: list[str] = []

    def make() -> str:
        name = f"restore-{uuid.uuid4().hex[:8]}"
        core.create_namespace({"metadata": {"name": name, "labels": {"req1.dev/test": "1"}}})
        wait_for(lambda: core.read_namespaced_service_account("default", name), f"namespace {name}", timeout=30)
        made.append(name)
        return name

    try:
        yield make
    finally:
        for name in made:
            core.delete_namespace(name)


@pytest.fixture
def clusters(crd: None, kube_cluster: Any) -> Iterator[Callable[..., Cluster]]:
    with managed_clusters("backup") as (workdir, made):

        def make(namespace: str, replicas: int = 2) -> Cluster:
            sub = workdir / namespace
            sub.mkdir()
            made.append(Cluster(kube_cluster, namespace, sub, {}, replicas))
            return made[-1]

        yield make
