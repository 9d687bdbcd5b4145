"""The test bed's pod network: a router namespace, one namespace per node, one per pod.

Layout for slot ``s`` (``P = 10.(244+s)``, see :mod:`addressing`)::

    root ns: req1-s<s> (host_ip P.255.1) == host (P.255.2)   fabric ns "req1-s<s>"
    fabric ns: n<i> (P.255.2) == eth0 (P.<i>.1)             node ns "req1-s<s>-n<i>"
    node ns:   p<j> (no address) == eth0 (P.<i>.<j>)        pod ns "req1-s<s>-n<i>-p<j>"

Every link is a veth pair with /32 addresses and explicit routes, so all traffic between pods, even
on one node, is routed through the node namespace: that is where Service NAT (the agent's table)
and per-pod faults apply, and where conntrack sees both directions. The fabric namespace routes
between nodes and the host and has no default route, so nothing can leave the machine. The root
namespace gets exactly one device, its address and two routes (pod and Service ranges) via it.
"""

from __future__ import annotations

import contextlib
import shutil
from dataclasses import dataclass
from pathlib import Path

from req1_testenv.podnet import netns as ns
from req1_testenv.podnet.addressing import (
    FIRST_POD_HOST,
    LAST_POD_HOST,
    MAX_NODE_INDEX,
    FabricConfig,
    pod_link_name,
    uplink_name,
)
from req1_testenv.podnet.netns import FabricError
from req1_testenv.podnet.rules import fault_table
from req1_testenv.podnet.state import FabricState, claim_slot, release_slot

APISERVER_FORWARD_PORT = 6443  # the agent's forwarder to the API server listens on host_ip:6443
IPV6_OFF = {"net.ipv6.conf.default.disable_ipv6": "1"}  # new links only: lo keeps ::1
ROUTER_SYSCTLS = {
    "net.ipv4.ip_forward": "1",
    "net.ipv4.conf.all.rp_filter": "0",
    "net.ipv4.conf.default.rp_filter": "0",
}

__all__ = ["Fabric", "FabricConfig", "FabricError", "NodeNet", "PodNet"]


@dataclass(frozen=True)
class NodeNet:
    node: str
    netns: str
    ip: str  # the node's address: Pod hostIP, Node InternalIP
    pod_subnet: str


@dataclass(frozen=True)
class PodNet:
    node: str
    key: str  # "<namespace>/<name>/<uid>"
    netns: str  # under /run/netns: `ip netns exec <netns>`, `nsenter --net=/run/netns/<netns>`
    ip: str


