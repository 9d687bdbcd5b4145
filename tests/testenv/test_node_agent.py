"""Process nodes behave like kubelets for what the operator's stack relies on.

Each test creates real pods in a ``live_namespace`` (they run as processes with their own network)
and checks what a kubelet would show: status from real probes and exit codes, endpoints that follow
readiness, SIGTERM before SIGKILL, restarts with ``restartCount``, configuration delivered to mounted
files, Pending with an Event for an image the test bed cannot stand in for, and a node that dies.
Every wait has a deadline and fails with the last state seen.
"""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any, TypeVar

from kubernetes import client

from req1_testenv.kube import KubeCluster
from req1_testenv.kubelet import faults
from req1_testenv.process import pid_alive
from req1_testenv.waiting import wait_for

T = TypeVar("T")

TOOLBOX = "debian:12"  # the host's shell and core utilities stand in for it
UNKNOWN = "registry.invalid/nobody/unknown-image:1"




def shell_pod(name: str, script: str, **spec: Any) -> dict[str, Any]:
    container = {"name": "main", "image": TOOLBOX, "command": ["sh", "-c", script]}
    container.update(spec.pop("container", {}))
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": spec.pop("labels", {"app": name})},
        "spec": {"containers": [container], **spec},
    }


def web_pod(name: str, readiness_port: int) -> dict[str, Any]:
    """A pod serving its own name on :8080, ready only if ``readiness_port`` answers HTTP."""
    script = "mkdir -p /www && echo $HOSTNAME > /www/index.html && cd /www && exec python3 -m http.server 8080"
    return shell_pod(
        name, script, labels={"app": "web"},
        container={
            "ports": [{"containerPort": 8080, "name": "http"}],
            "readinessProbe": {"httpGet": {"path": "/", "port": readiness_port}, "periodSeconds": 1,
                               "failureThreshold": 1},
            "volumeMounts": [{"name": "www", "mountPath": "/www"}],
        },
        volumes=[{"name": "www", "emptyDir": {}}],
    )


def logs(cluster: KubeCluster, namespace: str, pod: str) -> str:
    found = faults.containers(cluster.workdir, namespace, pod, "main")
    return "".join(p.read_text(errors="replace") for c in found for p in c.logs())


def container_status(core: client.CoreV1Api, namespace: str, pod: str) -> Any:
    statuses = core.read_namespaced_pod(pod, namespace).status.container_statuses or []
    return statuses[0] if statuses else None


def test_unknown_image_stays_pending_with_an_event(kube_api: client.ApiClient, live_namespace: str) -> None:
    core = client.CoreV1Api(kube_api)
    core.create_namespaced_pod(live_namespace, shell_pod("lost", "true", container={"image": UNKNOWN}))

    def failed_event() -> str | None:
        events = core.list_namespaced_event(live_namespace, field_selector="involvedObject.name=lost").items
        return next((e.message for e in events if e.reason == "Failed"), None)

    message = wait_for(failed_event, 60, "a Failed event for the unknown image")
    assert UNKNOWN in message
    time.sleep(2)  # give a wrong agent the chance to fake Running
    pod = core.read_namespaced_pod("lost", live_namespace)
    assert pod.status.phase == "Pending"
    waiting = pod.status.container_statuses[0].state.waiting
    assert waiting is not None and waiting.reason == "ErrImagePull", pod.status.container_statuses


