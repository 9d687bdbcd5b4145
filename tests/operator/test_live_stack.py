"""The stack a Req1Instance describes, running for real on the process nodes of the local cluster.

Applied with kubectl exactly as a cluster admin would, Ready from real readiness probes, then used
through its Services from the host: login, data, an attachment in the instance's own SeaweedFS, a
revoked token in its own Redis, reads served by its own streaming replica. Then the faults of a
normal life: a crashed API container, a deleted PostgreSQL pod, scaling up and down.
"""

from __future__ import annotations

import http.client
import os
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from live_harness import AppClient, operated_namespace, pod_ready, pods, psql, restart_count, secret_value, service_ip
from operator_harness import Kubectl, events_for, wait_for, wait_phase

from req1_testenv.kube import KubeCluster
from req1_testenv.kubelet import faults

NAME = "req1"
LIVE_WAIT = 600.0  # generous: under a load of 15-20 on 2 cores the first Ready took over 6 minutes
API_PODS = "app.kubernetes.io/instance=req1,app.kubernetes.io/component=api"


@pytest.fixture(scope="module")
def live(kube_cluster: KubeCluster, admin: Kubectl, operator_kubeconfig: Path,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One instance for the module: the minimal example applied to a namespace on the process nodes."""
    with operated_namespace(kube_cluster, admin, operator_kubeconfig, tmp_path_factory.mktemp("live-operator"),
                            "live") as (ns, op):
        example = Path(__file__).resolve().parents[2] / "manifests" / "examples" / "req1instance-minimal.yaml"
        admin.run("apply", "-n", ns, "-f", str(example))
        wait_phase(admin, NAME, ns, "Ready", timeout=LIVE_WAIT)
        config = admin.get("configmap", f"{NAME}-api", ns) or {}
        email = (config.get("data") or {}).get("ADMIN_EMAIL", "admin@localhost")
        password = secret_value(admin, ns, f"{NAME}-api", "admin-password")
        yield {"ns": ns, "operator": op, "email": email, "password": password}


def _client(live: dict[str, Any], admin: Kubectl, cluster: KubeCluster) -> AppClient:
    ip = service_ip(admin, cluster, live["ns"], f"{NAME}-api")
    client = AppClient(f"http://{ip}")
    client.login(live["email"], live["password"])
    return client


def test_example_serves_through_its_service(live: dict[str, Any], admin: Kubectl, kube_cluster: KubeCluster) -> None:
    ns = live["ns"]
    status = wait_phase(admin, NAME, ns, "Ready")
    assert status["phase"] == "Ready"
    for pod in pods(admin, ns, f"app.kubernetes.io/instance={NAME}"):
        if pod["status"].get("phase") == "Running":
            assert pod_ready(pod), pod["metadata"]["name"]
            assert pod["status"]["podIP"].startswith(kube_cluster.fabric().config.pod_cidr.split(".")[0])

    app = _client(live, admin, kube_cluster)
    me = app.ok("GET", "/api/v1/auth/me")
    assert me["email"] == live["email"]
    ws = app.ok("POST", "/api/v1/workspaces", {"name": "Live"}, expect=201)
    project = app.ok("POST", f"/api/v1/workspaces/{ws['id']}/projects", {"name": "P"}, expect=201)
    module = app.ok("POST", "/api/v1/modules", {"name": "M", "project_id": project["id"]}, expect=201)
    obj = app.ok("POST", f"/api/v1/modules/{module['id']}/objects", {"heading": "Brakes", "body": "stop"},
                 expect=201)

    content = os.urandom(64 * 1024)  # incompressible: SeaweedFS stores compressible uploads gzipped
    att = app.upload(f"/api/v1/objects/{obj['id']}/attachments", "spec.txt", content)
    download = app.call("GET", f"/api/v1/objects/{obj['id']}/attachments/{att['id']}/download")
    assert download.status == 200 and download.body == content
    # The bytes live in the instance's own SeaweedFS volume server: its data directory holds them.
    volume_pods = pods(admin, ns, f"app.kubernetes.io/instance={NAME},req1.io/seaweedfs-role=volume")
    assert volume_pods and all(pod_ready(p) for p in volume_pods)
    assert _volume_holds(admin, kube_cluster, ns, volume_pods, content)

    token = app.token
    assert app.call("POST", "/api/v1/auth/logout").status == 204
    app.token = token
    revoked = app.call("GET", "/api/v1/auth/me")
    assert revoked.status == 401, revoked.body


def _volume_holds(admin: Kubectl, cluster: KubeCluster, ns: str, volume_pods: list[dict[str, Any]],
                  content: bytes) -> bool:
    """The attachment's bytes are in one of the volume servers' .dat files (on their PVCs)."""
    for pod in volume_pods:
        claim = next(v["persistentVolumeClaim"]["claimName"] for v in pod["spec"]["volumes"]
                     if "persistentVolumeClaim" in v)
        pvc = admin.get("pvc", claim, ns) or {}
        pv = admin.get("pv", pvc["spec"]["volumeName"], None) or {}
        for dat in Path(pv["spec"]["hostPath"]["path"]).rglob("*.dat"):
            if content[:200] in dat.read_bytes():
                return True
    return False


def test_read_replica_serves_reads(live: dict[str, Any], admin: Kubectl, kube_cluster: KubeCluster) -> None:
    ns = live["ns"]
    admin.patch("req1", NAME, ns, {"spec": {"postgres": {"replicas": 1}}})
    replica = wait_for("a Ready streaming replica", lambda: [
        p for p in pods(admin, ns, f"app.kubernetes.io/instance={NAME},req1.io/role=replica") if pod_ready(p)],
        timeout=LIVE_WAIT)[0]
    wait_phase(admin, NAME, ns, "Ready", timeout=LIVE_WAIT)
    ip = replica["status"]["podIP"]
    kube_cluster.fabric().assert_routed(ip)
    user = secret_value(admin, ns, f"{NAME}-postgres-superuser", "username")
    password = secret_value(admin, ns, f"{NAME}-postgres-superuser", "password")
    db = secret_value(admin, ns, f"{NAME}-postgres-app", "database")
    assert psql(ip, user, password, db, "SELECT pg_is_in_recovery()") == "t"

    app = _client(live, admin, kube_cluster)
    ws = app.ok("POST", "/api/v1/workspaces", {"name": "Reads"}, expect=201)
    project = app.ok("POST", f"/api/v1/workspaces/{ws['id']}/projects", {"name": "P"}, expect=201)
    module = app.ok("POST", "/api/v1/modules", {"name": "M", "project_id": project["id"]}, expect=201)
    app.ok("POST", f"/api/v1/modules/{module['id']}/objects", {"heading": "torque limit"}, expect=201)
    scans = "SELECT coalesce(sum(seq_scan + coalesce(idx_scan, 0)), 0) FROM pg_stat_user_tables"

    def read_on_replica() -> bool:
        before = int(psql(ip, user, password, db, scans))
        for _ in range(5):
            app.ok("GET", f"/api/v1/modules/{module['id']}/validate")  # a whole-module read: the replica's job
        time.sleep(0.7)  # statistics are flushed by the backends at most once a second
        return int(psql(ip, user, password, db, scans)) > before

    wait_for("module reads answered by the replica (its own table statistics move)", read_on_replica, timeout=120)


def _first_event(url: str, token: str, kind: str, timeout: float, started: threading.Event) -> str | None:
    """Read a text/event-stream until an event of ``kind``; ``started`` is set once ``ready`` came."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port or 80, timeout=timeout)
    conn.request("GET", parts.path, headers={"Accept": "text/event-stream", "Authorization": f"Bearer {token}"})
    resp = conn.getresponse()
    assert resp.status == 200, resp.read()[:300]
    event = ""
    try:
        while line := resp.readline().decode():
            if line.startswith("event: "):
                event = line[7:].strip()
            elif line.startswith("data: ") and event == "ready":
                started.set()
            elif line.startswith("data: ") and event == kind:
                return line[6:].strip()
    finally:
        conn.close()
    return None


def test_live_updates_cross_api_replicas(live: dict[str, Any], admin: Kubectl, kube_cluster: KubeCluster) -> None:
    """An edit through one API pod reaches a grid streaming from another pod, and through the Service."""
    ns = live["ns"]
    app = _client(live, admin, kube_cluster)
    assert app.token
    ws = app.ok("POST", "/api/v1/workspaces", {"name": "Live updates"}, expect=201)
    project = app.ok("POST", f"/api/v1/workspaces/{ws['id']}/projects", {"name": "P"}, expect=201)
    module = app.ok("POST", "/api/v1/modules", {"name": "M", "project_id": project["id"]}, expect=201)
    api_pods = [p for p in pods(admin, ns, API_PODS) if pod_ready(p)]
    assert len(api_pods) >= 2, "the minimal example runs two API pods"
    listener, writer = (p["status"]["podIP"] for p in api_pods[:2])
    port = next(c["containerPort"] for c in api_pods[0]["spec"]["containers"][0]["ports"] if c["name"] == "http")
    for ip in (listener, writer):
        kube_cluster.fabric().assert_routed(ip)
    service = f"http://{service_ip(admin, kube_cluster, ns, f'{NAME}-api')}"
    path = f"/api/v1/modules/{module['id']}/events"
    for stream_base in (f"http://{listener}:{port}", service):
        started, got = threading.Event(), list[str | None]()

        def listen(base: str = stream_base, ready: threading.Event = started, out: list[str | None] = got) -> None:
            out.append(_first_event(base + path, app.token or "", "change", 30, ready))

        reader = threading.Thread(target=listen, daemon=True)
        reader.start()
        assert started.wait(30), f"no ready event from {stream_base}"
        direct = AppClient(f"http://{writer}:{port}")
        direct.token = app.token
        obj = direct.ok("POST", f"/api/v1/modules/{module['id']}/objects", {"heading": "seen live"}, expect=201)
        reader.join(30)
        assert got and got[0] and obj["id"] in got[0], (stream_base, got)


def test_killed_api_container_restarts(live: dict[str, Any], admin: Kubectl, kube_cluster: KubeCluster) -> None:
    ns = live["ns"]
    victim = pods(admin, ns, API_PODS)[0]
    name = victim["metadata"]["name"]
    before = restart_count(victim, "api")
    assert faults.kill(kube_cluster.workdir, ns, name, "api"), "no process to kill"

    def restarted() -> bool:
        pod = admin.get("pod", name, ns) or {}
        return restart_count(pod, "api") > before and pod_ready(pod)

    wait_for(f"{name} restarted and Ready again", restarted, timeout=LIVE_WAIT)
    wait_phase(admin, NAME, ns, "Ready", timeout=LIVE_WAIT)
    reasons = [e.get("reason") for e in events_for(admin, NAME, ns)]
    assert "PhaseDegraded" in reasons, reasons


def test_deleted_postgres_pod_keeps_its_rows(live: dict[str, Any], admin: Kubectl, kube_cluster: KubeCluster) -> None:
    ns = live["ns"]
    app = _client(live, admin, kube_cluster)
    ws = app.ok("POST", "/api/v1/workspaces", {"name": "Durable"}, expect=201)
    old = admin.get("pod", f"{NAME}-postgres-0", ns) or {}
    admin.run("delete", "pod", f"{NAME}-postgres-0", "-n", ns, "--wait=true", "--timeout=120s")
    wait_for("a new PostgreSQL pod Ready", lambda: (
        (p := admin.get("pod", f"{NAME}-postgres-0", ns)) and p["metadata"]["uid"] != old["metadata"]["uid"]
        and pod_ready(p)), timeout=LIVE_WAIT)
    wait_phase(admin, NAME, ns, "Ready", timeout=LIVE_WAIT)

    def still_there() -> bool:
        answer = app.call("GET", f"/api/v1/workspaces/{ws['id']}")
        return answer.status == 200 and answer.body["name"] == "Durable"

    wait_for("the workspace read back after the restart", still_there, timeout=120)


def test_scale_api_up_and_down(live: dict[str, Any], admin: Kubectl, kube_cluster: KubeCluster) -> None:
    ns = live["ns"]
    admin.patch("req1", NAME, ns, {"spec": {"api": {"replicas": 4}}})
    wait_for("4 API pods Ready", lambda: len([p for p in pods(admin, ns, API_PODS) if pod_ready(p)]) == 4,
             timeout=LIVE_WAIT)
    four = {p["metadata"]["name"] for p in pods(admin, ns, API_PODS)}
    processes = [faults._latest(faults.containers(kube_cluster.workdir, ns, n, "api")) for n in four]
    assert all(c and c[0].pid for c in processes)
    admin.patch("req1", NAME, ns, {"spec": {"api": {"replicas": 2}}})
    wait_for("2 API pods", lambda: len(pods(admin, ns, API_PODS)) == 2, timeout=LIVE_WAIT)
    gone = four - {p["metadata"]["name"] for p in pods(admin, ns, API_PODS)}
    assert len(gone) == 2
    for name in gone:
        log = faults.containers(kube_cluster.workdir, ns, name, "api")[-1].logs()[-1].read_text()
        assert "received SIGTERM: draining" in log, log[-2000:]
    wait_phase(admin, NAME, ns, "Ready", timeout=LIVE_WAIT)
