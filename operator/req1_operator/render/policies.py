"""NetworkPolicies: every pod of an instance starts from default-deny, in and out; each flow it needs is allowed
explicitly.

Ingress. API: its port from anywhere (the ingress controller, Prometheus). PostgreSQL: pods labelled
`req1.io/db-client=true` of this instance (API, migrate Job, backup Jobs) and the other PostgreSQL pods
(replication) — no label from another namespace is trusted, since anyone who can create a pod can set it (the
operator itself never connects to PostgreSQL). Redis: the API only. SeaweedFS: the API, PostgreSQL (WAL
archiving) and the db-clients on the S3 port; its own pods on every port.

Egress. Every pod: DNS, and the S3 services the instance uses (its SeaweedFS, an external attachment store, the
backup destination, a restore source). db-clients: PostgreSQL. API: Redis, and public addresses on any port (webhook
receivers; private ranges excepted). PostgreSQL: its peers.
SeaweedFS: its own pods. Instance managers and restore drills: the Kubernetes API server.

Kubelet probes come from the node and are not subject to these policies.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from req1_operator.render import backup, config, names
from req1_operator.render.types import RenderInput

#: Where a pod reaches the Kubernetes API server: the Service's port and the usual endpoint ports behind it.
API_SERVER_PORTS = (443, 6443)
DNS_PORT = 53
DEFAULT_DENY = "default-deny"
EGRESS = "egress"
DB_CLIENTS = "db-clients"
KUBE_API = "kube-api"
KUBE_API_CLIENTS = (names.POSTGRES, backup.DRILL)


def _peer(inp: RenderInput, **labels: str) -> dict[str, Any]:
    return {"podSelector": {"matchLabels": {names.LABEL_NAME: names.APP, names.LABEL_INSTANCE: inp.name, **labels}}}


def _component(inp: RenderInput, component: str) -> dict[str, Any]:
    return _peer(inp, **{names.LABEL_COMPONENT: component})


def _tcp(*ports: int) -> list[dict[str, Any]]:
    return [{"protocol": "TCP", "port": p} for p in ports]


def _instance_pods(inp: RenderInput) -> dict[str, Any]:
    return {"matchLabels": {names.LABEL_NAME: names.APP, names.LABEL_INSTANCE: inp.name}}


def _policy(
    inp: RenderInput,
    name: str,
    pods: dict[str, Any],
    ingress: list[dict[str, Any]] | None = None,
    egress: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A policy that only allows: the types it lists are the directions its rules open (never a deny by itself,
    except the default-deny below, which lists both and opens nothing). Empty rule lists are left out, as the
    API server stores them, so that applying the same render again changes nothing."""
    types = (["Ingress"] if ingress is not None else []) + (["Egress"] if egress is not None else [])
    spec: dict[str, Any] = {"podSelector": pods, "policyTypes": types}
    if ingress:
        spec["ingress"] = ingress
    if egress:
        spec["egress"] = egress
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": names.metadata(inp, names.network_policy(inp.name, name), name),
        "spec": spec,
    }


def _endpoint_port(url: str) -> int:
    parts = urlsplit(url)
    return parts.port or (443 if parts.scheme == "https" else 80)


def s3_egress(inp: RenderInput) -> list[dict[str, Any]]:
    """Egress rules to every S3 service the instance uses: its SeaweedFS by selector, external ones by port."""
    spec = inp.spec
    rules: list[dict[str, Any]] = []
    if spec.storage.effective_seaweedfs is not None:
        rules.append({"to": [_component(inp, names.SEAWEEDFS)], "ports": _tcp(config.S3_PORT)})
    external = [spec.storage.external.endpoint] if spec.storage.external is not None else []
    if spec.backup.enabled and spec.backup.destination is not None:
        external.append(spec.backup.destination.endpoint)
    if spec.restore is not None:
        external.append(spec.restore.source.endpoint)
    ports = sorted({_endpoint_port(url) for url in external})
    if ports:  # outside the cluster: no selector names it, so any address on its port
        rules.append({"ports": _tcp(*ports)})
    return rules


def render_default_deny(inp: RenderInput) -> dict[str, Any]:
    return _policy(inp, DEFAULT_DENY, _instance_pods(inp), ingress=[], egress=[])


