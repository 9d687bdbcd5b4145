"""The test bed's pod network, for real: namespaces, veth links, nftables, DNS and the API server.

Pods here are bare network namespaces from the fabric running a tiny HTTP server that answers with
its own name and the client address it saw, so every check knows which backend answered. No packet
goes to a pod or Service address before ``assert_routed`` said the route is the test bed's own.
The second half needs the control plane (Services and EndpointSlices are real API objects; the
EndpointSlices are written by hand since nothing runs pods here).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from req1_testenv.podnet import Fabric, FabricError, PodNet, resolv_conf
from req1_testenv.podnet.addressing import slot_of_service_ip
from req1_testenv.podnet.agent import agent_process
from req1_testenv.podnet.dns import query
from req1_testenv.podnet.netns import netns_list, open_connection_in, socket_in
from req1_testenv.podnet.services import dns_records, render_nft, service_routes
from req1_testenv.scratch import remove_tree, scratch_dir
from req1_testenv.waiting import wait_for

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the pod network needs root (namespaces, nftables)")

T = TypeVar("T")
PORT = 8080
SERVER = """
import http.server, sys
name = sys.argv[1]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = f"{name} {self.client_address[0]}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("0.0.0.0", int(sys.argv[2])), H).serve_forever()
"""
CLIENT = """
import sys, time, urllib.request
began = time.monotonic()
try:
    with urllib.request.urlopen(sys.argv[1], timeout=float(sys.argv[2])) as r:
        print(r.read().decode())
except Exception as e:
    print(f"ERR {type(e).__name__} {e} after {time.monotonic() - began:.2f}s")
"""
RESOLVE = """
import socket, sys
for name in sys.argv[1:]:
    try:
        print(name, sorted({a[4][0] for a in socket.getaddrinfo(name, None, socket.AF_INET)}))
    except socket.gaierror as e:
        print(name, "ERR", e)
"""




def pod_run(pod: PodNet, argv: list[str], resolv: str | None = None, timeout: float = 20) -> str:
    """Run argv in the pod's network namespace (with a resolv.conf of its own, as a kubelet would mount)."""
    nsenter = ["nsenter", f"--net=/run/netns/{pod.netns}", "--"]
    if resolv is None:
        cmd = [*nsenter, *argv]
    else:
        cmd = ["unshare", "-m", "--", "sh", "-c", 'mount --bind "$0" /etc/resolv.conf && exec "$@"', resolv,
               *nsenter, *argv]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=True).stdout.strip()


def fetch_from(pod: PodNet, url: str, timeout: float = 3.0) -> str:
    return pod_run(pod, [sys.executable, "-c", CLIENT, url, str(timeout)])


def fetch_from_host(fabric: Fabric, ip: str, port: int = PORT, timeout: float = 3.0) -> str:
    fabric.assert_routed(ip)
    began = time.monotonic()
    try:
        with urllib.request.urlopen(f"http://{ip}:{port}/", timeout=timeout) as resp:
            return str(resp.read().decode())
    except (urllib.error.URLError, OSError) as exc:
        return f"ERR {type(exc).__name__} {exc} after {time.monotonic() - began:.2f}s"


