"""charts/req1-operator: lint, template, values schema, CRDs and manifests/install.yaml in sync, rendered
objects accepted by the API server (server-side dry run), and a real `helm install`."""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "req1-operator"
HELM = ROOT / ".cache" / "bin" / "helm"

pytestmark = pytest.mark.skipif(not HELM.exists(), reason="helm missing: run `make helm`")


def helm(*args: str, env: dict[str, str] | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(HELM), *args], capture_output=True, text=True, check=check, env={**os.environ, **(env or {})}, timeout=300
    )


def render(*args: str) -> list[dict[str, Any]]:
    out = helm("template", "req1-operator", str(CHART), "--namespace", "req1-system", "--include-crds", *args).stdout
    return [d for d in yaml.safe_load_all(out) if d]


def test_lint_is_clean() -> None:
    proc = helm("lint", "--strict", str(CHART))
    assert "0 chart(s) failed" in proc.stdout
    assert "[WARNING]" not in proc.stdout and "[ERROR]" not in proc.stdout


def test_template_renders_the_expected_objects() -> None:
    kinds = sorted(d["kind"] for d in render())
    assert kinds == sorted(
        [
            "CustomResourceDefinition", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Deployment", "Service",
            "Role", "RoleBinding", "PodDisruptionBudget",
        ]
    )
    deploy = next(d for d in render() if d["kind"] == "Deployment")
    # Two replicas, one Lease: a rolling update starts the new pod as a standby before the old one releases it.
    assert deploy["spec"]["replicas"] == 2
    rolling = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
    assert deploy["spec"]["strategy"] == rolling
    pod = deploy["spec"]["template"]["spec"]
    args = pod["containers"][0]["args"]
    assert "--leader-elect" in args and "--leader-election-namespace=req1-system" in args
    assert "--leader-election-id=req1-operator" in args
    pdb = next(d for d in render() if d["kind"] == "PodDisruptionBudget")
    assert pdb["spec"]["minAvailable"] == 1
    assert pdb["spec"]["selector"]["matchLabels"] == deploy["spec"]["selector"]["matchLabels"]
    role = next(d for d in render() if d["kind"] == "Role")
    assert role["metadata"]["namespace"] == "req1-system"
    assert role["rules"] == [{"apiGroups": ["coordination.k8s.io"], "resources": ["leases"],
                              "verbs": ["get", "create", "update"]}]
    single = render("--set", "leaderElection.enabled=false")
    one = next(d for d in single if d["kind"] == "Deployment")
    assert one["spec"]["replicas"] == 1 and one["spec"]["strategy"] == {"type": "Recreate"}
    assert not any(d["kind"] in ("PodDisruptionBudget", "Role") for d in single)
    assert "--leader-elect" not in one["spec"]["template"]["spec"]["containers"][0]["args"]
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] == 1000
    assert "--all-namespaces" in pod["containers"][0]["args"]
    scoped = next(d for d in render("--set", "watchNamespaces={a,b}") if d["kind"] == "Deployment")
    args = scoped["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "--namespace=a" in args and "--namespace=b" in args and "--all-namespaces" not in args


@pytest.mark.parametrize(
    ("flag", "complaint"),
    [
        ("watchNamespaces={Bad_Name}", "watchNamespaces/0"),
        ("resyncInterval=1", "resyncInterval"),
        ("image.pullPolicy=Sometimes", "pullPolicy"),
        ("unknownKey=1", "unknownKey"),
    ],
)
def test_values_schema_rejects_bad_values(flag: str, complaint: str) -> None:
    proc = helm("template", "x", str(CHART), "--set", flag, check=False)
    assert proc.returncode != 0
    assert complaint in proc.stderr


def test_cluster_role_is_least_privilege() -> None:
    role = next(d for d in render() if d["kind"] == "ClusterRole")
    for rule in role["rules"]:
        assert "*" not in rule["verbs"] and "*" not in rule["resources"] and "*" not in rule["apiGroups"]
        assert "escalate" not in rule["verbs"] and "bind" not in rule["verbs"]
    by_resource = {
        (g, r): set(rule["verbs"]) for rule in role["rules"] for g in rule["apiGroups"] for r in rule["resources"]
    }
    # patch: the PostgreSQL role label; it also holds what it grants the instance managers (docs/postgres-ha.md).
    # delete: a PostgreSQL change rolls replica-first, pod by pod (OnDelete StatefulSet, rolling.py).
    assert by_resource[("", "pods")] == {"get", "list", "watch", "patch", "delete"}
    assert by_resource[("coordination.k8s.io", "leases")] == {"get", "list", "watch", "create", "update"}
    assert by_resource[("", "nodes")] == {"get"}  # is a failing primary's node NotReady
    assert "create" not in by_resource[("", "persistentvolumeclaims")]
    assert not any(r in ("namespaces", "clusterroles", "customresourcedefinitions") for _, r in by_resource)


def test_watch_namespaces_grants_roles_in_those_namespaces_only() -> None:
    cluster = next(d for d in render() if d["kind"] == "ClusterRole")
    scoped = render("--set", "watchNamespaces={team-a,team-b}")
    assert not any(d["kind"] in ("ClusterRole", "ClusterRoleBinding") for d in scoped)
    granted = [d for d in scoped if "leader" not in d["metadata"]["name"]]
    roles = {d["metadata"]["namespace"]: d for d in granted if d["kind"] == "Role"}
    bindings = {d["metadata"]["namespace"]: d for d in granted if d["kind"] == "RoleBinding"}
    assert set(roles) == set(bindings) == {"team-a", "team-b"}
    # The same verbs as cluster-wide mode, less the one cluster-scoped read (Nodes).
    namespaced = [r for r in cluster["rules"] if r["resources"] != ["nodes"]]
    assert len(namespaced) == len(cluster["rules"]) - 1
    for ns, role in roles.items():
        assert role["rules"] == namespaced, ns
        binding = bindings[ns]
        assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                      "name": role["metadata"]["name"]}
        assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "req1-operator", "namespace": "req1-system"}]


