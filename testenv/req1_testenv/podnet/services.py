"""From Services and EndpointSlices (plain API JSON) to what routes and what resolves.

Pure functions, so the kube-proxy and DNS semantics are testable without a network: a ClusterIP
port goes to the ready endpoints of the slices labelled with its Service (by port name and
protocol), falling back to serving-and-terminating ones like kube-proxy; headless Services resolve
to endpoint addresses and StatefulSet pods to ``<hostname>.<svc>.<ns>.svc.<domain>``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from req1_testenv.podnet.addressing import CLUSTER_DOMAIN
from req1_testenv.podnet.rules import replace_table

SERVICE_TABLE = "req1svc"
MASQ_MARK = "0x4000"
SERVICE_NAME_LABEL = "kubernetes.io/service-name"

Obj = Mapping[str, Any]


@dataclass(frozen=True)
class Endpoint:
    ip: str
    port: int
    ready: bool
    serving: bool
    terminating: bool
    hostname: str | None = None


@dataclass(frozen=True)
class Route:
    """One ClusterIP port and where its new connections go."""

    name: str  # "<ns>/<svc>:<port name or number>", for comments and logs
    cluster_ip: str
    protocol: str  # tcp, udp, sctp
    port: int
    backends: tuple[tuple[str, int], ...]


def _meta(obj: Obj) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return str(meta.get("namespace") or ""), str(meta.get("name") or "")


def slice_endpoints(slices: Iterable[Obj]) -> dict[tuple[str, str], dict[tuple[str, str], list[Endpoint]]]:
    """Endpoints per Service (ns, name), per port (name, protocol), from IPv4 EndpointSlices."""
    out: dict[tuple[str, str], dict[tuple[str, str], list[Endpoint]]] = defaultdict(lambda: defaultdict(list))
    for es in slices:
        if es.get("addressType", "IPv4") != "IPv4":
            continue
        namespace, _ = _meta(es)
        service = ((es.get("metadata") or {}).get("labels") or {}).get(SERVICE_NAME_LABEL)
        if not service:
            continue
        for port in es.get("ports") or []:
            if port.get("port") is None:
                continue
            key = (str(port.get("name") or ""), str(port.get("protocol") or "TCP").upper())
            for ep in es.get("endpoints") or []:
                cond = ep.get("conditions") or {}
                ready = cond.get("ready") is not False
                serving = cond.get("serving") if cond.get("serving") is not None else ready
                for ip in (ep.get("addresses") or [])[:1]:
                    out[(namespace, service)][key].append(Endpoint(
                        ip=str(ip), port=int(port["port"]), ready=ready, serving=bool(serving),
                        terminating=bool(cond.get("terminating")), hostname=ep.get("hostname"),
                    ))
    return out


def _cluster_ip(svc: Obj) -> str | None:
    spec = svc.get("spec") or {}
    ip = spec.get("clusterIP")
    if spec.get("type") == "ExternalName" or not ip or ip == "None" or ":" in str(ip):
        return None
    return str(ip)


def service_routes(services: Iterable[Obj], slices: Iterable[Obj]) -> list[Route]:
    """Every ClusterIP port with its backends (possibly none), sorted for stable rendering."""
    endpoints = slice_endpoints(slices)
    routes: list[Route] = []
    for svc in services:
        cluster_ip = _cluster_ip(svc)
        if cluster_ip is None:
            continue
        namespace, name = _meta(svc)
        for sp in (svc.get("spec") or {}).get("ports") or []:
            protocol = str(sp.get("protocol") or "TCP").upper()
            eps = endpoints.get((namespace, name), {}).get((str(sp.get("name") or ""), protocol), [])
            chosen = [e for e in eps if e.ready] or [e for e in eps if e.serving and e.terminating]
            backends = tuple(sorted({(e.ip, e.port) for e in chosen}))
            label = sp.get("name") or sp.get("port")
            routes.append(Route(f"{namespace}/{name}:{label}", cluster_ip, protocol.lower(), int(sp["port"]), backends))
    return sorted(routes, key=lambda r: (r.cluster_ip, r.protocol, r.port))


def render_nft(routes: Iterable[Route]) -> str:
    """The Service table: DNAT each ClusterIP port to a random backend; masquerade hairpin traffic.

    A port without backends gets no map entry: its packets reach the namespace's local route for
    the Service range, where TCP is answered with a reset (UDP with port-unreachable) at once.
    A connection from a backend to itself through its Service is masqueraded (else the backend
    would get a packet from its own address and drop it), as kube-proxy does.
    """
    elements: list[str] = []
    chains: list[str] = []
    for n, route in enumerate(r for r in routes if r.backends):
        svc_chain = f"svc-{n}"
        eps = [f"ep-{n}-{m}" for m in range(len(route.backends))]
        elements.append(f"{route.cluster_ip} . {route.protocol} . {route.port} : goto {svc_chain}")
        if len(eps) == 1:
            pick = f"goto {eps[0]}"
        else:
            pick = "numgen random mod {} vmap {{ {} }}".format(
                len(eps), ", ".join(f"{m} : goto {chain}" for m, chain in enumerate(eps))
            )
        chains += [f"chain {svc_chain} {{", f'  comment "{route.name}"', f"  {pick}", "}"]
        for chain, (ip, port) in zip(eps, route.backends, strict=True):
            chains += [
                f"chain {chain} {{",
                f"  ip saddr {ip} meta mark set meta mark | {MASQ_MARK}",
                f"  meta l4proto {route.protocol} dnat to {ip}:{port}",
                "}",
            ]
    body = [
        "map services {",
        "  type ipv4_addr . inet_proto . inet_service : verdict",
        *([f"  elements = {{ {', '.join(elements)} }}"] if elements else []),
        "}",
        "chain prerouting {",
        "  type nat hook prerouting priority dstnat; policy accept;",
        "  ip daddr . meta l4proto . th dport vmap @services",
        "}",
        "chain output {",
        "  type nat hook output priority -100; policy accept;",
        "  ip daddr . meta l4proto . th dport vmap @services",
        "}",
        "chain postrouting {",
        "  type nat hook postrouting priority srcnat; policy accept;",
        f"  meta mark & {MASQ_MARK} == {MASQ_MARK} masquerade",
        "}",
        *chains,
    ]
    return replace_table(SERVICE_TABLE, body)


# ------------------------------------------------------------------------------------------- DNS


@dataclass
class DnsRecords:
    """Answers by lower-case name without the trailing dot; ``names`` also holds empty non-terminals."""

    a: dict[str, list[str]] = field(default_factory=dict)
    cname: dict[str, str] = field(default_factory=dict)
    srv: dict[str, list[tuple[int, str]]] = field(default_factory=dict)  # (port, target)
    names: set[str] = field(default_factory=set)

    def add_name(self, name: str) -> None:
        """Record ``name`` and every parent down to the cluster domain (they exist, with no data)."""
        labels = name.split(".")
        for i in range(len(labels)):
            self.names.add(".".join(labels[i:]))


def dns_records(services: Iterable[Obj], slices: Iterable[Obj], domain: str = CLUSTER_DOMAIN) -> DnsRecords:
    """The cluster DNS zone as CoreDNS's kubernetes plugin would serve it (A, CNAME, SRV)."""
    endpoints = slice_endpoints(slices)
    rec = DnsRecords()
    rec.add_name(f"svc.{domain}")
    for svc in services:
        namespace, name = _meta(svc)
        spec = svc.get("spec") or {}
        fqdn = f"{name}.{namespace}.svc.{domain}".lower()
        rec.add_name(fqdn)
        if spec.get("type") == "ExternalName":
            if spec.get("externalName"):
                rec.cname[fqdn] = str(spec["externalName"]).rstrip(".").lower()
            continue
        cluster_ip = _cluster_ip(svc)
        if cluster_ip is not None:
            rec.a[fqdn] = [cluster_ip]
            for sp in spec.get("ports") or []:
                if sp.get("name"):
                    srv = f"_{sp['name']}._{str(sp.get('protocol') or 'TCP').lower()}.{fqdn}"
                    rec.srv.setdefault(srv, []).append((int(sp["port"]), fqdn))
                    rec.add_name(srv)
            continue
        if spec.get("clusterIP") != "None":
            continue
        publish_all = bool(spec.get("publishNotReadyAddresses"))
        seen: set[str] = set()
        for eps in endpoints.get((namespace, name), {}).values():
            for ep in eps:
                if not (ep.ready or publish_all):
                    continue
                seen.add(ep.ip)
                if ep.hostname:
                    host = f"{ep.hostname}.{fqdn}".lower()
                    rec.a[host] = sorted({*rec.a.get(host, []), ep.ip})
                    rec.add_name(host)
        if seen:
            rec.a[fqdn] = sorted(seen)
    return rec
