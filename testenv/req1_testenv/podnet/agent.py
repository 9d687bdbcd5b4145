"""The network agent: Service routing (a kube-proxy in nftables), cluster DNS, the API server for pods.

``python -m req1_testenv.podnet.agent --workdir W --kubeconfig K --apiserver 127.0.0.1:PORT``

It runs in the root namespace (it must reach the API server on 127.0.0.1), watches Services and
EndpointSlices and, on every change, renders one Service table and loads it into the fabric's
namespace and every node's. It serves DNS on ``host_ip:53`` behind the kube-dns Service
(``dns_ip``) and forwards ``host_ip:6443`` to the API server behind the `kubernetes` Service
(``apiserver_ip:443``), writing both Services' endpoints itself. ``<workdir>/agent.json`` says
when the first full sync is done (see :func:`agent_ready`).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from req1_testenv.podnet import dns, forward
from req1_testenv.podnet import netns as ns
from req1_testenv.podnet.addressing import CLUSTER_DOMAIN, FabricConfig
from req1_testenv.podnet.fabric import APISERVER_FORWARD_PORT, Fabric
from req1_testenv.podnet.services import SERVICE_NAME_LABEL, dns_records, render_nft, service_routes
from req1_testenv.podnet.state import read_json, write_json
from req1_testenv.process import ManagedProcess, pid_alive

log = logging.getLogger("podnet.agent")
MANAGED_BY = "req1-podnet"
AGENT_NAME = "podnet"  # the ManagedProcess name: podnet.pid, podnet.log
STATUS_FILE = "agent.json"
ENSURE_EVERY = 30.0  # seconds between checks of the kubernetes/kube-dns endpoints the agent owns


class Store:
    """Watched objects by kind and (namespace, name); ``changed`` wakes the sync loop."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.objects: dict[str, dict[tuple[str, str], dict[str, Any]]] = {"services": {}, "slices": {}}
        self.listed: set[str] = set()
        self.changed = threading.Event()

    @staticmethod
    def key(obj: dict[str, Any]) -> tuple[str, str]:
        meta = obj.get("metadata") or {}
        return str(meta.get("namespace") or ""), str(meta.get("name") or "")

    def replace(self, kind: str, items: list[dict[str, Any]]) -> None:
        with self.lock:
            self.objects[kind] = {self.key(o): o for o in items}
            self.listed.add(kind)
        self.changed.set()

    def apply(self, kind: str, event: str, obj: dict[str, Any]) -> None:
        with self.lock:
            if event == "DELETED":
                self.objects[kind].pop(self.key(obj), None)
            else:
                self.objects[kind][self.key(obj)] = obj
        self.changed.set()

    def snapshot(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]], bool]:
        with self.lock:
            complete = self.listed >= {"services", "slices"}
            return list(self.objects["services"].values()), list(self.objects["slices"].values()), complete


def watch_forever(kind: str, list_call: Callable[..., Any], store: Store) -> None:
    """List, then watch from that version; on any error or expiry list again (like an informer)."""
    from kubernetes import watch

    while True:
        try:
            resp = list_call(_preload_content=False)
            data = json.loads(resp.data)
            store.replace(kind, data.get("items") or [])
            version = data["metadata"]["resourceVersion"]
            for event in watch.Watch().stream(
                list_call, resource_version=version, timeout_seconds=300, allow_watch_bookmarks=True
            ):
                if event["type"] == "ERROR":
                    break
                if event["type"] != "BOOKMARK":
                    store.apply(kind, event["type"], event["raw_object"])
        except Exception as exc:
            log.warning("watch %s: %s; listing again", kind, exc)
            time.sleep(1)