class Servers:
    """HTTP servers started in pods, stopped by their PIDs."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, fabric: Fabric, pod: PodNet, name: str) -> None:
        proc = subprocess.Popen(
            ["nsenter", f"--net=/run/netns/{pod.netns}", "--", sys.executable, "-c", SERVER, name, str(PORT)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        self.procs.append(proc)
        wait_for(lambda: fetch_from_host(fabric, pod.ip, timeout=1).startswith(name), 15, f"server {name} up")

    def stop(self) -> None:
        for proc in self.procs:
            proc.kill()
            proc.wait(5)


def names(answers: list[str]) -> set[str]:
    return {a.split()[0] for a in answers}


# ------------------------------------------------------------------------------ pure semantics


def _slice(ns: str, svc: str, ports: list[dict[str, Any]], eps: list[dict[str, Any]]) -> dict[str, Any]:
    labels = {"kubernetes.io/service-name": svc}
    return {"metadata": {"namespace": ns, "name": f"{svc}-x", "labels": labels}, "addressType": "IPv4",
            "ports": ports, "endpoints": eps}


def test_routes_and_records_follow_kube_proxy_and_coredns() -> None:
    svc = {"metadata": {"namespace": "n", "name": "s"},
           "spec": {"clusterIP": "10.96.0.20", "ports": [
               {"name": "http", "port": 80, "protocol": "TCP"}, {"name": "dns", "port": 53, "protocol": "UDP"}]}}
    eps = [
        {"addresses": ["10.244.1.2"], "conditions": {"ready": True}},
        {"addresses": ["10.244.1.3"], "conditions": {"ready": False, "serving": True, "terminating": True}},
    ]
    slices = [_slice("n", "s", [{"name": "http", "port": 8080, "protocol": "TCP"}], eps),
              _slice("n", "s", [{"name": "dns", "port": 5353, "protocol": "UDP"}], eps[1:])]
    routes = {r.port: r for r in service_routes([svc], slices)}
    assert routes[80].backends == (("10.244.1.2", 8080),), "ready endpoints only while there are some"
    assert routes[53].backends == (("10.244.1.3", 5353),), "else serving+terminating ones, like kube-proxy"
    assert routes[53].protocol == "udp"
    text = render_nft(routes.values())
    assert "10.96.0.20 . tcp . 80 : goto" in text and "meta l4proto udp dnat to 10.244.1.3:5353" in text
    assert "masquerade" in text
    rec = dns_records([svc], slices)
    assert rec.a["s.n.svc.cluster.local"] == ["10.96.0.20"]
    assert rec.srv["_http._tcp.s.n.svc.cluster.local"] == [(80, "s.n.svc.cluster.local")]
    assert {"n.svc.cluster.local", "svc.cluster.local", "cluster.local"} <= rec.names


# --------------------------------------------------------------------------------- the fabric


@pytest.fixture(scope="module")
def fabric() -> Iterator[Fabric]:
    root = scratch_dir("podnet")
    fab = Fabric(root)
    fab.up()
    fab.add_node("a")
    fab.add_node("b")
    try:
        yield fab
    finally:
        fab.down()
        remove_tree(root)


@pytest.fixture(scope="module")
def pods(fabric: Fabric) -> Iterator[dict[str, PodNet]]:
    """a1, a2 on node a; b1 on node b; each serving HTTP on :8080."""
    servers = Servers()
    made = {
        "a1": fabric.add_pod("a", "ns/a1/u-a1"),
        "a2": fabric.add_pod("a", "ns/a2/u-a2"),
        "b1": fabric.add_pod("b", "ns/b1/u-b1"),
    }
    try:
        for name, pod in made.items():
            servers.start(fabric, pod, name)
        yield made
    finally:
        servers.stop()


def test_addresses_names_and_routes(fabric: Fabric, pods: dict[str, PodNet]) -> None:
    cfg = fabric.config
    a, b = fabric.node("a"), fabric.node("b")
    assert a.ip != b.ip and a.pod_subnet != b.pod_subnet
    for pod in pods.values():
        assert cfg.in_pod_cidr(pod.ip) and pod.netns in netns_list()
        assert pod.ip != fabric.node(pod.node).ip
    assert fabric.add_pod("a", "ns/a1/u-a1") == pods["a1"], "add_pod must be idempotent for one key"
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True, check=True).stdout
    ours = [line.split(":")[1].strip().split("@")[0] for line in links.splitlines() if cfg.host_link in line]
    assert ours == [cfg.host_link] and len(cfg.host_link) <= 15
    routes = pod_run(pods["a1"], ["ip", "route"])
    assert f"default via {a.ip} dev eth0" in routes
    for ip in (pods["a1"].ip, pods["b1"].ip, cfg.dns_ip, cfg.apiserver_ip, cfg.host_ip):
        fabric.assert_routed(ip)
    for outside in ("10.1.2.3", "192.0.2.77", "8.8.8.8"):
        with pytest.raises(FabricError, match="refusing"):
            fabric.assert_routed(outside)


def test_pods_reach_each_other_and_the_host(fabric: Fabric, pods: dict[str, PodNet]) -> None:
    a1, a2, b1 = pods["a1"], pods["a2"], pods["b1"]
    assert fetch_from_host(fabric, a1.ip).split() == ["a1", fabric.config.host_ip]
    assert fetch_from(a1, f"http://{a2.ip}:{PORT}/").split() == ["a2", a1.ip], "same node, client IP kept"
    assert fetch_from(a1, f"http://{b1.ip}:{PORT}/").split() == ["b1", a1.ip], "across nodes, client IP kept"
    assert fetch_from(b1, f"http://{a2.ip}:{PORT}/").split() == ["a2", b1.ip]
    # A pod reaches a host service at host_ip (and only there: nothing routes it anywhere else).
    host = subprocess.Popen([sys.executable, "-c", SERVER, "host", "18080"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        url = f"http://{fabric.config.host_ip}:18080/"
        got = wait_for(lambda: (a := fetch_from(a1, url)).startswith("host") and a, 10, "the host server")
        assert got.split() == ["host", a1.ip]
    finally:
        host.kill()
        host.wait(5)
    assert fetch_from(a1, "http://192.0.2.1:9/", timeout=2).startswith("ERR"), "nothing outside the test bed"


def test_socket_in_a_node_namespace(fabric: Fabric, pods: dict[str, PodNet]) -> None:
    """How a node agent probes its pods: from the node's namespace, without a subprocess."""
    home = os.readlink("/proc/thread-self/ns/net")
    with socket_in(fabric.node("a").netns) as sock:
        assert os.readlink("/proc/thread-self/ns/net") == home, "the calling thread is back home"
        sock.settimeout(3)
        sock.connect((pods["a1"].ip, PORT))
        sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
        reply = b"".join(iter(lambda: sock.recv(4096), b""))
    assert reply.decode().split("\r\n\r\n", 1)[1].split() == ["a1", fabric.node("a").ip]

    async def probe() -> bytes:
        async with asyncio.timeout(3):
            reader, writer = await open_connection_in(fabric.node("b").netns, pods["b1"].ip, PORT)
        writer.write(b"GET / HTTP/1.0\r\n\r\n")
        body = await reader.read()
        writer.close()
        return body

    assert asyncio.run(probe()).decode().endswith(f"b1 {fabric.node('b').ip}")


