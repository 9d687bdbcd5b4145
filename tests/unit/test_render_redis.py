"""Redis StatefulSet and Service."""

from __future__ import annotations

from typing import Any

from req1_operator.render import RenderInput, config, redis
from req1_operator.spec import parse_spec


def make(spec: dict[str, Any] | None = None) -> RenderInput:
    return RenderInput(name="demo", namespace="ns", uid="u", spec=parse_spec(spec or {}))


def test_persistent_redis_has_a_claim_and_aof() -> None:
    inp = make({"redis": {"storage": {"size": "3Gi"}}})
    sts = redis.render_statefulset(inp)
    assert sts["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] == "3Gi"
    assert "appendonly yes" in config.redis_conf(inp)
    (c,) = sts["spec"]["template"]["spec"]["containers"]
    assert c["command"][-2:] == ["--requirepass", "$(REDIS_PASSWORD)"]
    assert c["env"][0]["valueFrom"]["secretKeyRef"] == {"name": "demo-redis", "key": "password"}


def test_memory_only_redis_uses_an_empty_dir() -> None:
    inp = make({"redis": {"persistence": False}})
    sts = redis.render_statefulset(inp)
    assert "volumeClaimTemplates" not in sts["spec"]
    assert {"name": "data", "emptyDir": {}} in sts["spec"]["template"]["spec"]["volumes"]
    assert "appendonly no" in config.redis_conf(inp)


def test_service_selects_the_pod() -> None:
    inp = make()
    svc = redis.render_service(inp)
    sts = redis.render_statefulset(inp)
    assert svc["spec"]["selector"] == sts["spec"]["selector"]["matchLabels"]
    assert svc["spec"]["ports"][0]["port"] == 6379
    assert sts["spec"]["serviceName"] == svc["metadata"]["name"]
