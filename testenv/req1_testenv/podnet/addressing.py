"""Addresses and names of one fabric, derived from its slot number alone.

Why derived: every process that attaches to a fabric (the test, each node agent, the network agent)
must compute the same names and addresses without talking to the others, and two fabrics on one
machine must never overlap. Slot ``s`` owns ``10.(244+s).0.0/16`` for pods and ``10.(96+s).0.0/16``
for Services; names start with ``req1-s<s>`` so leftovers are recognisable (and removable) by name.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

SLOTS = 8  # 10.244-10.251 for pods, 10.96-10.103 for Services
MAX_NODE_INDEX = 254  # node i holds 10.x.i.0/24; 10.x.255.0/24 is the host link
FIRST_POD_HOST, LAST_POD_HOST = 2, 254  # .1 is the node itself
CLUSTER_DOMAIN = "cluster.local"


@dataclass(frozen=True)
class FabricConfig:
    """What a cluster needs to know about its network (all derived from ``slot``)."""

    slot: int
    pod_cidr: str
    service_cidr: str
    host_ip: str  # root-namespace end of the fabric's own link
    dns_ip: str  # the kube-dns ClusterIP
    apiserver_ip: str  # the `kubernetes` Service ClusterIP

    @classmethod
    def for_slot(cls, slot: int) -> FabricConfig:
        if not 0 <= slot < SLOTS:
            raise ValueError(f"fabric slot must be in 0..{SLOTS - 1}, not {slot}")
        pods, services = f"10.{244 + slot}", f"10.{96 + slot}"
        return cls(
            slot=slot,
            pod_cidr=f"{pods}.0.0/16",
            service_cidr=f"{services}.0.0/16",
            host_ip=f"{pods}.255.1",
            dns_ip=f"{services}.0.10",
            apiserver_ip=f"{services}.0.1",
        )

    # -- derived addresses

    @property
    def router_ip(self) -> str:
        """The fabric namespace's address on every link it has (host link and node uplinks)."""
        return self._pods(255, 2)

    def node_ip(self, index: int) -> str:
        return self._pods(index, 1)

    def node_subnet(self, index: int) -> str:
        return self._pods(index, 0) + "/24"

    def pod_ip(self, node_index: int, host: int) -> str:
        return self._pods(node_index, host)

    def _pods(self, third: int, fourth: int) -> str:
        base = ipaddress.ip_network(self.pod_cidr).network_address
        return str(base + third * 256 + fourth)

    # -- names (netns names live under /run/netns; interface names stay under 15 characters)

    @property
    def prefix(self) -> str:
        return f"req1-s{self.slot}"

    @property
    def host_link(self) -> str:
        """The one device of the fabric in the root namespace."""
        return self.prefix

    @property
    def fabric_netns(self) -> str:
        return self.prefix

    def node_netns(self, index: int) -> str:
        return f"{self.prefix}-n{index}"

    def pod_netns(self, node_index: int, host: int) -> str:
        return f"{self.prefix}-n{node_index}-p{host}"

    def in_pod_cidr(self, ip: str) -> bool:
        return ipaddress.ip_address(ip) in ipaddress.ip_network(self.pod_cidr)

    def in_service_cidr(self, ip: str) -> bool:
        return ipaddress.ip_address(ip) in ipaddress.ip_network(self.service_cidr)


def slot_of_service_ip(ip: str) -> int | None:
    """The slot whose Service range holds ``ip`` (e.g. a cluster's `kubernetes` ClusterIP), if any."""
    for slot in range(SLOTS):
        if FabricConfig.for_slot(slot).in_service_cidr(ip):
            return slot
    return None


def uplink_name(node_index: int) -> str:
    """The fabric-side end of node ``node_index``'s uplink (the node side is ``eth0``)."""
    return f"n{node_index}"


def pod_link_name(host: int) -> str:
    """The node-side end of a pod's veth (the pod side is ``eth0``)."""
    return f"p{host}"


def resolv_conf(namespace: str, dns_ip: str) -> str:
    """The resolv.conf a kubelet writes for a ClusterFirst pod in ``namespace``."""
    search = f"{namespace}.svc.{CLUSTER_DOMAIN} svc.{CLUSTER_DOMAIN} {CLUSTER_DOMAIN}"
    return f"nameserver {dns_ip}\nsearch {search}\noptions ndots:5\n"