def test_only_ready_pods_are_endpoints(
    kube_cluster: KubeCluster, kube_api: client.ApiClient, live_namespace: str,
) -> None:
    core, disc = client.CoreV1Api(kube_api), client.DiscoveryV1Api(kube_api)
    core.create_namespaced_service(live_namespace, {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": "http"}]},
    })
    core.create_namespaced_pod(live_namespace, web_pod("good", 8080))
    core.create_namespaced_pod(live_namespace, web_pod("bad", 9999))  # nothing listens there

    def endpoints() -> dict[str, bool]:
        out: dict[str, bool] = {}
        selector = "kubernetes.io/service-name=web"
        # raw JSON: the typed client refuses a slice whose endpoints are null (no pod yet)
        answer = disc.list_namespaced_endpoint_slice(live_namespace, label_selector=selector, _preload_content=False)
        for s in json.loads(answer.data)["items"]:
            for e in s.get("endpoints") or []:
                out[e["targetRef"]["name"]] = bool(e["conditions"].get("ready"))
        return out

    wait_for(lambda: endpoints().get("good"), 90, "pod good to be a ready endpoint")
    wait_for(lambda: "bad" in endpoints() or None, 30, "pod bad to be listed (not ready)")
    ip = core.read_namespaced_service("web", live_namespace).spec.cluster_ip
    kube_cluster.fabric().assert_routed(ip)
    for _ in range(10):  # the Service never sends a request to the pod that is not ready
        with urllib.request.urlopen(f"http://{ip}/", timeout=5) as resp:
            assert resp.read().decode().strip() == "good"
        assert endpoints()["bad"] is False
    bad = core.read_namespaced_pod("bad", live_namespace)
    assert bad.status.phase == "Running" and not bad.status.container_statuses[0].ready

    faults.fail_probes(kube_cluster.workdir, live_namespace, "good", "main")
    wait_for(lambda: endpoints().get("good") is False, 30, "pod good to leave the ready endpoints")
    faults.fail_probes(kube_cluster.workdir, live_namespace, "good", "main", failing=False)
    wait_for(lambda: endpoints().get("good"), 30, "pod good to be ready again")


def test_job_pods_end_by_exit_code(kube_api: client.ApiClient, live_namespace: str) -> None:
    batch, core = client.BatchV1Api(kube_api), client.CoreV1Api(kube_api)
    for name, code in (("passes", 0), ("fails", 3)):
        batch.create_namespaced_job(live_namespace, {
            "apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
            "spec": {"backoffLimit": 0, "template": {"spec": {
                "restartPolicy": "Never",
                "containers": [{"name": "main", "image": TOOLBOX, "command": ["sh", "-c", f"echo run; exit {code}"]}],
            }}},
        })

    def finished(name: str) -> str | None:
        status = batch.read_namespaced_job_status(name, live_namespace).status
        return "Complete" if status.succeeded else "Failed" if status.failed else None

    assert wait_for(lambda: finished("passes"), 90, "job passes to finish") == "Complete"
    assert wait_for(lambda: finished("fails"), 90, "job fails to finish") == "Failed"
    pods = core.list_namespaced_pod(live_namespace, label_selector="job-name=fails").items
    assert [p.status.phase for p in pods] == ["Failed"]
    assert pods[0].status.container_statuses[0].state.terminated.exit_code == 3


def test_delete_sends_sigterm_then_sigkill_after_the_grace_period(
    kube_cluster: KubeCluster, kube_api: client.ApiClient, live_namespace: str,
) -> None:
    core = client.CoreV1Api(kube_api)
    polite = "trap 'echo got SIGTERM; exit 0' TERM; echo started; while :; do sleep 0.1; done"
    stubborn = "trap 'echo ignoring SIGTERM' TERM; echo started; while :; do sleep 0.1; done"
    core.create_namespaced_pod(live_namespace, shell_pod("polite", polite, terminationGracePeriodSeconds=30))
    core.create_namespaced_pod(live_namespace, shell_pod("stubborn", stubborn, terminationGracePeriodSeconds=3))
    for name in ("polite", "stubborn"):
        wait_for(lambda n=name: "started" in logs(kube_cluster, live_namespace, n), 60, f"pod {name} to start")  # type: ignore[misc]

    def gone(name: str) -> bool:
        return not [p for p in core.list_namespaced_pod(live_namespace).items if p.metadata.name == name]

    core.delete_namespaced_pod("polite", live_namespace)
    wait_for(lambda: gone("polite"), 20, "pod polite to be gone well inside its 30 s grace")
    assert "got SIGTERM" in logs(kube_cluster, live_namespace, "polite")

    began = time.monotonic()
    core.delete_namespaced_pod("stubborn", live_namespace)
    wait_for(lambda: gone("stubborn"), 30, "pod stubborn to be killed after its grace period")
    waited = time.monotonic() - began
    assert "ignoring SIGTERM" in logs(kube_cluster, live_namespace, "stubborn")
    assert waited >= 2.5, f"SIGKILL came {waited:.1f}s after the delete, before the 3 s grace period"


