"""NetworkPolicies: PostgreSQL, Redis and SeaweedFS accept traffic only from the pods that need them.

PostgreSQL: pods labelled `req1.io/db-client=true` of this instance (API, migrate Job, later backup Jobs), the
other PostgreSQL pods (replication), and the operator's pods in any namespace. Redis: the API only. SeaweedFS:
the API and PostgreSQL (WAL archiving) on the S3 port, its own pods on every port. Egress is not restricted.
"""

from __future__ import annotations

from typing import Any

from req1_operator.render import config, names
from req1_operator.render.types import RenderInput

OPERATOR_POD_LABELS = {names.LABEL_NAME: "req1-operator"}


def _peer(inp: RenderInput, **labels: str) -> dict[str, Any]:
    return {"podSelector": {"matchLabels": {names.LABEL_NAME: names.APP, names.LABEL_INSTANCE: inp.name, **labels}}}


def _tcp(*ports: int) -> list[dict[str, Any]]:
    return [{"protocol": "TCP", "port": p} for p in ports]


def _policy(inp: RenderInput, component: str, rules: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": names.metadata(inp, names.network_policy(inp.name, component), component),
        "spec": {
            "podSelector": {"matchLabels": names.selector(inp, component)},
            "policyTypes": ["Ingress"],
            "ingress": rules,
        },
    }


def render_postgres(inp: RenderInput) -> dict[str, Any]:
    return _policy(
        inp,
        names.POSTGRES,
        [
            {
                "from": [
                    _peer(inp, **{names.LABEL_DB_CLIENT: "true"}),
                    _peer(inp, **{names.LABEL_COMPONENT: names.POSTGRES}),
                    {"namespaceSelector": {}, "podSelector": {"matchLabels": dict(OPERATOR_POD_LABELS)}},
                ],
                "ports": _tcp(config.PG_PORT),
            }
        ],
    )


def render_redis(inp: RenderInput) -> dict[str, Any]:
    return _policy(
        inp,
        names.REDIS,
        [{"from": [_peer(inp, **{names.LABEL_COMPONENT: names.API})], "ports": _tcp(config.REDIS_PORT)}],
    )


def render_seaweedfs(inp: RenderInput) -> dict[str, Any]:
    return _policy(
        inp,
        names.SEAWEEDFS,
        [
            {
                "from": [
                    _peer(inp, **{names.LABEL_COMPONENT: names.API}),
                    _peer(inp, **{names.LABEL_COMPONENT: names.POSTGRES}),
                    _peer(inp, **{names.LABEL_DB_CLIENT: "true"}),
                ],
                "ports": _tcp(config.S3_PORT),
            },
            {"from": [_peer(inp, **{names.LABEL_COMPONENT: names.SEAWEEDFS})]},
        ],
    )


def render(inp: RenderInput) -> list[dict[str, Any]]:
    out = [render_postgres(inp), render_redis(inp)]
    if inp.spec.storage.effective_seaweedfs is not None:
        out.append(render_seaweedfs(inp))
    return out