def test_chart_crds_match_the_generated_ones() -> None:
    for src in sorted((ROOT / "crds").glob("*.yaml")):
        copy = CHART / "crds" / src.name
        assert copy.exists() and copy.read_text() == src.read_text(), f"{copy} is stale: run `make manifests`"


def test_install_manifest_is_what_make_manifests_renders() -> None:
    out = subprocess.run(
        ["make", "--no-print-directory", "-s", "render-install"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert (ROOT / "manifests" / "install.yaml").read_text() == out, (
        "manifests/install.yaml is stale: run `make manifests`"
    )


def test_rendered_objects_pass_server_side_dry_run(kube_cluster: Any) -> None:
    text = (ROOT / "manifests" / "install.yaml").read_text()
    proc = subprocess.run(
        ["kubectl", f"--kubeconfig={kube_cluster.kubeconfig}", "apply", "--dry-run=server", "-f", "-"],
        input=text,
        capture_output=True,
        text=True,
        timeout=120,
    )
    # The Namespace does not exist in a dry run, so namespaced objects are validated in one that does.
    if proc.returncode != 0 and "not found" in proc.stderr:
        text = text.replace("namespace: req1-system", "namespace: default")
        proc = subprocess.run(
            ["kubectl", f"--kubeconfig={kube_cluster.kubeconfig}", "apply", "--dry-run=server", "-f", "-"],
            input=text,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("(server dry run)") == len([d for d in yaml.safe_load_all(text) if d])


def test_helm_install_and_uninstall(kube_cluster: Any) -> None:
    release = f"r{uuid.uuid4().hex[:6]}"
    ns = f"helm-{release}"
    env = {"KUBECONFIG": str(kube_cluster.kubeconfig), "HELM_CACHE_HOME": str(ROOT / ".cache" / "helm")}
    try:
        proc = helm("install", release, str(CHART), "-n", ns, "--create-namespace", "--wait", "--timeout=120s", env=env)
        assert "STATUS: deployed" in proc.stdout
        assert "kubectl get req1" in proc.stdout  # NOTES.txt
        status = helm("status", release, "-n", ns, env=env).stdout
        assert "deployed" in status
    finally:
        helm("uninstall", release, "-n", ns, "--wait", env=env, check=False)
        subprocess.run(
            ["kubectl", f"--kubeconfig={kube_cluster.kubeconfig}", "delete", "namespace", ns, "--wait=false"],
            capture_output=True,
            check=False,
        )


def test_dockerfile_operator_lints_clean() -> None:
    hadolint = ROOT / ".venv" / "bin" / "hadolint"
    proc = subprocess.run([str(hadolint), str(ROOT / "Dockerfile.operator")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    text = (ROOT / "Dockerfile.operator").read_text()
    assert "FROM python:3.11-slim" in text and "USER 1000:1000" in text