def test_cut_and_heal_pod(fabric: Fabric, pods: dict[str, PodNet]) -> None:
    a1, a2, b1 = pods["a1"], pods["a2"], pods["b1"]
    fabric.cut_pod("a", a1.key)
    try:
        assert fetch_from_host(fabric, a1.ip, timeout=1).startswith("ERR")
        assert fetch_from(a2, f"http://{a1.ip}:{PORT}/", timeout=1).startswith("ERR")
        assert fetch_from(a1, f"http://{b1.ip}:{PORT}/", timeout=1).startswith("ERR")
        assert fetch_from(a1, f"http://127.0.0.1:{PORT}/").startswith("a1"), "its own loopback still works"
        assert fetch_from(a2, f"http://{b1.ip}:{PORT}/").startswith("b1"), "its neighbours are not affected"
    finally:
        fabric.heal_pod("a", a1.key)
    assert fetch_from_host(fabric, a1.ip).startswith("a1")
    assert fetch_from(a1, f"http://{b1.ip}:{PORT}/").startswith("b1")


def test_cut_and_heal_node(fabric: Fabric, pods: dict[str, PodNet]) -> None:
    a1, a2, b1 = pods["a1"], pods["a2"], pods["b1"]
    fabric.cut_node("a")
    try:
        assert fabric.is_node_cut("a")
        for pod in (a1, a2):
            assert fetch_from_host(fabric, pod.ip, timeout=1).startswith("ERR")
            assert fetch_from(b1, f"http://{pod.ip}:{PORT}/", timeout=1).startswith("ERR")
        assert fetch_from(a1, f"http://{b1.ip}:{PORT}/", timeout=1).startswith("ERR")
        assert fetch_from(a1, f"http://{a2.ip}:{PORT}/").startswith("a2"), "pods of the node still see each other"
        assert fetch_from_host(fabric, b1.ip).startswith("b1"), "other nodes are not affected"
    finally:
        fabric.heal_node("a")
    assert not fabric.is_node_cut("a")
    assert fetch_from_host(fabric, a2.ip).startswith("a2")
    assert fetch_from(b1, f"http://{a1.ip}:{PORT}/").startswith("a1")


