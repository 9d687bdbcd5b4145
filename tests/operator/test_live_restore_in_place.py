"""In-place restore of a running instance on the process nodes: the operator refuses an unconfirmed request, then
takes a base backup of the current state, stops the API, lets the instance managers restore to a noted moment T
(the operator is killed while they do and comes back), and starts the API again. Through the app's API: every
workspace written up to T is there and none after it; the pre-restore backup is in S3 (barman-cloud-backup-list).
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from live_harness import (
    AppClient,
    instance,
    instance_report,
    operated_namespace,
    pods,
    psql,
    secret_value,
    service_ip,
)
from operator_harness import Kubectl, Operator, condition, events_for, instance_status, wait_for, wait_phase

from req1_testenv.kube import KubeCluster

NAME = "shop"
ROOT = Path(__file__).resolve().parents[2]
LIVE_WAIT = 420.0


@pytest.fixture(scope="module")
def live(kube_cluster: KubeCluster, admin: Kubectl, operator_kubeconfig: Path,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Operator]]:
    with operated_namespace(kube_cluster, admin, operator_kubeconfig, tmp_path_factory.mktemp("inplace-operator"),
                            "ip") as (ns, op):
        admin.apply(instance(NAME, {"api": {"replicas": 1}, "postgres": {"replicas": 1},
                                    "backup": {"enabled": True}}), ns)
        wait_phase(admin, NAME, ns, "Ready", timeout=LIVE_WAIT)
        yield ns, op


def login(admin: Kubectl, cluster: KubeCluster, ns: str) -> AppClient:
    app = AppClient(f"http://{service_ip(admin, cluster, ns, f'{NAME}-api')}")
    app.login("admin@localhost", secret_value(admin, ns, f"{NAME}-api", "admin-password"))
    return app


def workspace_names(app: AppClient) -> set[str]:
    return {w["name"] for w in app.ok("GET", "/api/v1/workspaces?limit=100")["items"]}


def in_place(admin: Kubectl, ns: str) -> dict[str, Any]:
    found: dict[str, Any] = (instance_status(admin, NAME, ns).get("restore") or {}).get("inPlace") or {}
    return found


def switch_and_archive(admin: Kubectl, cluster: KubeCluster, ns: str) -> None:
    """The current WAL segment switched and archived, so the archive holds every commit written so far."""
    primary = pods(admin, ns, f"app.kubernetes.io/instance={NAME},req1.io/role=primary")[0]
    ip = primary["status"]["podIP"]
    cluster.fabric().assert_routed(ip)
    user = secret_value(admin, ns, f"{NAME}-postgres-superuser", "username")
    password = secret_value(admin, ns, f"{NAME}-postgres-superuser", "password")
    wal = psql(ip, user, password, "postgres", "SELECT pg_walfile_name(pg_current_wal_lsn())")
    psql(ip, user, password, "postgres", "SELECT pg_switch_wal()")
    wait_for(f"WAL {wal} archived", lambda: (
        (instance_status(admin, NAME, ns).get("backup") or {}).get("lastArchivedWal") or "") >= wal, timeout=120)


def backups_in_s3(admin: Kubectl, cluster: KubeCluster, ns: str) -> list[dict[str, Any]]:
    """barman-cloud-backup-list of the instance's prefix, run here against its SeaweedFS Service."""
    bk = instance_status(admin, NAME, ns)["backup"]
    endpoint = urllib.parse.urlsplit(bk["endpoint"])
    ip = service_ip(admin, cluster, ns, str(endpoint.hostname).split(".")[0])
    source, _, server = str(bk["destination"]).rpartition("/")
    env = {"AWS_ACCESS_KEY_ID": secret_value(admin, ns, bk["credentialsSecret"], "accessKey"),
           "AWS_SECRET_ACCESS_KEY": secret_value(admin, ns, bk["credentialsSecret"], "secretKey"),
           "AWS_DEFAULT_REGION": "us-east-1", "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "barman-cloud-backup-list"), "--cloud-provider", "aws-s3", "--endpoint-url",
         f"http://{ip}:{endpoint.port or 80}", "--format", "json", source, server],
        capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    listed: list[dict[str, Any]] = json.loads(out.stdout)["backups_list"]
    return listed