class Fabric:
    """One pod network whose state lives in ``workdir``; any process may attach to it."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = Path(workdir)
        self.state = FabricState(self.workdir)

    # ------------------------------------------------------------------------------------ lookups

    @property
    def config(self) -> FabricConfig:
        slot = self.state.slot()
        if slot is None:
            raise FabricError(f"no pod network in {self.workdir}: call Fabric.up() first")
        return FabricConfig.for_slot(slot)

    def is_up(self) -> bool:
        slot = self.state.slot()
        return slot is not None and self._built(FabricConfig.for_slot(slot))

    def nodes(self) -> dict[str, NodeNet]:
        return {name: self._node_net(name, index) for name, index in self.state.nodes().items()}

    def node(self, node: str) -> NodeNet:
        index = self.state.nodes().get(node)
        if index is None:
            raise FabricError(f"node {node!r} is not part of the pod network in {self.workdir}")
        return self._node_net(node, index)

    def pods(self, node: str) -> dict[str, PodNet]:
        index = self._index(node)
        return {key: self._pod_net(node, index, key, host) for key, host in self.state.pods(node).items()}

    def pod(self, node: str, key: str) -> PodNet | None:
        return self.pods(node).get(key)

    def router_namespaces(self) -> list[str]:
        """The namespaces that route Service traffic: the fabric's own and every node's."""
        config = self.config
        return [config.fabric_netns] + [config.node_netns(i) for i in sorted(self.state.nodes().values())]

    def is_node_cut(self, node: str) -> bool:
        return node in self.state.faults()["cut_nodes"]

    # ---------------------------------------------------------------------------------- lifecycle

    def up(self, slot: int | None = None) -> FabricConfig:
        """Build the fabric (or return the one already built here); ``slot`` pins the address plan."""
        ns.require_tools()
        self.workdir.mkdir(parents=True, exist_ok=True)
        with self.state.lock():
            current = self.state.slot()
            if current is not None and self._built(FabricConfig.for_slot(current)):
                if slot is not None and slot != current:
                    raise FabricError(f"{self.workdir} already holds pod-network slot {current}, not {slot}")
                return FabricConfig.for_slot(current)
            claimed, _stale = claim_slot(self.workdir, slot if slot is not None else current)
            config = FabricConfig.for_slot(claimed)
            self._clear_by_name(config)  # leftovers of a crashed earlier holder of this slot
            try:
                self._build(config)
            except BaseException:
                self._clear_by_name(config)
                raise
            return config

    def down(self) -> None:
        """Remove every namespace, link and route of this fabric; safe to call twice."""
        slot = self.state.slot()
        if slot is None:
            return
        config = FabricConfig.for_slot(slot)
        with self.state.lock():
            for name, index in self.state.nodes().items():
                for host in self.state.pods(name).values():
                    ns.netns_delete(config.pod_netns(index, host))
            self._clear_by_name(config)
            for path in (self.state.fabric_file, self.state.faults_file, self.state.services_file):
                path.unlink(missing_ok=True)
            shutil.rmtree(self.workdir / "nodes", ignore_errors=True)
            release_slot(self.workdir, slot)

    def _built(self, config: FabricConfig) -> bool:
        return ns.netns_exists(config.fabric_netns) and ns.link_exists(config.host_link)

    def _build(self, config: FabricConfig) -> None:
        fabric, link = config.fabric_netns, config.host_link
        ns.netns_add(fabric)
        ns.sysctl(fabric, {**ROUTER_SYSCTLS, **IPV6_OFF})
        ns.ip_batch(None, [f"link add {link} type veth peer name host netns {fabric}"])
        ipv6 = Path(f"/proc/sys/net/ipv6/conf/{link}/disable_ipv6")
        if ipv6.exists():  # no link-local IPv6 address on our root-namespace device
            ipv6.write_text("1\n")
        ns.ip_batch(fabric, [
            f"addr add {config.router_ip}/32 dev host",
            "link set host up",
            f"route add {config.host_ip}/32 dev host",
            # Service addresses nobody NATs end here: TCP gets a reset at once instead of hanging.
            f"route add local {config.service_cidr} dev lo",
        ])
        ns.ip_batch(None, [
            f"addr add {config.host_ip}/32 dev {link}",
            f"link set {link} up",
            f"route add {config.pod_cidr} via {config.router_ip} dev {link} onlink src {config.host_ip}",
            f"route add {config.service_cidr} via {config.router_ip} dev {link} onlink src {config.host_ip}",
        ])
        self._apply_services(fabric)
        self._apply_faults(config)

    def _clear_by_name(self, config: FabricConfig) -> None:
        """Delete the root link (its address and routes go with it) and every namespace of the slot."""
        if ns.link_exists(config.host_link):
            ns.run(["ip", "link", "delete", config.host_link], check=False)
        mine = [n for n in ns.netns_list() if n == config.prefix or n.startswith(config.prefix + "-")]
        for name in sorted(mine, key=len, reverse=True):  # pods, then nodes, then the fabric
            ns.netns_delete(name)

    # -------------------------------------------------------------------------------------- nodes

    def add_node(self, node: str) -> NodeNet:
        """A node namespace with its uplink to the fabric; idempotent."""
        config = self.config
        with self.state.lock():
            nodes = self.state.nodes()
            index = nodes.get(node)
            if index is not None and ns.netns_exists(config.node_netns(index)):
                return self._node_net(node, index)
            if index is None:
                used = set(nodes.values())
                index = next((i for i in range(1, MAX_NODE_INDEX + 1) if i not in used), None)
                if index is None:
                    raise FabricError(f"no free node index in {config.pod_cidr}")
                self.state.write_fabric(config.slot, {**nodes, node: index})
            self.state.write_pods(node, {})
            self._build_node(config, index)
            self._apply_faults(config)
            return self._node_net(node, index)

    def _build_node(self, config: FabricConfig, index: int) -> None:
        fabric, netns, uplink = config.fabric_netns, config.node_netns(index), uplink_name(index)
        ns.netns_delete(netns)
        ns.run(["ip", "-n", fabric, "link", "delete", uplink], check=False)
        ns.netns_add(netns)
        ns.sysctl(netns, {**ROUTER_SYSCTLS, **IPV6_OFF})
        ns.ip_batch(fabric, [
            f"link add {uplink} type veth peer name eth0 netns {netns}",
            f"addr add {config.router_ip}/32 dev {uplink}",
            f"link set {uplink} up",
        ])
        ns.ip_batch(netns, [
            f"addr add {config.node_ip(index)}/32 dev eth0",
            "link set eth0 up",
            f"route add default via {config.router_ip} dev eth0 onlink",
            f"route add local {config.service_cidr} dev lo",
        ])
        ns.ip_batch(fabric, [f"route add {config.node_subnet(index)} via {config.node_ip(index)} dev {uplink} onlink"])
        self._apply_services(netns)

    def remove_node(self, node: str) -> None:
        """Remove a node's pods, its namespace and its uplink; a no-op for an unknown node."""
        config = self.config
        with self.state.lock():
            nodes = self.state.nodes()
            index = nodes.pop(node, None)
            if index is None:
                return
            for host in self.state.pods(node).values():
                ns.netns_delete(config.pod_netns(index, host))
            ns.run(["ip", "-n", config.fabric_netns, "link", "delete", uplink_name(index)], check=False)
            ns.netns_delete(config.node_netns(index))
            self.state.write_fabric(config.slot, nodes)
            self.state.node_file(node).unlink(missing_ok=True)
            faults = self.state.faults()
            faults["cut_nodes"] = [n for n in faults["cut_nodes"] if n != node]
            for kind in ("cut_pods", "isolated_pods"):
                faults[kind] = [p for p in faults[kind] if p[0] != node]
            self.state.write_faults(faults)
            self._apply_faults(config)

    # --------------------------------------------------------------------------------------- pods

    def add_pod(self, node: str, key: str) -> PodNet:
        """A pod namespace: loopback up, eth0 with the pod IP, default route via the node; idempotent."""
        config = self.config
        with self.state.lock():
            index = self._index(node)
            pods = self.state.pods(node)
            host = pods.get(key)
            if host is not None and self._pod_ok(config, index, host):
                return self._pod_net(node, index, key, host)
            if host is None:
                used = set(pods.values())
                host = next((h for h in range(FIRST_POD_HOST, LAST_POD_HOST + 1) if h not in used), None)
                if host is None:
                    raise FabricError(f"no free pod address on node {node} ({config.node_subnet(index)})")
                self.state.write_pods(node, {**pods, key: host})
            self._build_pod(config, index, host)
            return self._pod_net(node, index, key, host)

    def _build_pod(self, config: FabricConfig, index: int, host: int) -> None:
        node_ns, pod_ns, link = config.node_netns(index), config.pod_netns(index, host), pod_link_name(host)
        ip, gateway = config.pod_ip(index, host), config.node_ip(index)
        ns.run(["ip", "-n", node_ns, "link", "delete", link], check=False)
        ns.netns_delete(pod_ns)
        ns.netns_add(pod_ns)
        ns.sysctl(pod_ns, IPV6_OFF)
        ns.ip_batch(node_ns, [
            f"link add {link} type veth peer name eth0 netns {pod_ns}",
            f"link set {link} up",
            f"route add {ip}/32 dev {link}",
        ])
        ns.ip_batch(pod_ns, [
            f"addr add {ip}/32 dev eth0",
            "link set eth0 up",
            f"route add {gateway} dev eth0 scope link",
            f"route add default via {gateway} dev eth0 src {ip}",
        ])

    def _pod_ok(self, config: FabricConfig, index: int, host: int) -> bool:
        return ns.netns_exists(config.pod_netns(index, host)) and ns.link_exists(
            pod_link_name(host), config.node_netns(index)
        )

    def remove_pod(self, node: str, key: str) -> None:
        """Remove a pod's namespace and link; a no-op for an unknown pod."""
        config = self.config
        with self.state.lock():
            index = self.state.nodes().get(node)
            pods = self.state.pods(node)
            host = pods.pop(key, None)
            if index is None or host is None:
                return
            ns.run(["ip", "-n", config.node_netns(index), "link", "delete", pod_link_name(host)], check=False)
            ns.netns_delete(config.pod_netns(index, host))
            self.state.write_pods(node, pods)
            faults = self.state.faults()
            if any(p == [node, key] for kind in ("cut_pods", "isolated_pods") for p in faults[kind]):
                for kind in ("cut_pods", "isolated_pods"):
                    faults[kind] = [p for p in faults[kind] if p != [node, key]]
                self.state.write_faults(faults)
                self._apply_faults(config)

    # ------------------------------------------------------------------------------------- faults

    def cut_pod(self, node: str, key: str) -> None:
        """Every packet in and out of the pod is dropped (its loopback keeps working)."""
        self._set_fault("cut_pods", [node, key], True)

    def heal_pod(self, node: str, key: str) -> None:
        self._set_fault("cut_pods", [node, key], False)

    def cut_node(self, node: str) -> None:
        """The node's pods lose other nodes, the host, DNS and the API server; they still reach each other."""
        self._set_fault("cut_nodes", node, True)

    def heal_node(self, node: str) -> None:
        self._set_fault("cut_nodes", node, False)

    def isolate_from_apiserver(self, node: str, key: str) -> None:
        """Only the pod's own connections to the API server (Service or forwarder) are dropped."""
        self._set_fault("isolated_pods", [node, key], True)

    def rejoin_apiserver(self, node: str, key: str) -> None:
        self._set_fault("isolated_pods", [node, key], False)

    def _set_fault(self, kind: str, item: object, present: bool) -> None:
        config = self.config
        with self.state.lock():
            if isinstance(item, list):
                node, key = item
                if key not in self.state.pods(node):
                    raise FabricError(f"no pod {key!r} on node {node!r}")
            elif item not in self.state.nodes():
                raise FabricError(f"no node {item!r}")
            faults = self.state.faults()
            entries = [e for e in faults[kind] if e != item]
            faults[kind] = [*entries, item] if present else entries
            self.state.write_faults(faults)
            self._apply_faults(config)

    def _apply_faults(self, config: FabricConfig) -> None:
        """Render the fault tables of the fabric and of every node from faults.json (caller holds the lock)."""
        faults, nodes = self.state.faults(), self.state.nodes()
        cut_uplinks = [uplink_name(nodes[n]) for n in faults["cut_nodes"] if n in nodes]
        if ns.netns_exists(config.fabric_netns):
            ns.nft_apply(config.fabric_netns, fault_table(cut_uplinks, []))
        for node, index in nodes.items():
            if not ns.netns_exists(config.node_netns(index)):
                continue
            pods = self.state.pods(node)
            cut = [pod_link_name(pods[k]) for n, k in faults["cut_pods"] if n == node and k in pods]
            isolated = [
                (pod_link_name(pods[k]), config.apiserver_ip, config.host_ip, APISERVER_FORWARD_PORT)
                for n, k in faults["isolated_pods"]
                if n == node and k in pods
            ]
            ns.nft_apply(config.node_netns(index), fault_table(cut, isolated))

    # ------------------------------------------------------------------------------------ routing

    def assert_routed(self, ip: str) -> None:
        """Raise unless the root namespace sends packets for ``ip`` into the test bed's own link.

        Call it before the first packet to a pod or Service address: until the fabric is up those
        ranges route through the machine's default gateway, off the machine.
        """
        config = self.config
        route = ns.route_get(ip)
        if ip == config.host_ip and route.get("type") == "local":
            return
        if route.get("dev") != config.host_link or not ns.link_exists(config.host_link):
            raise FabricError(
                f"refusing to send to {ip}: it routes via {route.get('dev')!r} "
                f"(gateway {route.get('gateway')}), not the test bed's link {config.host_link}"
            )

    def _apply_services(self, netns: str) -> None:
        """Load the agent's last Service ruleset into a new namespace, so it routes from its first packet."""
        with contextlib.suppress(FileNotFoundError):
            ns.nft_apply(netns, self.state.services_file.read_text())

    # ------------------------------------------------------------------------------------ helpers

    def _index(self, node: str) -> int:
        index = self.state.nodes().get(node)
        if index is None:
            raise FabricError(f"node {node!r} is not part of the pod network in {self.workdir}; add_node() first")
        return index

    def _node_net(self, node: str, index: int) -> NodeNet:
        config = self.config
        return NodeNet(node, config.node_netns(index), config.node_ip(index), config.node_subnet(index))

    def _pod_net(self, node: str, index: int, key: str, host: int) -> PodNet:
        config = self.config
        return PodNet(node, key, config.pod_netns(index, host), config.pod_ip(index, host))
