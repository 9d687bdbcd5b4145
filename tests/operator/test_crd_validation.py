"""The generated CRD on the real API server: invalid Req1Instances are rejected at apply time with messages that
say what to fix (OpenAPI schema, CEL rules, transition rules), defaults are filled in, /scale maps to
spec.api.replicas, status (including kopf's progress storage) is preserved and the printer columns show it.
"""

from __future__ import annotations

import copy
import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CRD = ROOT / "crds" / "req1instances.yaml"
EXAMPLES = ROOT / "manifests" / "examples"
S3 = {"endpoint": "https://s3.example.com", "bucket": "backups", "secretName": "s3-creds"}


class Ctl:
    """kubectl as the cluster admin, returning the completed process (tests read stderr for messages)."""

    def __init__(self, kubeconfig: Path) -> None:
        self.kubeconfig = kubeconfig

    def __call__(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["kubectl", f"--kubeconfig={self.kubeconfig}", *args],
            input=input,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def ok(self, *args: str, input: str | None = None) -> str:
        proc = self(*args, input=input)
        assert proc.returncode == 0, f"kubectl {' '.join(args)}: {proc.stderr}"
        return proc.stdout

    def get(self, name: str, ns: str) -> dict[str, Any]:
        out: dict[str, Any] = json.loads(self.ok("get", "req1instance", name, "-n", ns, "-o", "json"))
        return out


@pytest.fixture(scope="module")
def ctl(kube_cluster: Any) -> Iterator[Ctl]:
    """The CRD from crds/ applied (server-side, idempotent) and Established."""
    k = Ctl(Path(kube_cluster.kubeconfig))
    k.ok("apply", "--server-side", "--force-conflicts", "--field-manager=req1-crd-test", "-f", str(CRD))
    k.ok("wait", "--for=condition=Established", "crd/req1instances.req1.io", "--timeout=60s")
    yield k


def instance(spec: dict[str, Any], name: str | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "req1.io/v1alpha1",
        "kind": "Req1Instance",
        "metadata": {"name": name or f"r-{uuid.uuid4().hex[:8]}"},
        "spec": spec,
    }


def create(ctl: Ctl, ns: str, body: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    # kubectl's default field validation is Strict: unknown fields are errors, as for any user.
    return ctl("create", "-n", ns, "-f", "-", input=yaml.safe_dump(body))


# ------------------------------------------------------------------------------------------------ rejected

INVALID: list[tuple[str, dict[str, Any], str]] = [
    (
        "autoscaling-bounds",
        {"api": {"autoscaling": {"enabled": True, "minReplicas": 5, "maxReplicas": 2}}},
        "api.autoscaling.minReplicas must be less than or equal to maxReplicas",
    ),
    ("ingress-without-host", {"ingress": {"enabled": True}}, "ingress.host is required when ingress.enabled is true"),
    (
        "tls-without-source",
        {"ingress": {"enabled": True, "host": "a.example.com", "tls": {"enabled": True}}},
        "ingress.tls.enabled requires exactly one of issuer (cert-manager) or secretName (existing Secret)",
    ),
    (
        "tls-with-both-sources",
        {
            "ingress": {
                "enabled": True,
                "host": "a.example.com",
                "tls": {"enabled": True, "issuer": {"name": "le"}, "secretName": "cert"},
            }
        },
        "ingress.tls.enabled requires exactly one of issuer (cert-manager) or secretName (existing Secret)",
    ),
    (
        "tls-source-while-disabled",
        {"ingress": {"enabled": True, "host": "a.example.com", "tls": {"secretName": "cert"}}},
        "ingress.tls.issuer and ingress.tls.secretName need ingress.tls.enabled: true",
    ),
    ("host-not-dns", {"ingress": {"enabled": True, "host": "Not_A_Host"}}, "spec.ingress.host: Invalid value"),
    (
        "external-and-seaweedfs",
        {"storage": {"seaweedfs": {"masters": 3}, "external": {**S3, "bucket": "attachments"}}},
        "storage.external and storage.seaweedfs are mutually exclusive",
    ),
    (
        "external-without-secret",
        {"storage": {"external": {"endpoint": "https://s3.example.com", "bucket": "attachments"}}},
        "spec.storage.external.secretName: Required value",
    ),
    (
        "even-masters",
        {"storage": {"seaweedfs": {"masters": 2}}},
        "storage.seaweedfs.masters must be odd (1, 3 or 5) for a Raft quorum",
    ),
    (
        "replication-needs-servers",
        {"storage": {"seaweedfs": {"replication": "002", "volumeServers": 2}}},
        "storage.seaweedfs.replication needs more volume servers",
    ),
    (
        "sync-without-replicas",
        {"postgres": {"synchronousMode": "required"}},
        "postgres.synchronousMode required needs postgres.replicas >= 1",
    ),
    (
        "managed-pg-parameter",
        {"postgres": {"parameters": {"wal_level": "minimal"}}},
        "postgres.parameters cannot set settings the operator manages",
    ),
    ("pg-version-unsupported", {"postgres": {"version": 14}}, "spec.postgres.version: Unsupported value: 14"),
    (
        "managed-env",
        {"api": {"extraEnv": [{"name": "DATABASE_URL", "value": "postgresql://elsewhere"}]}},
        "spec.api.extraEnv[0]: Invalid value: api.extraEnv cannot set DATABASE_URL: the operator manages it",
    ),
    (
        "env-two-sources",
        {"api": {"extraEnv": [{"name": "X", "value": "1", "secretKeyRef": {"name": "s", "key": "k"}}]}},
        "set exactly one of value or secretKeyRef",
    ),
    (
        "env-duplicate",
        {"api": {"extraEnv": [{"name": "X", "value": "1"}, {"name": "X", "value": "2"}]}},
        "Duplicate value",
    ),
    ("negative-replicas", {"api": {"replicas": -1}}, "spec.api.replicas: Invalid value: -1"),
    ("bad-quantity", {"api": {"resources": {"requests": {"cpu": "lots"}}}}, "spec.api.resources.requests.cpu"),
    ("zero-storage", {"postgres": {"storage": {"size": "0"}}}, "storage size must be greater than zero"),
    ("deletion-policy", {"deletionPolicy": "Orphan"}, 'spec.deletionPolicy: Unsupported value: "Orphan"'),
    ("cron-schedule", {"backup": {"schedule": "every night"}}, "spec.backup.schedule: Invalid value"),
    ("retention", {"backup": {"retention": "forever"}}, "spec.backup.retention: Invalid value"),
    (
        "restore-time",
        {"restore": {"source": S3, "targetTime": "yesterday at noon"}},
        "restore.targetTime must be an RFC 3339 timestamp with a zone",
    ),
    (
        "restore-time-and-backup",
        {"restore": {"source": S3, "targetTime": "2026-01-02T03:04:05Z", "backupId": "20260101T000000"}},
        "restore.targetTime and restore.backupId are mutually exclusive",
    ),
    (
        "restore-in-place-time",
        {"backup": {"restoreInPlace": {"request": "r1", "confirm": "x", "targetTime": "2026-01-02 03:04:05"}}},
        "backup.restoreInPlace.targetTime must be an RFC 3339 timestamp with a zone",
    ),
    (
        "restore-in-place-time-and-backup",
        {"backup": {"restoreInPlace": {"request": "r1", "confirm": "x", "targetTime": "2026-01-02T03:04:05Z",
                                       "backupId": "20260101T000000"}}},
        "backup.restoreInPlace.targetTime and backup.restoreInPlace.backupId are mutually exclusive",
    ),
    (
        "restore-in-place-unconfirmed",
        {"backup": {"restoreInPlace": {"request": "r1", "backupId": "20260101T000000"}}},
        "spec.backup.restoreInPlace.confirm: Required value",
    ),
    (
        "restore-in-place-request",
        {"backup": {"restoreInPlace": {"request": "no spaces", "confirm": "x"}}},
        "spec.backup.restoreInPlace.request: Invalid value",
    ),
    ("unknown-field", {"api": {"replica": 3}}, 'unknown field "spec.api.replica"'),
    ("cors-origin", {"api": {"corsOrigin": "example.com"}}, "spec.api.corsOrigin: Invalid value"),
]


@pytest.mark.parametrize(("case", "spec", "message"), INVALID, ids=[c[0] for c in INVALID])
def test_invalid_instance_is_rejected_with_a_clear_message(
    ctl: Ctl, kube_namespace: str, case: str, spec: dict[str, Any], message: str
) -> None:
    proc = create(ctl, kube_namespace, instance(spec))
    assert proc.returncode != 0, f"{case}: accepted but should not be"
    assert message in proc.stderr, proc.stderr


def test_name_must_leave_room_for_child_names(ctl: Ctl, kube_namespace: str) -> None:
    proc = create(ctl, kube_namespace, instance({}, name="a" * 31))
    assert proc.returncode != 0
    assert "metadata.name must be at most 30 characters so child object names fit" in proc.stderr
    assert create(ctl, kube_namespace, instance({}, name="a" * 30)).returncode == 0


# ------------------------------------------------------------------------------------------------ updates

UPDATES: list[tuple[str, dict[str, Any], dict[str, Any], str]] = [
    (
        "postgres-major",
        {"postgres": {"version": 16}},
        {"postgres": {"version": 17}},
        "postgres.version is immutable",
    ),
    (
        "volume-size",
        {"postgres": {"storage": {"size": "10Gi"}}},
        {"postgres": {"storage": {"size": "20Gi"}}},
        "storage size and storageClassName cannot be changed after creation",
    ),
    (
        "redis-persistence",
        {"redis": {"persistence": True}},
        {"redis": {"persistence": False}},
        "redis.persistence cannot be changed after creation",
    ),
    (
        "restore-added-later",
        {},
        {"restore": {"source": S3}},
        "spec.restore can only be set when the instance is created",
    ),
]


@pytest.mark.parametrize(("case", "before", "patch", "message"), UPDATES, ids=[u[0] for u in UPDATES])
def test_forbidden_changes_are_rejected(
    ctl: Ctl, kube_namespace: str, case: str, before: dict[str, Any], patch: dict[str, Any], message: str
) -> None:
    body = instance(before)
    name = body["metadata"]["name"]
    assert create(ctl, kube_namespace, body).returncode == 0
    proc = ctl("patch", "req1instance", name, "-n", kube_namespace, "--type=merge", "-p", json.dumps({"spec": patch}))
    assert proc.returncode != 0, f"{case}: change accepted"
    assert message in proc.stderr, proc.stderr


def test_allowed_changes_are_accepted(ctl: Ctl, kube_namespace: str) -> None:
    body = instance({"postgres": {"replicas": 1, "synchronousMode": "required"}})
    name = body["metadata"]["name"]
    assert create(ctl, kube_namespace, body).returncode == 0
    change = {
        "version": "0.2.0",
        "api": {"replicas": 4},
        "postgres": {"replicas": 3, "parameters": {"work_mem": "32MB"}},
        "ingress": {"enabled": True, "host": "new.example.com"},
    }
    ctl.ok("patch", "req1instance", name, "-n", kube_namespace, "--type=merge", "-p", json.dumps({"spec": change}))
    spec = ctl.get(name, kube_namespace)["spec"]
    assert (spec["version"], spec["api"]["replicas"], spec["postgres"]["replicas"]) == ("0.2.0", 4, 3)


# ------------------------------------------------------------------------------------------------ accepted


def test_examples_are_accepted_and_defaults_filled_in(ctl: Ctl, kube_namespace: str) -> None:
    for path in sorted(EXAMPLES.glob("req1instance-*.yaml")):
        ctl.ok("create", "-n", kube_namespace, "-f", str(path))
    minimal = ctl.get("req1", kube_namespace)["spec"]
    assert minimal["version"] == "0.1.0"
    assert minimal["api"]["replicas"] == 2
    assert minimal["api"]["autoscaling"] == {
        "enabled": False,
        "minReplicas": 2,
        "maxReplicas": 10,
        "targetCPUUtilizationPercentage": 70,
    }
    assert minimal["postgres"]["version"] == 16
    assert minimal["postgres"]["storage"] == {"size": "10Gi"}
    assert minimal["redis"]["persistence"] is True
    assert minimal["deletionPolicy"] == "Retain"
    assert minimal["ingress"]["tls"] == {"enabled": False}
    # Optional blocks stay absent, so "external xor seaweedfs" keeps working with defaults on.
    assert "seaweedfs" not in minimal["storage"] and "external" not in minimal["storage"]
    assert "restore" not in minimal
    prod = ctl.get("req1-prod", kube_namespace)["spec"]
    assert prod["storage"]["seaweedfs"]["masters"] == 3
    assert prod["storage"]["seaweedfs"]["image"]  # nested defaults inside a user-given block


def test_defaults_round_trip_through_the_pydantic_model(ctl: Ctl, kube_namespace: str) -> None:
    from req1_operator.spec import parse_spec

    body = instance({})
    assert create(ctl, kube_namespace, body).returncode == 0
    served = ctl.get(body["metadata"]["name"], kube_namespace)["spec"]
    model = parse_spec(served)
    assert model == parse_spec({})  # the apiserver's defaults and the model's defaults agree


# ------------------------------------------------------------------------------------------------ subresources


def test_scale_subresource_maps_to_api_replicas(ctl: Ctl, kube_namespace: str) -> None:
    body = instance({})
    name = body["metadata"]["name"]
    assert create(ctl, kube_namespace, body).returncode == 0
    ctl.ok("scale", f"req1instance/{name}", "-n", kube_namespace, "--replicas=5")
    assert ctl.get(name, kube_namespace)["spec"]["api"]["replicas"] == 5
    status = {"api": {"replicas": 5, "readyReplicas": 3, "selector": "app.kubernetes.io/instance=" + name}}
    ctl.ok(
        "patch", "req1instance", name, "-n", kube_namespace, "--subresource=status", "--type=merge",
        "-p", json.dumps({"status": status}),
    )  # fmt: skip
    scale = json.loads(ctl.ok("get", f"req1instance/{name}", "-n", kube_namespace, "--subresource=scale", "-o", "json"))
    assert scale["spec"]["replicas"] == 5
    assert scale["status"]["replicas"] == 5
    assert scale["status"]["selector"] == "app.kubernetes.io/instance=" + name


def test_status_is_preserved_and_shown_in_printer_columns(ctl: Ctl, kube_namespace: str) -> None:
    body = instance({})
    name = body["metadata"]["name"]
    assert create(ctl, kube_namespace, body).returncode == 0
    status = {
        "phase": "Ready",
        "readyComponents": "5/5",
        "apiReplicas": "2/2",
        "api": {"replicas": 2, "readyReplicas": 2, "selector": "a=b"},
        "primary": f"{name}-postgres-0",
        "url": "https://req1.example.com",
        "observedGeneration": 1,
        "conditions": [
            {
                "type": "Ready",
                "status": "True",
                "reason": "AllComponentsReady",
                "message": "",
                "lastTransitionTime": "2026-01-01T00:00:00Z",
                "observedGeneration": 1,
            }
        ],
        "components": {"api": {"ready": True, "message": ""}},
        "kopf": {"progress": {"reconcile": {"started": "2026-01-01T00:00:00", "retries": 1, "anything": [1, 2]}}},
    }
    ctl.ok(
        "patch", "req1instance", name, "-n", kube_namespace, "--subresource=status", "--type=merge",
        "-p", json.dumps({"status": status}),
    )  # fmt: skip
    got = ctl.get(name, kube_namespace)["status"]
    assert got == status  # nothing pruned, kopf's free-form progress included
    table = ctl.ok("get", "req1", name, "-n", kube_namespace).splitlines()
    header = table[0].split()
    assert header[:7] == ["NAME", "PHASE", "READY", "API", "PRIMARY", "TIMELINE", "REPLICATION"], header
    assert header[-2:] == ["URL", "AGE"], header
    assert table[1].split()[:5] == [name, "Ready", "5/5", "2/2", f"{name}-postgres-0"]
    assert "https://req1.example.com" in table[1]


def test_status_cannot_be_written_through_the_main_resource(ctl: Ctl, kube_namespace: str) -> None:
    body = copy.deepcopy(instance({}))
    body["status"] = {"phase": "Ready"}
    assert create(ctl, kube_namespace, body).returncode == 0
    assert "status" not in ctl.get(body["metadata"]["name"], kube_namespace)


def test_pull_secret_names_are_validated(ctl: Ctl, kube_namespace: str) -> None:
    proc = create(ctl, kube_namespace, instance({"imagePullSecrets": ["Not Valid"]}))
    assert proc.returncode != 0
    assert "spec.imagePullSecrets[0]: Invalid value" in proc.stderr
    assert create(ctl, kube_namespace, instance({"imagePullSecrets": ["regcred"]})).returncode == 0


def test_an_in_place_restore_request_is_accepted_and_its_record_kept_as_written(ctl: Ctl, kube_namespace: str) -> None:
    """The API server takes any `confirm` (the operator refuses a wrong one with a condition); the operator's
    `status.restore.inPlace` comes back exactly as written (no default added, so no status write loops), with or
    without a bootstrap record beside it, and `-o wide` shows its phase."""
    body = instance({"backup": {"enabled": True, "restoreInPlace": {
        "request": "r1", "confirm": "not-the-name", "targetTime": "2026-01-02T03:04:05+01:00"}}})
    name = body["metadata"]["name"]
    assert create(ctl, kube_namespace, body).returncode == 0
    assert ctl.get(name, kube_namespace)["spec"]["backup"]["restoreInPlace"]["confirm"] == "not-the-name"
    record = {
        "request": "r1", "phase": "restoring", "backupId": "", "targetTime": "2026-01-02T03:04:05+01:00",
        "preRestoreBackup": "pre-restore-r1", "preRestoreBackupId": "20260102T030000", "timeline": 0, "lsn": "",
        "startedAt": "2026-01-02T04:00:00Z", "primaryCompletedAt": "", "completedAt": "", "durationSeconds": 0,
        "restoreSeconds": 0, "attempts": 1, "error": "",
    }
    status = {"phase": "Provisioning", "restore": {"inPlace": record}, "backup": {
        "destination": "s3://b/p", "lastPreRestore": "pre-restore-r1"}}
    ctl.ok("patch", "req1instance", name, "-n", kube_namespace, "--subresource=status", "--type=merge",
           "-p", json.dumps({"status": status}))
    got = ctl.get(name, kube_namespace)["status"]
    assert got["restore"] == {"inPlace": record} and got["backup"]["lastPreRestore"] == "pre-restore-r1"
    wide = ctl.ok("get", "req1", name, "-n", kube_namespace, "-o", "wide").splitlines()
    assert "RESTORE" in wide[0].split() and "restoring" in wide[1].split(), wide
    assert "RESTORE" not in ctl.ok("get", "req1", name, "-n", kube_namespace).splitlines()[0].split()
    bootstrap = {"phase": "completed", "source": "s3://b/p/ns/orig", "backupId": "x", "targetTime": "", "timeline": 2,
                 "lsn": "0/1", "durationSeconds": 3.5, "completedAt": "2026-01-01T00:00:00Z", "error": ""}
    ctl.ok("patch", "req1instance", name, "-n", kube_namespace, "--subresource=status", "--type=merge",
           "-p", json.dumps({"status": {"restore": bootstrap}}))
    assert ctl.get(name, kube_namespace)["status"]["restore"] == {**bootstrap, "inPlace": record}
    bad = {**record, "phase": "half-done"}
    proc = ctl("patch", "req1instance", name, "-n", kube_namespace, "--subresource=status", "--type=merge",
               "-p", json.dumps({"status": {"restore": {"inPlace": bad}}}))
    assert proc.returncode != 0 and "Unsupported value" in proc.stderr, proc.stderr