def test_killed_container_restarts_and_counts(
    kube_cluster: KubeCluster, kube_api: client.ApiClient, live_namespace: str,
) -> None:
    core = client.CoreV1Api(kube_api)
    core.create_namespaced_pod(live_namespace, shell_pod("victim", "echo up; exec sleep 3600"))
    wait_for(lambda: getattr(container_status(core, live_namespace, "victim"), "ready", False), 60, "victim Ready")
    assert faults.kill(kube_cluster.workdir, live_namespace, "victim"), "no process to kill"
    status = wait_for(
        lambda: (s := container_status(core, live_namespace, "victim")) and s.restart_count >= 1 and s.ready and s,
        60, "victim to restart and be ready again",
    )
    assert status.last_state.terminated is not None and status.last_state.terminated.exit_code == 137
    assert len(faults.containers(kube_cluster.workdir, live_namespace, "victim", "main")[0].logs()) == 2


def test_config_and_env_reach_the_container(
    kube_cluster: KubeCluster, kube_api: client.ApiClient, live_namespace: str,
) -> None:
    core = client.CoreV1Api(kube_api)
    core.create_namespaced_config_map(live_namespace, {
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"colour": "blue"}})
    core.create_namespaced_secret(live_namespace, {
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "creds"}, "stringData": {"token": "s3cret"}})
    script = 'echo "env:$TOKEN:$MY_POD:$MY_NS"; while :; do echo "file:$(cat /cfg/colour)"; sleep 1; done'
    core.create_namespaced_pod(live_namespace, shell_pod(
        "reader", script,
        container={
            "env": [
                {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "token"}}},
                {"name": "MY_POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                {"name": "MY_NS", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
            ],
            "volumeMounts": [{"name": "cfg", "mountPath": "/cfg", "readOnly": True}],
        },
        volumes=[{"name": "cfg", "configMap": {"name": "settings"}}],
    ))
    wait_for(lambda: "file:blue" in logs(kube_cluster, live_namespace, "reader"), 60, "the mounted ConfigMap")
    assert f"env:s3cret:reader:{live_namespace}" in logs(kube_cluster, live_namespace, "reader")
    core.patch_namespaced_config_map("settings", live_namespace, {"data": {"colour": "green"}})
    wait_for(lambda: "file:green" in logs(kube_cluster, live_namespace, "reader"), 60,
             "the ConfigMap change to reach the mounted file")


def test_node_down_turns_not_ready_and_comes_back(
    kube_cluster: KubeCluster, kube_api: client.ApiClient, live_namespace: str,
) -> None:
    core = client.CoreV1Api(kube_api)
    node = kube_cluster.process_node_names[-1]
    core.create_namespaced_pod(live_namespace, shell_pod("pinned", "exec sleep 3600", nodeName=node))
    wait_for(lambda: getattr(container_status(core, live_namespace, "pinned"), "ready", False), 60, "pinned Ready")
    pid = faults.containers(kube_cluster.workdir, live_namespace, "pinned", "main")[-1].pid

    def node_ready() -> str:
        conditions = core.read_node(node).status.conditions or []
        return next((c.status for c in conditions if c.type == "Ready"), "missing")

    kube_cluster.node_down(node)
    try:
        assert pid is not None and not pid_alive(pid), "the node's processes die with it"
        wait_for(lambda: node_ready() != "True", 120, f"node {node} to stop being Ready")
        pod = core.read_namespaced_pod("pinned", live_namespace)
        ready = next(c.status for c in pod.status.conditions if c.type == "Ready")
        assert ready == "False", "the node lifecycle controller marks the lost node's pods not ready"
    finally:
        kube_cluster.node_up(node)
    wait_for(lambda: node_ready() == "True", 60, f"node {node} to be Ready again")
    wait_for(lambda: getattr(container_status(core, live_namespace, "pinned"), "ready", False), 60,
             "the pod to run again on the node that came back")
