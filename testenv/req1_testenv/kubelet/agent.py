"""The node agent: a kubelet stand-in whose pods run as processes on this machine.

One agent process per node (``python -m req1_testenv.kubelet.agent --node req1-node-0 …``). It
registers its Node, renews the node Lease (so the real node lifecycle controller sees it die when
it is stopped), watches the pods bound to it and gives each a :class:`PodWorker`. Its state lives in
``<cluster dir>/nodes/<node>``: one directory per pod with each container's logs and PID.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import logging
import os
import signal
import uuid
from pathlib import Path
from typing import Any

from req1_testenv.kubelet.api import ApiError, KubeApi
from req1_testenv.kubelet.pod import PodWorker, pod_key
from req1_testenv.podnet.fabric import Fabric

log = logging.getLogger("req1.kubelet")

NODE_KIND_LABEL = "req1.dev/node-kind"
NODE_KIND = "process"
LEASE_SECONDS = 20
LEASE_RENEW_SECONDS = 5.0
STATUS_SECONDS = 30.0
ALLOCATABLE = {"cpu": "32", "memory": "128Gi", "pods": "110", "ephemeral-storage": "500Gi"}


def _now(micro: bool = False) -> str:
    fmt = "%Y-%m-%dT%H:%M:%S.%fZ" if micro else "%Y-%m-%dT%H:%M:%SZ"
    return dt.datetime.now(dt.UTC).strftime(fmt)


def node_dir(cluster_dir: Path, node: str) -> Path:
    return cluster_dir / "nodes" / node


class NodeAgent:
    def __init__(self, node: str, cluster_dir: Path, kubeconfig: Path, zone: str) -> None:
        self.node = node
        self.zone = zone
        self.dir = node_dir(cluster_dir, node)
        self.pods_dir = self.dir / "pods"
        self.api = KubeApi(kubeconfig)
        self.fabric = Fabric(cluster_dir / "fabric")
        self.node_ip = ""
        self.workers: dict[str, PodWorker] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        apiserver_ip = self.fabric.config.apiserver_ip
        self.service_env = {
            "KUBERNETES_SERVICE_HOST": apiserver_ip,
            "KUBERNETES_SERVICE_PORT": "443",
            "KUBERNETES_SERVICE_PORT_HTTPS": "443",
            "KUBERNETES_PORT": f"tcp://{apiserver_ip}:443",
            "KUBERNETES_PORT_443_TCP": f"tcp://{apiserver_ip}:443",
            "KUBERNETES_PORT_443_TCP_PROTO": "tcp",
            "KUBERNETES_PORT_443_TCP_PORT": "443",
            "KUBERNETES_PORT_443_TCP_ADDR": apiserver_ip,
        }

    # -- node

    def _conditions(self) -> list[dict[str, Any]]:
        t = _now()
        healthy = [("MemoryPressure", "KubeletHasSufficientMemory"), ("DiskPressure", "KubeletHasNoDiskPressure"),
                   ("PIDPressure", "KubeletHasSufficientPID")]
        out = [{"type": k, "status": "False", "reason": r, "message": "req1 node agent", "lastHeartbeatTime": t,
                "lastTransitionTime": t} for k, r in healthy]
        out.append({"type": "Ready", "status": "True", "reason": "KubeletReady",
                    "message": "req1 node agent is posting ready status", "lastHeartbeatTime": t,
                    "lastTransitionTime": t})
        return out

    async def register(self) -> None:
        net = await asyncio.to_thread(self.fabric.add_node, self.node)
        self.node_ip = net.ip
        labels = {
            "kubernetes.io/hostname": self.node, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
            "topology.kubernetes.io/zone": self.zone, NODE_KIND_LABEL: NODE_KIND, "type": NODE_KIND,
        }
        body = {"apiVersion": "v1", "kind": "Node",
                "metadata": {"name": self.node, "labels": labels,
                             "annotations": {"node.alpha.kubernetes.io/ttl": "0"}},
                "spec": {"podCIDR": net.pod_subnet, "podCIDRs": [net.pod_subnet]}}
        try:
            await self.api.create("/api/v1/nodes", body)
        except ApiError as exc:
            if exc.status != 409:
                raise
            await self.api.merge_patch(f"/api/v1/nodes/{self.node}", {"metadata": {"labels": labels}})
        await self._post_status()

    async def _post_status(self) -> None:
        status = {
            "capacity": ALLOCATABLE, "allocatable": ALLOCATABLE, "conditions": self._conditions(),
            "addresses": [{"type": "InternalIP", "address": self.node_ip}, {"type": "Hostname", "address": self.node}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {"machineID": "", "systemUUID": "", "bootID": "", "kernelVersion": os.uname().release,
                         "osImage": "req1 test bed (processes)", "containerRuntimeVersion": "req1-testbed://1",
                         "kubeletVersion": "v1.36.3", "kubeProxyVersion": "", "operatingSystem": "linux",
                         "architecture": "amd64"},
        }
        await self.api.merge_patch(f"/api/v1/nodes/{self.node}/status", {"status": status})

    async def _heartbeats(self) -> None:
        path = f"/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/{self.node}"
        since_status = 0.0
        while True:
            with contextlib.suppress(ApiError, OSError, asyncio.TimeoutError):
                spec = {"holderIdentity": self.node, "leaseDurationSeconds": LEASE_SECONDS,
                        "renewTime": _now(micro=True)}
                if await self.api.get_or_none(path) is None:
                    await self.api.create(
                        "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases",
                        {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                         "metadata": {"name": self.node, "namespace": "kube-node-lease"}, "spec": spec})
                else:
                    await self.api.merge_patch(path, {"spec": spec})
                since_status += LEASE_RENEW_SECONDS
                if since_status >= STATUS_SECONDS:
                    since_status = 0.0
                    await self._post_status()
            await asyncio.sleep(LEASE_RENEW_SECONDS)

    # -- pods

    async def event(self, pod: dict[str, Any], kind: str, reason: str, message: str) -> None:
        meta = pod["metadata"]
        t = _now()
        body = {
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": f"{meta['name']}.{uuid.uuid4().hex[:12]}", "namespace": meta["namespace"]},
            "involvedObject": {"apiVersion": "v1", "kind": "Pod", "name": meta["name"],
                               "namespace": meta["namespace"], "uid": meta["uid"]},
            "reason": reason, "message": message[:1024], "type": kind,
            "source": {"component": "kubelet", "host": self.node},
            "firstTimestamp": t, "lastTimestamp": t, "count": 1,
            "reportingComponent": "kubelet", "reportingInstance": self.node,
        }
        with contextlib.suppress(ApiError, OSError, asyncio.TimeoutError):
            await self.api.create(f"/api/v1/namespaces/{meta['namespace']}/events", body)

    async def _watch_pods(self) -> None:
        async for kind, pod in self.api.watch("/api/v1/pods", fieldSelector=f"spec.nodeName={self.node}"):
            uid = pod["metadata"]["uid"]
            worker = self.workers.get(uid)
            if kind == "DELETED":
                if worker is not None:
                    pod["metadata"].setdefault("deletionTimestamp", _now())
                    pod["metadata"]["deletionGracePeriodSeconds"] = 0
                    worker.update(pod)
                continue
            if worker is None:
                if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed") and not \
                        pod["metadata"].get("deletionTimestamp"):
                    continue  # finished before this agent started: nothing to run
                worker = PodWorker(self, pod)
                self.workers[uid] = worker
                worker.dir.mkdir(parents=True, exist_ok=True)
                (worker.dir / "key").write_text(pod_key(pod))
                worker.start()
                self._tasks.add(asyncio.create_task(self._forget(uid, worker)))
            worker.update(pod)

    async def _forget(self, uid: str, worker: PodWorker) -> None:
        await worker.wait()
        self.workers.pop(uid, None)
        task = asyncio.current_task()
        if task is not None:
            self._tasks.discard(task)

    def clean_leftovers(self) -> None:
        """Processes and sandboxes of an earlier run of this node (the node was down): gone, as after a reboot."""
        if not self.pods_dir.exists():
            return
        for pid_file in self.pods_dir.glob("*/*/pid"):
            with contextlib.suppress(ValueError, ProcessLookupError, PermissionError, OSError):
                os.killpg(int(pid_file.read_text()), signal.SIGKILL)
            pid_file.unlink(missing_ok=True)
        for key_file in self.pods_dir.glob("*/key"):
            with contextlib.suppress(Exception):
                self.fabric.remove_pod(self.node, key_file.read_text().strip())

    async def run(self) -> None:
        self.pods_dir.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(self.clean_leftovers)
        await self.register()
        (self.dir / "ready").write_text(self.node_ip + "\n")
        await asyncio.gather(self._heartbeats(), self._watch_pods())

    async def shutdown(self) -> None:
        """SIGTERM to the agent: stop every pod's processes gracefully, as a node drain would."""
        await asyncio.gather(*(self._stop_worker(w) for w in list(self.workers.values())),
                             return_exceptions=True)
        await self.api.close()

    @staticmethod
    async def _stop_worker(worker: PodWorker) -> None:
        for c in [*worker.containers.values(), *worker.init_containers.values()]:
            await c.stop(min(5.0, worker._grace()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m req1_testenv.kubelet.agent", description=__doc__.split("\n\n")[0])
    parser.add_argument("--node", required=True)
    parser.add_argument("--cluster-dir", type=Path, required=True)
    parser.add_argument("--kubeconfig", type=Path, required=True)
    parser.add_argument("--zone", default="zone-0")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    agent = NodeAgent(args.node, args.cluster_dir.resolve(), args.kubeconfig, args.zone)

    async def run() -> None:
        loop = asyncio.get_running_loop()
        task = asyncio.create_task(agent.run())
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        done, _ = await asyncio.wait({task, asyncio.create_task(stop.wait())}, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            task.result()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await agent.shutdown()

    asyncio.run(run())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
