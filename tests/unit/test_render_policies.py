"""NetworkPolicies: PostgreSQL and Redis only from the API (and the operator's own jobs)."""

from __future__ import annotations

from typing import Any

from req1_operator.render import RenderInput, api, names, policies, postgres, redis
from req1_operator.spec import parse_spec


def make(spec: dict[str, Any] | None = None) -> RenderInput:
    return RenderInput(name="demo", namespace="ns", uid="u", spec=parse_spec(spec or {}))


def admits(policy: dict[str, Any], pod_labels: dict[str, str], port: int) -> bool:
    """Same-namespace evaluation of a NetworkPolicy's ingress rules for a pod with these labels."""
    for rule in policy["spec"]["ingress"]:
        ports = [p["port"] for p in rule.get("ports", [])]
        if ports and port not in ports:
            continue
        for peer in rule["from"]:
            want = peer["podSelector"].get("matchLabels", {})
            if want.items() <= pod_labels.items():
                return True
    return False


def pod_labels(obj: dict[str, Any]) -> dict[str, str]:
    return dict(obj["spec"]["template"]["metadata"]["labels"])


def test_postgres_admits_api_migrate_and_its_peers_only() -> None:
    inp = make()
    pol = policies.render_postgres(inp)
    assert pol["spec"]["podSelector"]["matchLabels"] == names.selector(inp, names.POSTGRES)
    assert pol["spec"]["policyTypes"] == ["Ingress"]
    assert admits(pol, pod_labels(api.render_deployment(inp)), 5432)
    assert admits(pol, pod_labels(api.render_migrate_job(inp)), 5432)
    assert admits(pol, pod_labels(postgres.render_statefulset(inp)), 5432)
    assert not admits(pol, pod_labels(redis.render_statefulset(inp)), 5432)
    assert not admits(pol, pod_labels(api.render_deployment(inp)), 22)
    other_instance = {**pod_labels(api.render_deployment(inp)), names.LABEL_INSTANCE: "other"}
    assert not admits(pol, other_instance, 5432)
    operator_peer = pol["spec"]["ingress"][0]["from"][2]
    assert operator_peer["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": "req1-operator"}


def test_redis_admits_the_api_only() -> None:
    inp = make()
    pol = policies.render_redis(inp)
    assert admits(pol, pod_labels(api.render_deployment(inp)), 6379)
    assert not admits(pol, pod_labels(postgres.render_statefulset(inp)), 6379)
    assert not admits(pol, pod_labels(api.render_migrate_job(inp)), 6379)


def test_seaweedfs_policy_only_when_in_cluster() -> None:
    assert len(policies.render(make())) == 3
    ext = {"storage": {"external": {"endpoint": "https://s3.example.com", "bucket": "att", "secretName": "s3"}}}
    assert [p["metadata"]["name"] for p in policies.render(make(ext))] == ["demo-postgres", "demo-redis"]