def test_in_place_restore_to_a_moment_with_its_pre_restore_backup(
    live: tuple[str, Operator], admin: Kubectl, kube_cluster: KubeCluster
) -> None:
    ns, op = live
    wait_for("ContinuousArchiving True", lambda: condition(
        instance_status(admin, NAME, ns), "ContinuousArchiving")["status"] == "True", timeout=120)
    wait_for("the replica streaming", lambda: str((instance_status(admin, NAME, ns).get("postgres") or {})
                                                .get("replication", "")).startswith("1/1"), timeout=LIVE_WAIT)
    app = login(admin, kube_cluster, ns)
    app.ok("POST", "/api/v1/workspaces", {"name": "Before the backup"}, expect=201)
    admin.patch("req1", NAME, ns, {"spec": {"backup": {"request": "first"}}})
    first = wait_for("the on-demand backup", lambda: (
        last := (instance_status(admin, NAME, ns).get("backup") or {}).get("lastBackup") or {}
    ) and last.get("name") == "on-demand-first" and last, timeout=240)
    app.ok("POST", "/api/v1/workspaces", {"name": "After the backup, before T"}, expect=201)
    time.sleep(1.5)
    target = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    time.sleep(1.5)
    app.ok("POST", "/api/v1/workspaces", {"name": "After T"}, expect=201)
    app.ok("POST", "/api/v1/workspaces", {"name": "After T, again"}, expect=201)
    switch_and_archive(admin, kube_cluster, ns)

    # Not confirmed with the instance's name: a condition and a Warning, and nothing else.
    admin.patch("req1", NAME, ns, {"spec": {"backup": {"restoreInPlace": {
        "request": "r1", "targetTime": target, "confirm": "prod"}}}})
    refused = wait_for("InPlaceRestore NotConfirmed", lambda: (
        c := condition(instance_status(admin, NAME, ns), "InPlaceRestore")) and c["reason"] == "NotConfirmed" and c,
        timeout=60)
    assert refused["status"] == "False" and "'prod'" in refused["message"], refused
    assert "NotConfirmed" in [e.get("reason") for e in events_for(admin, NAME, ns) if e.get("type") == "Warning"]
    status = instance_status(admin, NAME, ns)
    assert not in_place(admin, ns) and not (status.get("backup") or {}).get("pending"), status.get("backup")
    assert workspace_names(app) >= {"After T"}  # the API still serves everything

    admin.patch("req1", NAME, ns, {"spec": {"backup": {"restoreInPlace": {"confirm": NAME}}}})
    seen: list[str] = []  # the phases, in the order they were seen
    api_while_restoring: list[tuple[int, int]] = []  # (API replicas, API pods) once the managers act

    def phase_now() -> str:
        phase = str(in_place(admin, ns).get("phase") or "")
        if phase and (not seen or seen[-1] != phase):
            seen.append(phase)
        if phase == "restoring":
            deploy = admin.get("deployment", f"{NAME}-api", ns) or {}
            api_pods = pods(admin, ns, f"app.kubernetes.io/instance={NAME},app.kubernetes.io/component=api")
            api_while_restoring.append((int(deploy["spec"]["replicas"]), len(api_pods)))
        return phase

    wait_for("the restore under way", lambda: phase_now() == "restoring", timeout=LIVE_WAIT, interval=0.2)
    assert seen in (["backing-up", "api-stopped", "restoring"], ["backing-up", "restoring"]), seen
    assert api_while_restoring == [(0, 0)], api_while_restoring  # the API is down on purpose meanwhile
    op.kill()  # no grace; the managers go on without the operator
    primary = instance_status(admin, NAME, ns)["targetPrimary"]
    print(f"killed the operator in phase restoring (seen {seen}); {primary} restores")
    wait_for(f"{primary} reporting the restore done", lambda: (
        r := instance_report(admin, ns, primary).get("inPlaceRestore") or {}
    ) and r.get("request") == "r1" and r.get("phase") in ("completed", "failed") and r, timeout=LIVE_WAIT)
    assert in_place(admin, ns)["phase"] == "restoring"  # nobody moved it on while the operator was away
    op.start()
    record = wait_for("status.restore.inPlace completed", lambda: (
        r := in_place(admin, ns)) and r.get("phase") in ("completed", "failed") and r, timeout=LIVE_WAIT)
    print(f"status.restore.inPlace: {json.dumps(record)}")
    assert record["phase"] == "completed", record
    assert record["backupId"] == first["backupId"] and record["targetTime"] == target, record
    assert record["timeline"] >= 2 and record["lsn"] and not record["error"], record
    assert record["preRestoreBackup"] == "pre-restore-r1" and record["preRestoreBackupId"], record
    assert record["durationSeconds"] > 0 and record["completedAt"], record

    status = wait_phase(admin, NAME, ns, "Ready", timeout=LIVE_WAIT)
    assert condition(status, "InPlaceRestore")["status"] == "True"
    assert (admin.get("deployment", f"{NAME}-api", ns) or {})["spec"]["replicas"] == 1
    events = events_for(admin, NAME, ns)
    reasons = [e.get("reason") for e in events]
    assert {"InPlaceRestoreStarted", "InPlaceRestoreRestoring", "InPlaceRestoreCompleted"} <= set(reasons), reasons
    assert reasons.count("InPlaceRestoreStarted") == 1, reasons  # never run twice, the restarted operator included
    done = next(e["message"] for e in events if e.get("reason") == "InPlaceRestoreCompleted")
    assert f"timeline {record['timeline']}" in done and record["lsn"] in done and target in done, done
    wide = admin.run("get", "req1", NAME, "-n", ns, "-o", "wide").stdout.splitlines()
    assert "RESTORE" in wide[0].split() and "completed" in wide[1].split(), wide

    app = login(admin, kube_cluster, ns)
    names = workspace_names(app)
    assert {"Before the backup", "After the backup, before T"} <= names, names
    assert not names & {"After T", "After T, again"}, f"written after {target} but back after the restore: {names}"
    app.ok("POST", "/api/v1/workspaces", {"name": "After the restore"}, expect=201)  # and it takes writes again

    assert (instance_status(admin, NAME, ns).get("backup") or {}).get("lastPreRestore") == "pre-restore-r1"
    listed = {str(b.get("backup_name")): b for b in backups_in_s3(admin, kube_cluster, ns)}
    assert "pre-restore-r1" in listed, sorted(listed)
    assert listed["pre-restore-r1"]["backup_id"] == record["preRestoreBackupId"], listed["pre-restore-r1"]


