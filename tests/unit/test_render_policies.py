"""NetworkPolicies: default-deny in and out for every pod of the instance, and exactly the flows the stack needs.

`allowed` evaluates the rendered policies the way the Kubernetes NetworkPolicy semantics define them: a pod
selected by no policy of a direction is open in that direction; once selected, a connection passes when some
selecting policy's rule admits the peer and the port (both ends must allow it). Peers are pods of this
namespace or, with `ip`, an address outside the cluster.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from req1_operator.render import RenderInput, api, names, policies, postgres, redis, render_all
from req1_operator.spec import parse_spec

Pod = dict[str, str]
EXTERNAL = "ip:203.0.113.7"  # some address outside the cluster


def make(spec: dict[str, Any] | None = None) -> RenderInput:
    return RenderInput(name="demo", namespace="ns", uid="u", spec=parse_spec(spec or {}))


def selects(selector: dict[str, Any], pod: Pod | str) -> bool:
    if not isinstance(pod, dict) or not selector.get("matchLabels", {}).items() <= pod.items():
        return False
    for expr in selector.get("matchExpressions", []):
        assert expr["operator"] == "In", expr  # the only operator the render uses
        if pod.get(expr["key"]) not in expr["values"]:
            return False
    return True


def _in_block(block: dict[str, Any], other: Pod | str) -> bool:
    if not isinstance(other, str):
        return False  # pods are matched by selectors here, not by their addresses
    ip = ipaddress.ip_address(other.removeprefix("ip:"))
    def inside(cidr: str) -> bool:
        net = ipaddress.ip_network(cidr)
        return ip.version == net.version and ip in net
    return inside(block["cidr"]) and not any(inside(c) for c in block.get("except", []))


def _peer_ok(peers: list[dict[str, Any]] | None, other: Pod | str) -> bool:
    if peers is None:  # no `from`/`to`: every peer
        return True
    return any(
        (_in_block(p["ipBlock"], other) if "ipBlock" in p else
         "podSelector" in p and "namespaceSelector" not in p and selects(p["podSelector"], other))
        for p in peers
    )


def _port_ok(ports: list[dict[str, Any]] | None, port: int, protocol: str) -> bool:
    return ports is None or any(p["port"] == port and p.get("protocol", "TCP") == protocol for p in ports)


def _direction(pols: list[dict[str, Any]], pod: Pod | str, other: Pod | str, port: int, protocol: str,
               kind: str) -> bool:
    selecting = [
        p for p in pols if selects(p["spec"]["podSelector"], pod) and kind.capitalize() in p["spec"]["policyTypes"]
    ]
    if not selecting or isinstance(pod, str):
        return True
    peer_key = "from" if kind == "ingress" else "to"
    return any(
        _peer_ok(rule.get(peer_key), other) and _port_ok(rule.get("ports"), port, protocol)
        for p in selecting
        for rule in p["spec"].get(kind, [])
    )


def allowed(pols: list[dict[str, Any]], src: Pod | str, dst: Pod | str, port: int, protocol: str = "TCP") -> bool:
    out_ok = _direction(pols, src, dst, port, protocol, "egress")
    return out_ok and _direction(pols, dst, src, port, protocol, "ingress")


def labels(obj: dict[str, Any]) -> Pod:
    spec = obj["spec"]
    template = spec.get("template") or spec["jobTemplate"]["spec"]["template"]
    return dict(template["metadata"]["labels"])


def pods(inp: RenderInput) -> dict[str, Pod]:
    """The pod labels of every workload rendered (by object name), with short names for the main ones."""
    out = {
        "api": labels(api.render_deployment(inp)),
        "migrate": labels(api.render_migrate_job(inp)),
        "postgres": labels(postgres.render_statefulset(inp)),
        "redis": labels(redis.render_statefulset(inp)),
    }
    for obj in render_all(inp):
        if "template" in obj.get("spec", {}) or "jobTemplate" in obj.get("spec", {}):
            out[obj["metadata"]["name"]] = labels(obj)
    if inp.spec.storage.effective_seaweedfs is not None:
        out["filer"] = out[names.seaweedfs_filer(inp.name)]
        out["volume"] = out[names.seaweedfs_volume(inp.name)]
    return out


NEEDED = [
    ("api", "postgres", 5432), ("migrate", "postgres", 5432), ("postgres", "postgres", 5432),
    ("api", "redis", 6379), ("api", "filer", 8333), ("postgres", "filer", 8333), ("filer", "volume", 8080),
    ("volume", "filer", 18888),
]
FORBIDDEN = [
    ("redis", "postgres", 5432), ("postgres", "redis", 6379), ("migrate", "redis", 6379), ("api", "postgres", 22),
    ("redis", "filer", 8333), ("api", "volume", 8080), ("redis", EXTERNAL, 443), ("postgres", EXTERNAL, 5432),
    ("api", "ip:10.96.0.10", 443), ("api", "ip:169.254.169.254", 80), ("api", "ip:fd00::1", 443),
    ("migrate", EXTERNAL, 443), ("migrate", EXTERNAL, 6443), ("redis", EXTERNAL, 6443),
]


def test_every_flow_the_stack_needs_is_open_and_nothing_else() -> None:
    inp = make()
    pols, p = policies.render(inp), pods(inp)
    for src, dst, port in NEEDED:
        assert allowed(pols, p[src], p[dst], port), (src, dst, port)
    for src, dst, port in FORBIDDEN:
        assert not allowed(pols, p[src], p.get(dst, dst), port), (src, dst, port)
    for name in p:
        assert allowed(pols, p[name], EXTERNAL, 53, "UDP"), name  # DNS from every pod
    assert allowed(pols, p["postgres"], EXTERNAL, 6443)  # the instance manager's Lease and reports
    assert allowed(pols, EXTERNAL, p["api"], 8080)  # the ingress controller, Prometheus
    assert allowed(pols, p["api"], EXTERNAL, 8443) and allowed(pols, p["api"], "ip:2606:4700::1111", 443)  # webhooks


def test_every_pod_of_the_instance_is_selected_by_default_deny_both_ways() -> None:
    inp = make({"backup": {"enabled": True, "schedule": "0 3 * * *"}})
    deny = policies.render_default_deny(inp)
    assert deny["spec"]["policyTypes"] == ["Ingress", "Egress"]
    assert "ingress" not in deny["spec"] and "egress" not in deny["spec"]  # both directions, nothing opened
    for obj in render_all(inp):
        spec = obj.get("spec") or {}
        if "template" in spec or "jobTemplate" in spec:
            assert selects(deny["spec"]["podSelector"], labels(obj)), obj["metadata"]["name"]
    other = {**pods(inp)["api"], names.LABEL_INSTANCE: "other"}
    assert not allowed(policies.render(inp), other, pods(inp)["postgres"], 5432)


def test_backup_jobs_reach_postgres_and_s3() -> None:
    inp = make({"backup": {"enabled": True, "schedule": "0 3 * * *"}})
    pols, p = policies.render(inp), pods(inp)
    jobs = [n for n in p if n.startswith("demo-attachments")]
    assert jobs
    for job in jobs:
        assert allowed(pols, p[job], p["postgres"], 5432) and allowed(pols, p[job], p["filer"], 8333), job
        assert not allowed(pols, p[job], p["redis"], 6379), job
        assert not allowed(pols, p[job], EXTERNAL, 6443), job
    drill = p["demo-restore-drill"]  # restores from S3 and reports its result on its own pod
    assert allowed(pols, drill, p["filer"], 8333) and allowed(pols, drill, EXTERNAL, 6443)
    assert not allowed(pols, drill, p["redis"], 6379) and not allowed(pols, drill, EXTERNAL, 8080)


def test_no_peer_from_another_namespace_is_trusted() -> None:
    for pol in policies.render(make()):
        for rule in pol["spec"].get("ingress", []):
            assert all("namespaceSelector" not in peer for peer in rule.get("from", [])), pol["metadata"]["name"]


@pytest.mark.parametrize(
    ("spec", "port"),
    [
        ({"storage": {"external": {"endpoint": "https://s3.example.com", "bucket": "att", "secretName": "s3"}}}, 443),
        ({"backup": {"enabled": True, "destination": {"endpoint": "http://minio.backup:9000", "bucket": "backups",
                                                      "secretName": "b"}}}, 9000),
    ],
)
def test_external_s3_is_reached_on_its_port_only(spec: dict[str, Any], port: int) -> None:
    inp = make(spec)
    pols, p = policies.render(inp), pods(inp)
    assert allowed(pols, p["postgres"], EXTERNAL, port) and allowed(pols, p["migrate"], EXTERNAL, port)
    assert not allowed(pols, p["postgres"], EXTERNAL, port + 1) and not allowed(pols, p["migrate"], EXTERNAL, port + 1)


def test_seaweedfs_policy_only_when_in_cluster() -> None:
    assert "demo-seaweedfs" in [p["metadata"]["name"] for p in policies.render(make())]
    ext = {"storage": {"external": {"endpoint": "https://s3.example.com", "bucket": "att", "secretName": "s3"}}}
    rendered = [p["metadata"]["name"] for p in policies.render(make(ext))]
    assert "demo-seaweedfs" not in rendered
    assert rendered == [
        "demo-default-deny", "demo-egress", "demo-db-clients", "demo-api", "demo-postgres", "demo-kube-api",
        "demo-redis",
    ]