class Agent:
    def __init__(self, fabric: Fabric, api: Any) -> None:
        self.fabric = fabric
        self.config: FabricConfig = fabric.config
        self.api = api
        self.store = Store()
        self.resolver = dns.ClusterResolver(CLUSTER_DOMAIN)
        self.applied: dict[str, tuple[int, str]] = {}  # netns -> (inode, ruleset)
        self.ruleset: str | None = None
        self.counts: dict[str, int] = {}
        self.synced = False

    # -- the Services the agent stands behind

    def ensure_own_services(self) -> None:
        """kube-dns (at dns_ip) and the `kubernetes` endpoints, both pointing at host_ip."""
        from kubernetes import client
        from kubernetes.client.exceptions import ApiException

        core, disc = client.CoreV1Api(self.api), client.DiscoveryV1Api(self.api)
        cfg = self.config
        dns_svc = {
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "kube-dns", "namespace": "kube-system",
                         "labels": {"k8s-app": "kube-dns", "kubernetes.io/name": "CoreDNS"}},
            "spec": {"clusterIP": cfg.dns_ip, "ports": [
                {"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
                {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53},
            ]},
        }
        try:
            existing = core.read_namespaced_service("kube-dns", "kube-system")
            if existing.spec.cluster_ip != cfg.dns_ip:
                log.error("kube-dns has clusterIP %s, not %s: pods' resolv.conf will not reach DNS",
                          existing.spec.cluster_ip, cfg.dns_ip)
        except ApiException as exc:
            if exc.status != 404:
                raise
            core.create_namespaced_service("kube-system", dns_svc)
        own_ports = [("dns", 53, "UDP"), ("dns-tcp", 53, "TCP")]
        self._put_slice(disc, "kube-system", "kube-dns", "kube-dns-podnet", own_ports)
        api_ports = [("https", APISERVER_FORWARD_PORT, "TCP")]
        self._put_slice(disc, "default", "kubernetes", "kubernetes", api_ports)
        endpoints = {
            "apiVersion": "v1", "kind": "Endpoints",
            "metadata": {"name": "kubernetes", "namespace": "default",
                         "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
            "subsets": [{"addresses": [{"ip": cfg.host_ip}],
                         "ports": [{"name": "https", "port": APISERVER_FORWARD_PORT, "protocol": "TCP"}]}],
        }
        try:
            core.replace_namespaced_endpoints("kubernetes", "default", endpoints)
        except ApiException as exc:
            if exc.status != 404:
                raise
            core.create_namespaced_endpoints("default", endpoints)

    def _put_slice(self, disc: Any, namespace: str, service: str, name: str,
                   ports: list[tuple[str, int, str]]) -> None:
        from kubernetes.client.exceptions import ApiException

        body: dict[str, Any] = {
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
            "metadata": {"name": name, "namespace": namespace,
                         "labels": {SERVICE_NAME_LABEL: service, "endpointslice.kubernetes.io/managed-by": MANAGED_BY}},
            "endpoints": [{"addresses": [self.config.host_ip], "conditions": {"ready": True}}],
            "ports": [{"name": n, "port": p, "protocol": proto} for n, p, proto in ports],
        }
        try:
            current = disc.read_namespaced_endpoint_slice(name, namespace)
            body["metadata"]["resourceVersion"] = current.metadata.resource_version
            disc.replace_namespaced_endpoint_slice(name, namespace, body)
        except ApiException as exc:
            if exc.status != 404:
                raise
            disc.create_namespaced_endpoint_slice(namespace, body)

    # -- the sync loop

    def sync(self, changed: bool) -> None:
        """Render on a change; load the ruleset into every router namespace that lacks it."""
        if changed or self.ruleset is None:
            services, slices, complete = self.store.snapshot()
            if not complete:
                return
            self.ruleset = render_nft(service_routes(services, slices))
            self.resolver.records = dns_records(services, slices, CLUSTER_DOMAIN)
            self.counts = {"services": len(services), "slices": len(slices)}
        ruleset = self.ruleset
        # Under the fabric lock: add_node loads services.nft into a new node in the same lock, so a
        # node never keeps an older ruleset than the file.
        with self.fabric.state.lock():
            services_file = self.fabric.state.services_file
            if changed or not services_file.exists():
                tmp = services_file.with_suffix(".tmp")
                tmp.write_text(ruleset)
                tmp.replace(services_file)
            current: dict[str, tuple[int, str]] = {}
            for netns in self.fabric.router_namespaces():
                try:
                    inode = ns.netns_path(netns).stat().st_ino
                except FileNotFoundError:
                    continue
                if self.applied.get(netns) != (inode, ruleset):
                    ns.nft_apply(netns, ruleset)
                current[netns] = (inode, ruleset)
            fresh = current.keys() != self.applied.keys()
            self.applied = current
        if changed or fresh or not self.synced:
            if not self.synced:
                log.info("first sync: %s, namespaces %s", self.counts, ", ".join(current))
            self.synced = True
            write_json(self.fabric.workdir / STATUS_FILE, {
                "pid": os.getpid(), "synced": True, **self.counts,
                "namespaces": sorted(current), "dns": f"{self.config.host_ip}:53",
            })

    def run(self, apiserver: tuple[str, int]) -> None:
        from kubernetes import client

        cfg = self.config
        forward.start((cfg.host_ip, APISERVER_FORWARD_PORT), apiserver)
        dns.serve(self.resolver, cfg.host_ip, 53)
        log.info("forwarding %s:%d to %s:%d; DNS on %s:53",
                 cfg.host_ip, APISERVER_FORWARD_PORT, *apiserver, cfg.host_ip)
        core, disc = client.CoreV1Api(self.api), client.DiscoveryV1Api(self.api)
        for kind, call in (("services", core.list_service_for_all_namespaces),
                           ("slices", disc.list_endpoint_slice_for_all_namespaces)):
            threading.Thread(target=watch_forever, args=(kind, call, self.store), name=f"watch-{kind}",
                             daemon=True).start()
        next_ensure = 0.0
        while True:
            if time.monotonic() >= next_ensure:
                try:
                    self.ensure_own_services()
                    next_ensure = time.monotonic() + ENSURE_EVERY
                except Exception as exc:
                    log.warning("writing the kube-dns/kubernetes endpoints: %s; retrying", exc)
                    next_ensure = time.monotonic() + 1
            changed = self.store.changed.wait(timeout=1.0)  # else a periodic pass: nodes added since
            if changed:
                time.sleep(0.02)  # let a burst of events land in one ruleset
                self.store.changed.clear()
            try:
                self.sync(changed)
            except Exception as exc:
                log.exception("sync failed: %s", exc)


# ------------------------------------------------------------------------------ starting it


def agent_ready(workdir: Path, pid_file: Path | None = None) -> bool:
    """True once the agent recorded in ``pid_file`` has synced and its DNS answers."""
    status = read_json(Path(workdir) / STATUS_FILE, {})
    if not status.get("synced"):
        return False
    if pid_file is not None:
        try:
            if int(pid_file.read_text().strip()) != status.get("pid"):
                return False
        except (FileNotFoundError, ValueError):
            return False
    if not pid_alive(int(status.get("pid", 0))):
        return False
    cfg = Fabric(workdir).config
    try:
        reply = dns.query(f"kubernetes.default.svc.{CLUSTER_DOMAIN}", cfg.host_ip, timeout=0.5)
    except OSError:
        return False
    return any(str(rr.rdata) == cfg.apiserver_ip for rr in reply.rr)


def agent_process(workdir: Path, run_dir: Path, kubeconfig: Path, apiserver: str,
                  timeout: float = 60.0) -> ManagedProcess:
    """The agent as a :class:`ManagedProcess` (``podnet.pid``/``podnet.log`` in ``run_dir``); ``.start()`` it.

    ``workdir`` is the fabric's directory, ``apiserver`` the API server's ``127.0.0.1:PORT``.
    """
    run_dir = Path(run_dir)
    argv = [sys.executable, "-m", "req1_testenv.podnet.agent", "--workdir", str(workdir),
            "--kubeconfig", str(kubeconfig), "--apiserver", apiserver]
    return ManagedProcess(
        AGENT_NAME, argv, run_dir, timeout=timeout,
        ready=lambda: agent_ready(Path(workdir), run_dir / f"{AGENT_NAME}.pid"),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m req1_testenv.podnet.agent", description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, required=True, help="the fabric's directory")
    parser.add_argument("--kubeconfig", type=Path, required=True)
    parser.add_argument("--apiserver", required=True, help="HOST:PORT the forwarder connects to")
    parser.add_argument("--wait", type=float, default=60.0, help="seconds to wait for the fabric to be up")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s", stream=sys.stdout)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

    fabric = Fabric(args.workdir)
    deadline = time.monotonic() + args.wait
    while not fabric.is_up():
        if time.monotonic() > deadline:
            log.error("no pod network in %s after %.0fs (Fabric.up() first)", args.workdir, args.wait)
            return 2
        time.sleep(0.2)
    (args.workdir / STATUS_FILE).unlink(missing_ok=True)
    host, _, port = args.apiserver.rpartition(":")

    from kubernetes import config

    api = config.new_client_from_config(config_file=str(args.kubeconfig))
    Agent(fabric, api).run((host, int(port)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