def test_concurrent_pod_allocation_gives_unique_addresses(fabric: Fabric) -> None:
    """One process per node adds pods at the same time as another works on the same node."""
    script = (
        "import sys; from pathlib import Path; from req1_testenv.podnet import Fabric\n"
        "f = Fabric(Path(sys.argv[1]))\n"
        "for i in range(6): print(f.add_pod(sys.argv[2], f'c/{sys.argv[3]}-{i}/u').ip)\n"
    )
    jobs = [("a", "x"), ("a", "y"), ("b", "z")]
    procs = [subprocess.Popen([sys.executable, "-c", script, str(fabric.workdir), node, tag],
                              stdout=subprocess.PIPE, text=True) for node, tag in jobs]
    ips = [line for p in procs for line in p.communicate(timeout=60)[0].split()]
    made = {p.netns for node in ("a", "b") for k, p in fabric.pods(node).items() if k.startswith("c/")}
    try:
        assert all(p.returncode == 0 for p in procs)
        assert len(ips) == 18 and len(set(ips)) == 18, ips
        assert {ip for ip in ips if ip.startswith(fabric.node("b").ip.rsplit(".", 1)[0] + ".")} == set(ips[12:])
        assert len(made) == 18 and made <= set(netns_list())
    finally:
        for node, tag in jobs:
            for i in range(6):
                fabric.remove_pod(node, f"c/{tag}-{i}/u")
    assert not made & set(netns_list()), "remove_pod deletes the namespace"


def test_down_removes_everything_and_is_repeatable() -> None:
    root = scratch_dir("podnet-down")
    fab = Fabric(root)
    try:
        began = time.monotonic()
        cfg = fab.up()
        up_s = time.monotonic() - began
        fab.add_node("n")
        pod = fab.add_pod("n", "d/p/u")
        fab.cut_pod("n", "d/p/u")
        # A process still inside the pod's namespace must not keep anything visible alive.
        lingering = subprocess.Popen(["nsenter", f"--net=/run/netns/{pod.netns}", "--", "sleep", "30"])
        try:
            began = time.monotonic()
            fab.down()
            down_s = time.monotonic() - began
            fab.down()
        finally:
            lingering.kill()
            lingering.wait(5)
        assert not [n for n in netns_list() if n.startswith(cfg.prefix)]
        links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True, check=True).stdout
        routes = subprocess.run(["ip", "route"], capture_output=True, text=True, check=True).stdout
        addrs = subprocess.run(["ip", "-o", "addr"], capture_output=True, text=True, check=True).stdout
        assert cfg.host_link not in links
        assert cfg.pod_cidr not in routes and cfg.service_cidr not in routes
        assert cfg.host_ip not in addrs
        with pytest.raises(FabricError):
            fab.assert_routed(pod.ip)
        print(f"fabric up {up_s:.3f}s, down {down_s:.3f}s")
    finally:
        fab.down()
        remove_tree(root)


# ------------------------------------------------------------------------- with the control plane


class ClusterNet:
    """The cluster's pod network: the one KubeCluster runs, or our own fabric + agent beside it."""

    def __init__(self, fabric: Fabric, ca: Path) -> None:
        self.fabric = fabric
        self.ca = ca