def test_a_failed_in_place_restore_brings_the_api_back_on_the_data_it_had(
    live: tuple[str, Operator], admin: Kubectl, kube_cluster: KubeCluster
) -> None:
    """A backup that does not exist: the pre-restore backup is taken and the API stops, the primary's manager fails
    and puts its data back, the record says failed with the reason, and the API serves the same data again."""
    ns, _ = live
    wait_phase(admin, NAME, ns, "Ready", timeout=LIVE_WAIT)
    app = login(admin, kube_cluster, ns)
    app.ok("POST", "/api/v1/workspaces", {"name": "Kept through a failed restore"}, expect=201)
    before = workspace_names(app)
    admin.patch("req1", NAME, ns, {"spec": {"backup": {"restoreInPlace": {
        "request": "r2", "backupId": "20000101T000000", "targetTime": None, "confirm": NAME}}}})
    record = wait_for("status.restore.inPlace r2 ended", lambda: (
        r := in_place(admin, ns)) and r.get("request") == "r2" and r.get("phase") in ("completed", "failed") and r,
        timeout=LIVE_WAIT)
    print(f"status.restore.inPlace: {json.dumps(record)}")
    assert record["phase"] == "failed" and record["error"], record
    assert record["preRestoreBackup"] == "pre-restore-r2" and record["preRestoreBackupId"], record
    status = wait_phase(admin, NAME, ns, "Ready", timeout=LIVE_WAIT)
    failed = condition(status, "InPlaceRestore")
    assert (failed["status"], failed["reason"]) == ("False", "Failed") and record["error"][:200] in failed["message"]
    warnings = [e.get("reason") for e in events_for(admin, NAME, ns) if e.get("type") == "Warning"]
    assert "InPlaceRestoreFailed" in warnings, warnings
    assert (admin.get("deployment", f"{NAME}-api", ns) or {})["spec"]["replicas"] == 1
    app = login(admin, kube_cluster, ns)
    assert workspace_names(app) == before  # the data it had, nothing lost, nothing from a backup
    app.ok("POST", "/api/v1/workspaces", {"name": "After the failed restore"}, expect=201)