def render_common_egress(inp: RenderInput) -> dict[str, Any]:
    dns = {"ports": [{"protocol": "UDP", "port": DNS_PORT}, {"protocol": "TCP", "port": DNS_PORT}]}
    return _policy(inp, EGRESS, _instance_pods(inp), egress=[dns, *s3_egress(inp)])


def render_db_clients(inp: RenderInput) -> dict[str, Any]:
    pods = _peer(inp, **{names.LABEL_DB_CLIENT: "true"})["podSelector"]
    to_postgres = {"to": [_component(inp, names.POSTGRES)], "ports": _tcp(config.PG_PORT)}
    return _policy(inp, DB_CLIENTS, pods, egress=[to_postgres])


#: Webhook receivers are anywhere on the internet, on any port; never inside the cluster's private networks
#: (the server refuses those too unless WEBHOOK_ALLOW_PRIVATE, docs/webhooks.md).
PRIVATE_V4 = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "127.0.0.0/8", "100.64.0.0/10"]
PRIVATE_V6 = ["fc00::/7", "fe80::/10", "::1/128"]
WEBHOOK_EGRESS = {"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": PRIVATE_V4}},
                         {"ipBlock": {"cidr": "::/0", "except": PRIVATE_V6}}]}


def render_api(inp: RenderInput) -> dict[str, Any]:
    return _policy(
        inp,
        names.API,
        {"matchLabels": names.selector(inp, names.API)},
        ingress=[{"ports": _tcp(config.API_PORT)}],
        egress=[{"to": [_component(inp, names.REDIS)], "ports": _tcp(config.REDIS_PORT)}, WEBHOOK_EGRESS],
    )


def render_postgres(inp: RenderInput) -> dict[str, Any]:
    return _policy(
        inp,
        names.POSTGRES,
        {"matchLabels": names.selector(inp, names.POSTGRES)},
        ingress=[
            {
                "from": [_peer(inp, **{names.LABEL_DB_CLIENT: "true"}), _component(inp, names.POSTGRES)],
                "ports": _tcp(config.PG_PORT),
            }
        ],
        egress=[{"to": [_component(inp, names.POSTGRES)], "ports": _tcp(config.PG_PORT)}],
    )


def render_kube_api(inp: RenderInput) -> dict[str, Any]:
    """The pods that talk to the Kubernetes API server: instance managers (Lease, reports) and restore drills
    (their result on their own pod). No selector can name the API server, so by port."""
    pods = {
        "matchLabels": {names.LABEL_NAME: names.APP, names.LABEL_INSTANCE: inp.name},
        "matchExpressions": [{"key": names.LABEL_COMPONENT, "operator": "In", "values": list(KUBE_API_CLIENTS)}],
    }
    return _policy(inp, KUBE_API, pods, egress=[{"ports": _tcp(*API_SERVER_PORTS)}])


def render_redis(inp: RenderInput) -> dict[str, Any]:
    return _policy(
        inp,
        names.REDIS,
        {"matchLabels": names.selector(inp, names.REDIS)},
        ingress=[{"from": [_component(inp, names.API)], "ports": _tcp(config.REDIS_PORT)}],
    )


def render_seaweedfs(inp: RenderInput) -> dict[str, Any]:
    own = _component(inp, names.SEAWEEDFS)
    return _policy(
        inp,
        names.SEAWEEDFS,
        {"matchLabels": names.selector(inp, names.SEAWEEDFS)},
        ingress=[
            {
                "from": [
                    _component(inp, names.API),
                    _component(inp, names.POSTGRES),
                    _peer(inp, **{names.LABEL_DB_CLIENT: "true"}),
                ],
                "ports": _tcp(config.S3_PORT),
            },
            {"from": [own]},
        ],
        egress=[{"to": [own]}],
    )


def render(inp: RenderInput) -> list[dict[str, Any]]:
    out = [
        render_default_deny(inp),
        render_common_egress(inp),
        render_db_clients(inp),
        render_api(inp),
        render_postgres(inp),
        render_kube_api(inp),
        render_redis(inp),
    ]
    if inp.spec.storage.effective_seaweedfs is not None:
        out.append(render_seaweedfs(inp))
    return out
