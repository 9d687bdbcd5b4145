"""render_all: every child present, contract labels everywhere, deterministic, secrets never re-rendered."""

from __future__ import annotations

import json
from typing import Any

from req1_operator.render import RenderInput, names, render_all
from req1_operator.spec import parse_spec

ALL_SECRETS = frozenset(names.all_secret_names("demo"))


def make(spec: dict[str, Any] | None = None, **kw: Any) -> RenderInput:
    return RenderInput(name="demo", namespace="team-a", uid="u-1", spec=parse_spec(spec or {}), **kw)


def kinds(objs: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(o["kind"], o["metadata"]["name"]) for o in objs}


def test_minimal_instance_renders_the_whole_stack() -> None:
    got = kinds(render_all(make()))
    for expected in [
        ("Deployment", "demo-api"),
        ("Service", "demo-api"),
        ("PodDisruptionBudget", "demo-api"),
        ("StatefulSet", "demo-postgres"),
        ("Service", "demo-postgres-rw"),
        ("Service", "demo-postgres-ro"),
        ("ServiceAccount", "demo-postgres"),
        ("Role", "demo-postgres"),
        ("RoleBinding", "demo-postgres"),
        ("PodDisruptionBudget", "demo-postgres-primary"),
        ("Service", "demo-postgres-headless"),
        ("StatefulSet", "demo-redis"),
        ("StatefulSet", "demo-seaweedfs-master"),
        ("StatefulSet", "demo-seaweedfs-volume"),
        ("StatefulSet", "demo-seaweedfs-filer"),
        ("ConfigMap", "demo-api"),
        ("ConfigMap", "demo-postgres"),
        ("NetworkPolicy", "demo-postgres"),
        ("NetworkPolicy", "demo-redis"),
        ("Secret", "demo-postgres-app"),
    ]:
        assert expected in got
    assert ("StatefulSet", "demo-postgres-replica") not in got  # one PostgreSQL StatefulSet (issue #9)
    assert not any(k == "HorizontalPodAutoscaler" for k, _ in got)
    assert not any(k == "Ingress" for k, _ in got)
    assert not any(k == "ServiceMonitor" for k, _ in got)


def test_every_child_carries_the_contract_labels_and_namespace() -> None:
    for obj in render_all(make({"ingress": {"enabled": True, "host": "r.example.com"}})):
        meta = obj["metadata"]
        assert meta["namespace"] == "team-a"
        assert "ownerReferences" not in meta
        labels = meta["labels"]
        assert labels["app.kubernetes.io/name"] == "req1", obj["kind"]
        assert labels["app.kubernetes.io/instance"] == "demo"
        assert labels["app.kubernetes.io/managed-by"] == "req1-operator"
        assert labels["app.kubernetes.io/component"]


def test_names_are_unique_per_kind() -> None:
    objs = render_all(make({"ingress": {"enabled": True, "host": "r.example.com"}}))
    assert len(kinds(objs)) == len(objs)


def test_output_is_deterministic_once_secrets_exist() -> None:
    spec = {"postgres": {"replicas": 2}, "ingress": {"enabled": True, "host": "r.example.com"}}
    first = render_all(make(spec, existing_secrets=ALL_SECRETS))
    second = render_all(make(spec, existing_secrets=ALL_SECRETS))
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)
    assert json.dumps(first) == json.dumps(second)  # same key order too


def test_existing_secrets_are_not_rendered_again() -> None:
    objs = render_all(make(existing_secrets=ALL_SECRETS))
    assert not [o for o in objs if o["kind"] == "Secret"]
    partial = render_all(make(existing_secrets={"demo-api"}))
    secret_names = {o["metadata"]["name"] for o in partial if o["kind"] == "Secret"}
    assert "demo-api" not in secret_names
    assert "demo-postgres-app" in secret_names


def test_from_body_reads_a_resource() -> None:
    body = {
        "apiVersion": "req1.io/v1alpha1",
        "kind": "Req1Instance",
        "metadata": {"name": "x", "namespace": "ns", "uid": "abc"},
        "spec": {"api": {"replicas": 3}},
    }
    inp = RenderInput.from_body(body, existing_secrets={"x-api"})
    assert inp.spec.api.replicas == 3
    assert inp.existing_secrets == frozenset({"x-api"})


def _pod_specs(objs: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{o['kind']}/{o['metadata']['name']}", o["spec"]["template"]["spec"])
        for o in objs
        if o["kind"] in ("Deployment", "StatefulSet", "Job")
    ]


def test_every_pod_gets_the_pull_secrets_and_no_api_token() -> None:
    objs = render_all(make({"imagePullSecrets": ["regcred", "mirror"]}))
    pods = _pod_specs(objs)
    assert len(pods) >= 7
    for what, pod in pods:
        assert pod["imagePullSecrets"] == [{"name": "regcred"}, {"name": "mirror"}], what
        # Only the PostgreSQL instance managers talk to the API server (their own ServiceAccount and Role).
        assert pod["automountServiceAccountToken"] is (what == "StatefulSet/demo-postgres"), what
        assert pod["enableServiceLinks"] is False, what
    for what, pod in _pod_specs(render_all(make())):
        assert "imagePullSecrets" not in pod, what


def test_every_container_runs_non_root_without_privilege_escalation() -> None:
    for what, pod in _pod_specs(render_all(make({"postgres": {"replicas": 1}}))):
        assert pod["securityContext"]["runAsNonRoot"] is True, what
        for c in pod["containers"] + pod.get("initContainers", []):
            sc = c["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False, what
            assert sc["readOnlyRootFilesystem"] is True, what
            assert sc["capabilities"] == {"drop": ["ALL"]}, what