@pytest.fixture(scope="module")
def cluster_net(kube_cluster: Any) -> Iterator[ClusterNet]:
    from kubernetes import client

    ca = kube_cluster.pki.path("ca.crt")
    own = getattr(kube_cluster, "fabric_dir", None)
    if own is not None and Fabric(own).is_up():
        yield ClusterNet(Fabric(own), ca)
        return
    with kube_cluster.api_client() as api:
        kubernetes_ip = client.CoreV1Api(api).read_namespaced_service("kubernetes", "default").spec.cluster_ip
    slot = slot_of_service_ip(kubernetes_ip)
    if slot is None:
        pytest.fail(f"the cluster's Service range (kubernetes at {kubernetes_ip}) matches no pod-network slot")
    root = scratch_dir("podnet-kube")
    fab = Fabric(root)
    try:
        fab.up(slot=slot)
    except (FabricError, RuntimeError) as exc:
        remove_tree(root)
        pytest.fail(f"pod-network slot {slot} for this cluster is taken: {exc}")
    agent = agent_process(root, root, kube_cluster.kubeconfig, f"127.0.0.1:{kube_cluster.ports.apiserver}")
    try:
        began = time.monotonic()
        agent.start()
        print(f"agent ready in {time.monotonic() - began:.2f}s")
        yield ClusterNet(fab, ca)
    finally:
        agent.stop()
        fab.down()
        remove_tree(root)


@pytest.fixture(scope="module")
def kpods(cluster_net: ClusterNet) -> Iterator[dict[str, PodNet]]:
    """Network-only test nodes (not Kubernetes nodes) with serving pods k1, k2 on one and k3 on the other."""
    fab, servers = cluster_net.fabric, Servers()
    tag = uuid.uuid4().hex[:4]
    nodes = [f"podnet-{tag}-0", f"podnet-{tag}-1"]
    for node in nodes:
        fab.add_node(node)
    made = {"k1": fab.add_pod(nodes[0], "t/k1/u"), "k2": fab.add_pod(nodes[0], "t/k2/u"),
            "k3": fab.add_pod(nodes[1], "t/k3/u")}
    try:
        for name, pod in made.items():
            servers.start(fab, pod, name)
        yield made
    finally:
        servers.stop()
        for node in nodes:
            fab.remove_node(node)


def make_service(core: Any, namespace: str, name: str, *, headless: bool = False,
                 publish_not_ready: bool = False) -> str:
    from kubernetes import client

    spec = client.V1ServiceSpec(
        ports=[client.V1ServicePort(name="http", port=80, target_port=PORT, protocol="TCP")],
        cluster_ip="None" if headless else None,
        publish_not_ready_addresses=publish_not_ready or None,
    )
    body = client.V1Service(metadata=client.V1ObjectMeta(name=name), spec=spec)
    svc = core.create_namespaced_service(namespace, body)
    return str(svc.spec.cluster_ip)


def put_slice(disc: Any, namespace: str, service: str, endpoints: list[tuple[PodNet, bool, str | None]]) -> None:
    """Write the Service's one EndpointSlice by hand: (pod, ready, hostname) per endpoint."""
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    body = client.V1EndpointSlice(
        address_type="IPv4",
        metadata=client.V1ObjectMeta(name=f"{service}-hand", labels={"kubernetes.io/service-name": service}),
        endpoints=[client.V1Endpoint(addresses=[p.ip], conditions=client.V1EndpointConditions(ready=r), hostname=h)
                   for p, r, h in endpoints],
        ports=[client.DiscoveryV1EndpointPort(name="http", port=PORT, protocol="TCP")],
    )
    # Raw responses: the client cannot read back a slice without endpoints.
    try:
        disc.replace_namespaced_endpoint_slice(f"{service}-hand", namespace, body, _preload_content=False)
    except ApiException as exc:
        if exc.status != 404:
            raise
        disc.create_namespaced_endpoint_slice(namespace, body, _preload_content=False)


