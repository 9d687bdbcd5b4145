"""nftables scripts for the fabric's own namespaces: faults (cut, heal, isolate).

Every script replaces its table in one transaction (``table {}`` + ``delete table`` + the new
table), so rendering the whole desired state each time is both simple and atomic. Faults are
dropped at priority -300 in prerouting/postrouting: before conntrack and NAT, and on every path
(forwarded, to the namespace itself, from it).
"""

from __future__ import annotations

from collections.abc import Iterable

FAULT_TABLE = "req1fault"


def replace_table(name: str, body: Iterable[str]) -> str:
    """A script that atomically replaces ``table ip <name>`` with ``body`` (lines inside it)."""
    lines = [f"table ip {name} {{}}", f"delete table ip {name}", f"table ip {name} {{"]
    lines += [f"  {line}" for line in body]
    lines.append("}")
    return "\n".join(lines) + "\n"


def fault_table(cut_links: Iterable[str], isolated: Iterable[tuple[str, str, str, int]]) -> str:
    """Drop everything through ``cut_links``; drop traffic from ``(link, ip, ip2, port)`` pods to the API.

    ``isolated`` holds (pod link, apiserver ClusterIP, host IP, forwarder port): the pod's packets to
    the `kubernetes` Service (443) and to the forwarder behind it are dropped, nothing else.
    """
    cut = sorted(set(cut_links))
    pre = [f'iifname "{link}" drop' for link in cut]
    for link, cluster_ip, host_ip, port in sorted(set(isolated)):
        pre.append(f'iifname "{link}" ip daddr {cluster_ip} tcp dport 443 drop')
        pre.append(f'iifname "{link}" ip daddr {host_ip} tcp dport {port} drop')
    post = [f'oifname "{link}" drop' for link in cut]
    body = [
        "chain prerouting {",
        "  type filter hook prerouting priority -300; policy accept;",
        *[f"  {rule}" for rule in pre],
        "}",
        "chain postrouting {",
        "  type filter hook postrouting priority 300; policy accept;",
        *[f"  {rule}" for rule in post],
        "}",
    ]
    return replace_table(FAULT_TABLE, body)
