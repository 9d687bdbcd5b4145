"""PostgreSQL failover for real: the instance managers on the process nodes, the operator deciding, the app's own
API under a write load, faults injected by the test bed.

One instance for the module: 1 primary + 2 replicas, `synchronousMode: required`. A client writes workspaces
back to back through the API Service and keeps a ledger of every write the API acknowledged; after each fault the
writes must resume and every acknowledged write must still be on the (possibly new) primary.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from live_harness import AppClient, WriteLoad, operated_namespace, pod_ready, secret_value, service_ip
from operator_harness import Kubectl, events_for, wait_for, wait_phase

from req1_testenv.kube import KubeCluster
from req1_testenv.kubelet import faults

NAME = "req1"
LIVE_WAIT = 360.0
PSQL = "/usr/lib/postgresql/15/bin/psql"
KILL_ROUNDS = 2
#: Time for writes to resume after the primary's processes are killed: usually 3-9 s (restart in place, or a failover
#: after the operator released the dead holder's Lease), but on the loaded shared machine a round in ten took
#: 34-56 s (a standby not following the new primary at once; docs/postgres-ha.md, "Measured, and what is slow").
#: The goal (median 5 s, max 10 s) is measured by `make bench-failover`, not asserted here.
RESUME_LIMIT = 90.0


@pytest.fixture(scope="module")
def ha(kube_cluster: KubeCluster, admin: Kubectl, operator_kubeconfig: Path,
       tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with operated_namespace(kube_cluster, admin, operator_kubeconfig, tmp_path_factory.mktemp("ha-operator"),
                            "ha") as (ns, op):
        admin.apply({"apiVersion": "req1.io/v1alpha1", "kind": "Req1Instance", "metadata": {"name": NAME},
                     "spec": {"api": {"replicas": 1},
                              "postgres": {"replicas": 2, "synchronousMode": "required"}}}, ns)  # fmt: skip
        wait_phase(admin, NAME, ns, "Ready", timeout=LIVE_WAIT)
        wait_for("two streaming replicas", lambda: streaming(admin, ns) == 2, timeout=LIVE_WAIT)
        password = secret_value(admin, ns, f"{NAME}-api", "admin-password")
        app = AppClient(f"http://{service_ip(admin, kube_cluster, ns, f'{NAME}-api')}")
        app.login("admin@localhost", password)
        yield {"ns": ns, "operator": op, "app": app}


def status(admin: Kubectl, ns: str) -> dict[str, Any]:
    return dict((admin.get("req1", NAME, ns) or {}).get("status") or {})


def streaming(admin: Kubectl, ns: str) -> int:
    members = (status(admin, ns).get("postgres") or {}).get("members") or []
    return sum(1 for m in members if m.get("role") == "replica" and m.get("streaming"))


def primary(admin: Kubectl, ns: str) -> str:
    name = wait_for("a primary", lambda: status(admin, ns).get("primary"), timeout=LIVE_WAIT)
    return str(name)


def stored(admin: Kubectl, cluster: KubeCluster, ns: str, prefix: str) -> set[str]:
    """Ids of the ledger's workspaces as the current primary has them (through the -rw Service)."""
    ip = service_ip(admin, cluster, ns, f"{NAME}-postgres-rw")
    user = secret_value(admin, ns, f"{NAME}-postgres-superuser", "username")
    password = secret_value(admin, ns, f"{NAME}-postgres-superuser", "password")
    db = secret_value(admin, ns, f"{NAME}-postgres-app", "database")
    out = subprocess.run([PSQL, "-h", ip, "-U", user, "-d", db, "-Atc",
                          f"SELECT id::text FROM workspace WHERE name LIKE '{prefix}-%'"],
                         capture_output=True, text=True, env={"PGPASSWORD": password, "PGCONNECT_TIMEOUT": "5"},
                         timeout=30)  # fmt: skip
    assert out.returncode == 0, out.stderr
    return set(out.stdout.split())


def check_ledger(admin: Kubectl, cluster: KubeCluster, ns: str, load: WriteLoad) -> None:
    acked = load.acknowledged()
    assert acked, "no write was acknowledged"
    have = wait_for("the primary answering", lambda: stored(admin, cluster, ns, load.prefix), timeout=60)
    lost = set(acked) - have
    assert not lost, f"{len(lost)} of {len(acked)} acknowledged writes lost: {sorted(lost)[:5]}"