def test_service_routes_balances_and_follows_endpoints(
    cluster_net: ClusterNet, kpods: dict[str, PodNet], kube_api: Any, kube_namespace: str
) -> None:
    from kubernetes import client

    fab, core, disc = cluster_net.fabric, client.CoreV1Api(kube_api), client.DiscoveryV1Api(kube_api)
    k1, k2, k3 = kpods["k1"], kpods["k2"], kpods["k3"]
    ip = make_service(core, kube_namespace, "web")
    assert fab.config.in_service_cidr(ip)
    # k2 is listed but not ready: it must never get a connection.
    put_slice(disc, kube_namespace, "web", [(k1, True, None), (k2, False, None), (k3, True, None)])
    url = f"http://{ip}/"

    def host_answers(n: int = 24) -> list[str]:
        return [fetch_from_host(fab, ip, port=80, timeout=2) for _ in range(n)]

    began = time.monotonic()
    wait_for(lambda: names(host_answers(12)) == {"k1", "k3"}, 15, "both ready endpoints from the host")
    print(f"Service routed {time.monotonic() - began:.2f}s after its EndpointSlice was written")
    assert names(host_answers()) == {"k1", "k3"}
    from_same_node = [fetch_from(k2, url) for _ in range(12)]
    assert names(from_same_node) == {"k1", "k3"}, from_same_node
    assert all(a.split()[1] == k2.ip for a in from_same_node), "pod -> Service keeps the client address"
    from_other_node = [fetch_from(k3, url) for _ in range(12)]
    assert names(from_other_node) <= {"k1", "k3"} and "k1" in names(from_other_node), from_other_node
    hairpin = [fetch_from(k1, url) for _ in range(12)]
    assert "k1" in names(hairpin), f"a pod reaches itself through its Service: {hairpin}"

    put_slice(disc, kube_namespace, "web", [(k2, True, None)])
    began = time.monotonic()
    wait_for(lambda: names(host_answers(8)) == {"k2"}, 15, "the endpoint change")
    print(f"endpoint change routed within {time.monotonic() - began:.2f}s")
    assert names([fetch_from(k3, url) for _ in range(6)]) == {"k2"}

    put_slice(disc, kube_namespace, "web", [])
    # "refused", not any error: on a loaded machine a slow answer times out (ERR) while the old rule still routes
    wait_for(lambda: "refused" in host_answers(1)[0].lower(), 15, "no endpoints, seen from the host")
    wait_for(lambda: "refused" in fetch_from(k1, url, timeout=5).lower(), 15, "no endpoints, seen from a pod")
    began = time.monotonic()
    refused = fetch_from(k1, url, timeout=5)
    assert refused.startswith("ERR") and time.monotonic() - began < 3, f"no endpoints must fail fast: {refused}"
    assert "refused" in refused.lower(), refused


