"""The node agent's pure pod-spec rules: env resolution, command lines, users, the image table."""

from __future__ import annotations

from typing import Any

import pytest

from req1_testenv.kubelet import images
from req1_testenv.kubelet.podspec import (
    ConfigError,
    Sources,
    command_line,
    container_env,
    expand,
    field_value,
    referenced_names,
    resource_value,
    run_as,
)


def _pod(**spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "db-0", "namespace": "ns", "uid": "u-1", "labels": {"app": "db"},
                     "annotations": {"a": "b"}},
        "spec": {"nodeName": "req1-node-0", "containers": [], **spec},
        "status": {"podIP": "10.244.1.5", "hostIP": "10.244.1.1"},
    }


def test_expand_follows_kubernetes_rules() -> None:
    env = {"A": "x", "B": "y"}
    assert expand("$(A)-$(B)", env) == "x-y"
    assert expand("$(MISSING)", env) == "$(MISSING)"
    assert expand("$$(A)", env) == "$(A)"
    assert expand("cost $5", env) == "cost $5"


def test_env_resolution_order_and_sources() -> None:
    container = {
        "name": "c",
        "envFrom": [{"configMapRef": {"name": "cm"}, "prefix": "CM_"}],
        "env": [
            {"name": "USER", "valueFrom": {"secretKeyRef": {"name": "s", "key": "user"}}},
            {"name": "GREETING", "value": "hello $(USER)"},
            {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
            {"name": "APP", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}},
            {"name": "MEM", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory", "divisor": "1Mi"}}},
            {"name": "OPT", "valueFrom": {"secretKeyRef": {"name": "absent", "key": "k", "optional": True}}},
        ],
        "resources": {"limits": {"memory": "512Mi"}},
    }
    sources = Sources(secrets={"s": {"user": "alice"}, "absent": None}, configmaps={"cm": {"K": "v"}})
    env = container_env(_pod(), container, images.SERVER, sources, {"KUBERNETES_SERVICE_HOST": "10.96.0.1"})
    assert env["USER"] == "alice"
    assert env["GREETING"] == "hello alice"
    assert env["POD"] == "db-0"
    assert env["IP"] == "10.244.1.5"
    assert env["APP"] == "db"
    assert env["MEM"] == "512"
    assert env["CM_K"] == "v"
    assert "OPT" not in env
    assert env["KUBERNETES_SERVICE_HOST"] == "10.96.0.1"
    assert env["STATIC_DIR"].endswith("web/dist")


@pytest.mark.parametrize(
    ("sources", "message"),
    [
        (Sources(secrets={"s": None}), 'secret "s" not found'),
        (Sources(secrets={"s": {"other": "x"}}), "couldn't find key user"),
    ],
)
def test_missing_secret_is_a_config_error(sources: Sources, message: str) -> None:
    container = {"name": "c", "env": [{"name": "U", "valueFrom": {"secretKeyRef": {"name": "s", "key": "user"}}}]}
    with pytest.raises(ConfigError, match=message):
        container_env(_pod(), container, images.SERVER, sources, {})


def test_command_line_overrides_entrypoint_and_cmd() -> None:
    env = {"POD_NAME": "db-0"}
    pg = images.POSTGRES
    assert command_line({"args": ["postgres", "-c", "cluster_name=$(POD_NAME)"]}, pg, env) == [
        *pg.entrypoint, "postgres", "-c", "cluster_name=db-0"]
    assert command_line({}, pg, env) == [*pg.entrypoint, "postgres"]
    assert command_line({"command": ["sh", "-c", "x"]}, pg, env) == ["sh", "-c", "x"]
    with pytest.raises(ConfigError):
        command_line({}, images.ImageStandIn(description="empty"), env)


def test_run_as_prefers_container_then_pod_then_image() -> None:
    pod = _pod(securityContext={"runAsUser": 999, "runAsGroup": 999, "fsGroup": 999, "runAsNonRoot": True})
    assert run_as(pod, {}, images.POSTGRES) == (999, 999, [999])
    assert run_as(pod, {"securityContext": {"runAsUser": 1000, "runAsGroup": 1000}}, images.POSTGRES) == (
        1000, 1000, [999, 1000])
    assert run_as(_pod(), {}, images.SERVER)[0] == 1000
    with pytest.raises(ConfigError, match="runAsNonRoot"):
        run_as(_pod(securityContext={"runAsNonRoot": True}), {}, images.TOOLBOX)


def test_field_paths_and_resources() -> None:
    pod = _pod()
    assert field_value(pod, "spec.nodeName") == "req1-node-0"
    assert field_value(pod, "metadata.annotations['a']") == "b"
    assert field_value(pod, "metadata.labels") == 'app="db"'
    with pytest.raises(ConfigError):
        field_value(pod, "spec.nope")
    assert resource_value({"resources": {"limits": {"cpu": "500m"}}}, {"resource": "limits.cpu"}) == "1"
    assert resource_value({}, {"resource": "limits.cpu"}) == "2"


def test_referenced_names_cover_env_envfrom_and_volumes() -> None:
    pod = _pod(
        containers=[{"name": "c", "env": [{"name": "A", "valueFrom": {"secretKeyRef": {"name": "s1", "key": "k"}}}],
                     "envFrom": [{"configMapRef": {"name": "c1"}}]}],
        volumes=[{"name": "v", "secret": {"secretName": "s2"}},
                 {"name": "p", "projected": {"sources": [{"configMap": {"name": "c2"}}]}}],
    )
    assert referenced_names(pod) == ({"s1", "s2"}, {"c1", "c2"})


@pytest.mark.parametrize(
    ("image", "stand_in"),
    [
        ("ghcr.io/req1/req1-server:0.1.0", images.SERVER),
        ("postgres:16", images.POSTGRES),
        ("docker.io/library/postgres:16.4@sha256:abc", images.POSTGRES),
        ("redis:7.4-alpine", images.REDIS),
        ("chrislusf/seaweedfs:3.80", images.SEAWEEDFS),
        ("registry.local:5000/req1/req1-server", images.SERVER),
        ("nginx:1.27", None),
        ("evil/postgres:16", None),
    ],
)
def test_image_table(image: str, stand_in: images.ImageStandIn | None) -> None:
    assert images.resolve(image) is stand_in