def test_killed_primary_writes_resume_without_lost_commits(ha: dict[str, Any], admin: Kubectl,
                                                          kube_cluster: KubeCluster) -> None:
    ns = ha["ns"]
    rtos = []
    with WriteLoad(ha["app"], "kill") as load:
        load.wait_writes(20, after=time.time() - 60)
        for _ in range(KILL_ROUNDS):
            victim = primary(admin, ns)
            wait_for("two streaming replicas", lambda: streaming(admin, ns) == 2, timeout=LIVE_WAIT)
            t0 = time.time()
            assert faults.kill(kube_cluster.workdir, ns, victim), f"no process of {victim} to kill"
            rto = wait_for("writes resumed", lambda t0=t0: load.resumed_after(t0), timeout=120)
            rtos.append(round(rto, 2))
            load.wait_writes(10, after=t0 + rto)
    print(f"write resume after killing the primary: {rtos} s")
    assert max(rtos) <= RESUME_LIMIT, rtos
    check_ledger(admin, kube_cluster, ns, load)


def test_switchover_on_request(ha: dict[str, Any], admin: Kubectl, kube_cluster: KubeCluster) -> None:
    ns = ha["ns"]
    old = primary(admin, ns)
    wait_for("two streaming replicas", lambda: streaming(admin, ns) == 2, timeout=LIVE_WAIT)
    members = status(admin, ns)["postgres"]["members"]
    new = next(m["name"] for m in members if m["role"] == "replica" and m["streaming"])
    with WriteLoad(ha["app"], "switch") as load:
        load.wait_writes(20, after=time.time() - 60)
        t0 = time.time()
        admin.patch("req1", NAME, ns, {"spec": {"postgres": {"primary": new}}})
        wait_for(f"{new} primary", lambda: status(admin, ns).get("primary") == new, timeout=120)
        pause = wait_for("writes resumed", lambda: load.resumed_after(t0), timeout=120)
        load.wait_writes(10, after=time.time())
    last = status(admin, ns)["lastFailover"]
    assert (last["from"], last["to"]) == (old, new) and last["reason"].startswith("Switchover")
    print(f"switchover {old} -> {new}: writes resumed {pause:.2f} s after the request, "
          f"status.lastFailover.rtoSeconds {last.get('rtoSeconds')}")
    assert "Switchover" in [e["reason"] for e in events_for(admin, NAME, ns)]
    check_ledger(admin, kube_cluster, ns, load)
    wait_for(f"{old} back as a streaming replica", lambda: any(
        m["name"] == old and m["role"] == "replica" and m["streaming"]
        for m in status(admin, ns)["postgres"]["members"]), timeout=LIVE_WAIT)
    admin.patch("req1", NAME, ns, {"spec": {"postgres": {"primary": None}}})  # let later failovers stand


def test_primary_node_down_fails_over_and_rejoins(ha: dict[str, Any], admin: Kubectl,
                                                 kube_cluster: KubeCluster) -> None:
    ns = ha["ns"]
    old = primary(admin, ns)
    wait_for("two streaming replicas", lambda: streaming(admin, ns) == 2, timeout=LIVE_WAIT)
    api_nodes = {p["spec"]["nodeName"] for p in admin.list("pods", ns, "app.kubernetes.io/component=api")}
    node = (admin.get("pod", old, ns) or {})["spec"]["nodeName"]
    if node in api_nodes:  # the one API pod must survive the node loss: move the primary away first
        spare = next(m["name"] for m in status(admin, ns)["postgres"]["members"]
                     if m["role"] == "replica" and m["streaming"]
                     and (admin.get("pod", m["name"], ns) or {})["spec"]["nodeName"] not in api_nodes)
        admin.patch("req1", NAME, ns, {"spec": {"postgres": {"primary": spare}}})
        wait_for(f"{spare} primary", lambda: status(admin, ns).get("primary") == spare, timeout=120)
        admin.patch("req1", NAME, ns, {"spec": {"postgres": {"primary": None}}})
        wait_for("two streaming replicas", lambda: streaming(admin, ns) == 2, timeout=LIVE_WAIT)
        old, node = spare, (admin.get("pod", spare, ns) or {})["spec"]["nodeName"]
    with WriteLoad(ha["app"], "node") as load:
        load.wait_writes(20, after=time.time() - 60)
        t0 = time.time()
        kube_cluster.node_down(node)
        try:
            new = wait_for("a replica promoted", lambda: (p := status(admin, ns).get("primary")) != old and p,
                           timeout=120)
            rto = wait_for("writes resumed", lambda t0=t0: load.resumed_after(t0), timeout=120)
        finally:
            kube_cluster.node_up(node)
        load.wait_writes(10, after=time.time())
    print(f"node {node} down: {new} promoted, writes resumed after {rto:.2f} s")
    assert (admin.get("pod", new, ns) or {})["spec"]["nodeName"] != node
    check_ledger(admin, kube_cluster, ns, load)
    timeline = status(admin, ns)["postgres"]["timeline"]
    wait_for(f"{old} rejoined as a replica on timeline {timeline}", lambda: any(
        m["name"] == old and m["role"] == "replica" and m["streaming"] and m["timeline"] == timeline
        for m in status(admin, ns)["postgres"]["members"]), timeout=LIVE_WAIT)
    wait_for(f"{old} Ready", lambda: pod_ready(admin.get("pod", old, ns) or {}), timeout=120)