def test_dns_names_headless_and_statefulset(
    cluster_net: ClusterNet, kpods: dict[str, PodNet], kube_api: Any, kube_namespace: str, tmp_path: Path
) -> None:
    from kubernetes import client

    fab, core, disc = cluster_net.fabric, client.CoreV1Api(kube_api), client.DiscoveryV1Api(kube_api)
    cfg = fab.config
    k1, k2, k3 = kpods["k1"], kpods["k2"], kpods["k3"]
    ns = kube_namespace
    web_ip = make_service(core, ns, "web")
    make_service(core, ns, "db", headless=True)
    make_service(core, ns, "peers", headless=True, publish_not_ready=True)
    put_slice(disc, ns, "db", [(k1, True, "db-0"), (k2, False, "db-1"), (k3, True, "db-2")])
    put_slice(disc, ns, "peers", [(k1, True, None), (k2, False, None)])
    resolv = tmp_path / "resolv.conf"
    resolv.write_text(resolv_conf(ns, cfg.dns_ip))
    names_to_ask = [
        "web", f"web.{ns}", f"web.{ns}.svc", f"web.{ns}.svc.cluster.local", "kubernetes.default",
        "db", f"db-0.db.{ns}.svc.cluster.local", "db-2.db", "db-1.db", "peers",
        "nope", "example.com", "web.other-ns",
    ]

    def resolved() -> dict[str, str]:
        out = pod_run(k2, [sys.executable, "-c", RESOLVE, *names_to_ask], resolv=str(resolv))
        return dict(line.split(" ", 1) for line in out.splitlines())

    def complete() -> dict[str, str] | None:
        got = resolved()
        return got if got["db"] == str(sorted([k1.ip, k3.ip])) and got["peers"] != "ERR" else None

    got = wait_for(complete, 15, "DNS for the new Services")
    for name in names_to_ask[:4]:
        assert got[name] == str([web_ip]), (name, got)
    assert got["kubernetes.default"] == str([cfg.apiserver_ip])
    assert got[f"db-0.db.{ns}.svc.cluster.local"] == str([k1.ip])
    assert got["db-2.db"] == str([k3.ip])
    assert got["db-1.db"].startswith("ERR"), "a not-ready StatefulSet pod has no name"
    assert got["peers"] == str(sorted([k1.ip, k2.ip])), "publishNotReadyAddresses lists every endpoint"
    for name in ("nope", "example.com", "web.other-ns"):
        assert got[name].startswith("ERR"), (name, got[name])

    fab.assert_routed(cfg.dns_ip)
    began = time.monotonic()
    reply = query("example.com", cfg.dns_ip, timeout=2)
    nx_s = time.monotonic() - began
    assert reply.header.rcode == 3 and nx_s < 0.5, (reply, nx_s)  # NXDOMAIN, at once
    began = time.monotonic()
    reply = query(f"web.{ns}.svc.cluster.local", cfg.dns_ip, tcp=True, timeout=2)
    print(f"DNS from the host via the kube-dns ClusterIP: NXDOMAIN {nx_s * 1000:.1f} ms, "
          f"A over TCP {(time.monotonic() - began) * 1000:.1f} ms")
    assert [str(rr.rdata) for rr in reply.rr] == [web_ip]
    assert query(f"web.{ns}.svc.cluster.local", cfg.dns_ip, qtype="AAAA").header.rcode == 0, "NODATA, not NXDOMAIN"


def test_apiserver_through_the_kubernetes_service(
    cluster_net: ClusterNet, kpods: dict[str, PodNet], kube_namespace: str, tmp_path: Path
) -> None:
    fab, cfg = cluster_net.fabric, cluster_net.fabric.config
    k1, k3 = kpods["k1"], kpods["k3"]
    resolv = tmp_path / "resolv.conf"
    resolv.write_text(resolv_conf(kube_namespace, cfg.dns_ip))
    client_code = (
        "import ssl, sys, urllib.request\n"
        "ctx = ssl.create_default_context(cafile=sys.argv[2])\n"
        "try:\n"
        "    print(urllib.request.urlopen(sys.argv[1], context=ctx, timeout=3).read().decode())\n"
        "except Exception as e:\n"
        "    print('ERR', type(e).__name__, e)\n"
    )

    def version_from(pod: PodNet) -> str:
        url = "https://kubernetes.default.svc/version"
        return pod_run(pod, [sys.executable, "-c", client_code, url, str(cluster_net.ca)], resolv=str(resolv))

    def answered() -> str | None:
        answer = version_from(k1)
        return answer if '"gitVersion"' in answer else None

    assert '"gitVersion"' in wait_for(answered, 15, "the API server through the kubernetes Service")

    fab.isolate_from_apiserver(k1.node, k1.key)
    try:
        assert version_from(k1).startswith("ERR"), "an isolated pod loses the API server"
        assert fetch_from(k1, f"http://{k3.ip}:{PORT}/").startswith("k3"), "... and nothing else"
        assert '"gitVersion"' in version_from(k3), "other pods keep it"
        assert fetch_from(k3, f"http://{k1.ip}:{PORT}/").startswith("k1"), "clients still reach the pod"
    finally:
        fab.rejoin_apiserver(k1.node, k1.key)
    assert '"gitVersion"' in version_from(k1)
