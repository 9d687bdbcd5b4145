"""`kubectl req1` against the local control plane: it reads status and writes only the resource's own fields."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from operator_harness import Kubectl

STATUS = {
    "phase": "Ready", "version": "0.1.0", "url": "http://prod-api.ns.svc", "primary": "prod-postgres-0",
    "conditions": [{"type": "Ready", "status": "True", "reason": "AllReady", "message": "all components ready"},
                   {"type": "BackupDestination", "status": "False", "reason": "SharedFailureDomain",
                    "message": "backups go to this instance's own SeaweedFS"}],
    "postgres": {"timeline": 2, "replication": "1/1 streaming, async", "members": [
        {"name": "prod-postgres-0", "role": "primary", "ready": True, "timeline": 2, "lsn": "0/5000060"},
        {"name": "prod-postgres-1", "role": "replica", "ready": True, "timeline": 2, "lagBytes": 128}]},
    "lastFailover": {"from": "prod-postgres-1", "to": "prod-postgres-0", "reason": "Switchover: asked",
                     "rtoSeconds": 3.9},
    "backup": {"destination": "s3://req1/backups/ns/prod", "endpoint": "http://prod-seaweedfs-filer.ns.svc:8333",
               "credentialsSecret": "prod-seaweedfs-s3", "archiving": "ok",
               "lastArchivedWal": "000000020000000000000005",
               "lastBackup": {"backupId": "20261203T061350", "name": "on-demand-x", "endTime": "2026-12-03T06:13:53Z",
                              "sizeBytes": 4151096}},
}


def plugin(admin: Kubectl, ns: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "req1_operator.kubectl_plugin", f"--kubeconfig={admin.kubeconfig}", "-n", ns, *args],
        capture_output=True, text=True, timeout=60, check=False)


def instance(admin: Kubectl, ns: str, name: str) -> dict[str, Any]:
    obj = admin.get("req1", name, ns)
    assert obj is not None
    return obj


def test_status_and_the_fields_it_writes(admin: Kubectl, kube_namespace: str, operator_kubeconfig: Path) -> None:
    """(operator_kubeconfig: the CRD installed.)"""
    ns = kube_namespace
    admin.apply({"apiVersion": "req1.io/v1alpha1", "kind": "Req1Instance", "metadata": {"name": "prod"},
                 "spec": {"backup": {"enabled": True}}}, ns)
    admin.run("patch", "req1", "prod", "-n", ns, "--subresource=status", "--type=merge", "-p",
              json.dumps({"status": STATUS}))
    shown = plugin(admin, ns, "status", "prod")
    assert shown.returncode == 0, shown.stderr
    text = shown.stdout
    assert f"{ns}/prod: Ready" in text and "BackupDestination=False (SharedFailureDomain)" in text
    assert "prod-postgres-1" in text and "lag 128 B" in text and "RTO 3.9 s" in text
    assert "last backup on-demand-x" in text and "archiving ok" in text

    assert plugin(admin, ns, "backup", "prod", "--request", "pre-migration").returncode == 0
    assert instance(admin, ns, "prod")["spec"]["backup"]["request"] == "pre-migration"
    assert plugin(admin, ns, "switchover", "prod", "prod-postgres-1").returncode == 0
    assert instance(admin, ns, "prod")["spec"]["postgres"]["primary"] == "prod-postgres-1"
    refused = plugin(admin, ns, "switchover", "prod", "Not_A_Pod")
    assert refused.returncode == 1 and "kubectl req1:" in refused.stderr, "the API server's validation is shown"

    dry = plugin(admin, ns, "restore", "prod", "--into", "copy", "--target-time", "2026-12-03T06:15:30Z", "--dry-run")
    manifest = yaml.safe_load(dry.stdout)
    assert manifest["spec"]["restore"] == {
        "source": {"endpoint": "http://prod-seaweedfs-filer.ns.svc:8333", "bucket": "req1",
                   "path": "backups/ns/prod", "secretName": "prod-seaweedfs-s3"},
        "targetTime": "2026-12-03T06:15:30Z"}
    assert admin.get("req1", "copy", ns) is None, "a dry run creates nothing"
    assert plugin(admin, ns, "restore", "prod", "--into", "copy", "--backup-id", "on-demand-x").returncode == 0
    assert instance(admin, ns, "copy")["spec"]["restore"]["backupId"] == "on-demand-x"


def test_psql_and_logs_find_the_pods_by_labels(admin: Kubectl, kube_namespace: str) -> None:
    ns = kube_namespace
    labels = {"app.kubernetes.io/instance": "prod", "app.kubernetes.io/component": "postgres",
              "req1.io/role": "primary"}
    admin.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "prod-postgres-1", "labels": labels},
                 "spec": {"containers": [{"name": "postgres", "image": "registry.invalid/x:1"}]}}, ns)
    shown = plugin(admin, ns, "psql", "prod", "--print-command")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip().endswith("exec -it prod-postgres-1 -c postgres -- psql -U postgres")
    logs = plugin(admin, ns, "logs", "prod", "postgres", "--print-command")
    assert "app.kubernetes.io/component=postgres" in logs.stdout
    missing = plugin(admin, ns, "psql", "nothing", "--print-command")
    assert missing.returncode == 1 and "no pod labelled primary" in missing.stderr
