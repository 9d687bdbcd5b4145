"""Every object render_all produces is accepted by the real API server (server-side dry-run, strict field
validation: a misspelt or misplaced field fails), and applying the same render twice changes nothing.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from req1_operator.render import RenderInput, names, render_all
from req1_operator.spec import parse_spec

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "manifests" / "examples"

VARIANTS: dict[str, dict[str, Any]] = {
    "minimal": yaml.safe_load((EXAMPLES / "req1instance-minimal.yaml").read_text())["spec"],
    "production": yaml.safe_load((EXAMPLES / "req1instance-production.yaml").read_text())["spec"],
    "external-s3-memory-redis": {
        "storage": {"external": {"endpoint": "https://s3.example.com", "bucket": "att", "secretName": "s3"}},
        "redis": {"persistence": False},
        "api": {"extraEnv": [{"name": "SMTP_PASSWORD", "secretKeyRef": {"name": "smtp", "key": "pw"}}]},
        "deletionPolicy": "Delete",
    },
    "tls-secret-cached-assets": {
        "ingress": {
            "enabled": True,
            "host": "req1.example.com",
            "cacheAssets": True,
            "tls": {"enabled": True, "secretName": "req1-cert"},
        },
        "postgres": {"replicas": 1, "storage": {"storageClassName": "standard"}},
        "imagePullSecrets": ["regcred"],
    },
}


def kubectl(kubeconfig: Path, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["kubectl", f"--kubeconfig={kubeconfig}", *args], input=input, capture_output=True, text=True, timeout=120
    )


def json_stream(text: str) -> list[dict[str, Any]]:
    """kubectl -o json prints one JSON document per object, back to back."""
    decoder, out, pos = json.JSONDecoder(), [], 0
    while pos < len(text):
        if text[pos].isspace():
            pos += 1
            continue
        obj, pos = decoder.raw_decode(text, pos)
        out.append(obj)
    return out


def as_stream(objs: list[dict[str, Any]]) -> str:
    return "\n---\n".join(yaml.safe_dump(o, sort_keys=True) for o in objs)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_rendered_objects_pass_server_side_dry_run(kube_cluster: Any, kube_namespace: str, variant: str) -> None:
    inp = RenderInput(name="demo", namespace=kube_namespace, uid="u", spec=parse_spec(VARIANTS[variant]))
    objs = render_all(inp)
    assert objs
    proc = kubectl(
        Path(kube_cluster.kubeconfig),
        "create", "--dry-run=server", "--validate=strict", "-o", "json", "-f", "-",
        input=as_stream(objs),
    )  # fmt: skip
    assert proc.returncode == 0, f"{variant}: rejected: {proc.stderr}"
    assert "Warning" not in proc.stderr, f"{variant}: {proc.stderr}"
    served = json_stream(proc.stdout)
    assert [(o["kind"], o["metadata"]["name"]) for o in served] == [(o["kind"], o["metadata"]["name"]) for o in objs]
    for want, got in zip(objs, served, strict=True):
        assert got["metadata"]["labels"].items() >= want["metadata"]["labels"].items()


def _versions(kubeconfig: Path, ns: str, kinds: str) -> dict[str, tuple[str, str]]:
    out = kubectl(kubeconfig, "get", kinds, "-n", ns, "-l", names.LABEL_MANAGED_BY + "=req1-operator", "-o", "json")
    assert out.returncode == 0, out.stderr
    items = json.loads(out.stdout)["items"]
    result = {}
    for item in items:
        meta = item["metadata"]
        # Controllers write status (bumping resourceVersion); generation only moves when the spec changes.
        mark = str(meta.get("generation", meta["resourceVersion"]))
        result[f"{item['kind']}/{meta['name']}"] = (
            mark,
            json.dumps(item.get("spec", item.get("data")), sort_keys=True),
        )
    return result


def test_reapplying_the_same_render_changes_nothing(kube_cluster: Any, kube_namespace: str) -> None:
    kubeconfig = Path(kube_cluster.kubeconfig)
    spec = parse_spec(VARIANTS["production"])
    first = render_all(RenderInput(name="demo", namespace=kube_namespace, uid="u", spec=spec))
    apply = ("apply", "--server-side", "--field-manager=req1-operator", "-f", "-")
    proc = kubectl(kubeconfig, *apply, input=as_stream(first))
    assert proc.returncode == 0, proc.stderr
    kinds = (
        "configmaps,services,statefulsets,deployments,jobs,cronjobs,poddisruptionbudgets,ingresses,networkpolicies,"
        "serviceaccounts,roles,rolebindings"
    )
    before = _versions(kubeconfig, kube_namespace, kinds)
    assert len(before) == len([o for o in first if o["kind"] not in ("Secret", "HorizontalPodAutoscaler")])
    existing = {o["metadata"]["name"] for o in first if o["kind"] == "Secret"}
    second = render_all(
        RenderInput(name="demo", namespace=kube_namespace, uid="u", spec=spec, existing_secrets=existing)
    )
    assert not [o for o in second if o["kind"] == "Secret"]
    proc = kubectl(kubeconfig, *apply, input=as_stream(second))
    assert proc.returncode == 0, proc.stderr
    after = _versions(kubeconfig, kube_namespace, kinds)
    assert after == before
