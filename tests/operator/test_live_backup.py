"""Backups through the Req1Instance, on the process nodes: WAL archived from the primary into the instance's own
SeaweedFS, an on-demand base backup taken on the streaming replica, and a new instance created from those backups
to a point in time. The data is written and read back through the app's API, as its users would.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from live_harness import AppClient, instance, operated_namespace, pods, psql, secret_value, service_ip
from operator_harness import Kubectl, condition, events_for, instance_status, wait_for, wait_phase

from req1_testenv.kube import KubeCluster

SOURCE, RESTORED = "prod", "prod-restored"
LIVE_WAIT = 420.0


def login(admin: Kubectl, cluster: KubeCluster, ns: str, name: str, credentials_of: str) -> AppClient:
    """The app behind `name`'s Service, logged in as the admin of `credentials_of` (a restore keeps its users)."""
    app = AppClient(f"http://{service_ip(admin, cluster, ns, f'{name}-api')}")
    app.login("admin@localhost", secret_value(admin, ns, f"{credentials_of}-api", "admin-password"))
    return app


@pytest.fixture(scope="module")
def live(kube_cluster: KubeCluster, admin: Kubectl, operator_kubeconfig: Path,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with operated_namespace(kube_cluster, admin, operator_kubeconfig, tmp_path_factory.mktemp("backup-operator"),
                            "bk") as (ns, _):
        admin.apply(instance(SOURCE, {"api": {"replicas": 1}, "postgres": {"replicas": 1},
                                      "backup": {"enabled": True}}), ns)
        wait_phase(admin, SOURCE, ns, "Ready", timeout=LIVE_WAIT)
        yield ns


def test_archiving_backup_and_point_in_time_restore(live: str, admin: Kubectl, kube_cluster: KubeCluster) -> None:
    ns = live
    def archiving_ok() -> dict[str, Any] | None:
        found = [c for c in instance_status(admin, SOURCE, ns).get("conditions") or []
                 if c["type"] == "ContinuousArchiving" and c["status"] == "True"]
        return found[0] if found else None

    archiving = wait_for("ContinuousArchiving True", archiving_ok, timeout=120)
    assert "s3://req1/backups/" in archiving["message"]
    shared = condition(instance_status(admin, SOURCE, ns), "BackupDestination")
    assert shared["status"] == "False" and shared["reason"] == "SharedFailureDomain"

    # the backup is to be taken on the replica: Ready does not wait for it to stream, so this test does
    wait_for("the replica streaming", lambda: str((instance_status(admin, SOURCE, ns).get("postgres") or {})
                                                .get("replication", "")).startswith("1/1"), timeout=LIVE_WAIT)
    app = login(admin, kube_cluster, ns, SOURCE, SOURCE)
    before = app.ok("POST", "/api/v1/workspaces", {"name": "Before the backup"}, expect=201)
    admin.patch("req1", SOURCE, ns, {"spec": {"backup": {"request": "first"}}})
    def last_backup() -> dict[str, Any] | None:
        last = (instance_status(admin, SOURCE, ns).get("backup") or {}).get("lastBackup") or {}
        return last if last.get("name") == "on-demand-first" else None

    record = wait_for("the on-demand backup in status.backup.lastBackup", last_backup, timeout=240)
    assert record["fromReplica"] is True and record["pod"] == f"{SOURCE}-postgres-1" and record["sizeBytes"] > 0
    reasons = [e.get("reason") for e in events_for(admin, SOURCE, ns)]
    assert {"BackupStarted", "BackupCompleted", "SharedFailureDomain"} <= set(reasons), reasons

    kept = app.ok("POST", "/api/v1/workspaces", {"name": "After the backup, before T"}, expect=201)
    time.sleep(1.5)
    target = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    time.sleep(1.5)
    app.ok("POST", "/api/v1/workspaces", {"name": "After T"}, expect=201)
    primary = next(p for p in pods(admin, ns, f"app.kubernetes.io/instance={SOURCE},req1.io/role=primary"))
    ip = primary["status"]["podIP"]
    kube_cluster.fabric().assert_routed(ip)
    user = secret_value(admin, ns, f"{SOURCE}-postgres-superuser", "username")
    password = secret_value(admin, ns, f"{SOURCE}-postgres-superuser", "password")
    wal = psql(ip, user, password, "postgres", "SELECT pg_walfile_name(pg_current_wal_lsn())")
    psql(ip, user, password, "postgres", "SELECT pg_switch_wal()")  # the segment holding "After T" goes now
    wait_for(f"WAL {wal} archived", lambda: (
        (instance_status(admin, SOURCE, ns).get("backup") or {}).get("lastArchivedWal") or "") >= wal, timeout=120)

    destination = instance_status(admin, SOURCE, ns)["backup"]
    bucket, _, path = destination["destination"].removeprefix("s3://").partition("/")
    admin.apply(instance(RESTORED, {"api": {"replicas": 1}, "restore": {
        "source": {"endpoint": destination["endpoint"], "bucket": bucket, "path": path,
                   "secretName": destination["credentialsSecret"]},
        "targetTime": target,
    }}), ns)
    wait_phase(admin, RESTORED, ns, "Ready", timeout=LIVE_WAIT)
    restored = wait_for("status.restore completed", lambda: (
        r := instance_status(admin, RESTORED, ns).get("restore") or {}) and r.get("phase") == "completed" and r,
        timeout=60)
    assert restored["backupId"] == record["backupId"] and restored["timeline"] >= 2, restored
    assert "RestoreCompleted" in [e.get("reason") for e in events_for(admin, RESTORED, ns)]

    copy = login(admin, kube_cluster, ns, RESTORED, SOURCE)
    names = {w["name"] for w in copy.ok("GET", "/api/v1/workspaces?limit=100")["items"]}
    assert {before["name"], kept["name"]} <= names, names
    assert "After T" not in names, f"a row written after {target} came back: {names}"


def drill_log(cluster: KubeCluster, admin: Kubectl, ns: str) -> str:
    """The drill container's output on its process node (the API server cannot reach the nodes' log endpoint)."""
    from req1_testenv.kubelet import faults

    out = []
    for pod in pods(admin, ns, "app.kubernetes.io/component=restore-drill"):
        for c in faults.containers(cluster.workdir, ns, pod["metadata"]["name"], "drill"):
            out += [log.read_text()[-3000:] for log in c.logs()]
    return "\n".join(out)


def test_restore_drill_of_the_latest_backup(live: str, admin: Kubectl, kube_cluster: KubeCluster) -> None:
    """The drill CronJob (daily by default) run now, as `kubectl create job --from` does: the operator records its
    result in status.backup.lastDrill, the RestoreDrill condition, an Event and the DRILL column."""
    ns = live
    cron = admin.get("cronjob", f"{SOURCE}-restore-drill", ns)
    assert cron is not None and cron["spec"]["schedule"] == "0 5 * * *", cron
    last = (instance_status(admin, SOURCE, ns).get("backup") or {}).get("lastBackup") or {}
    assert last.get("backupId"), "the backup of the test before"
    admin.run("create", "job", f"--from=cronjob/{SOURCE}-restore-drill", f"{SOURCE}-drill-now", "-n", ns)

    def drilled() -> dict[str, Any] | None:
        found: dict[str, Any] | None = (instance_status(admin, SOURCE, ns).get("backup") or {}).get("lastDrill")
        return found if found and found.get("job") == f"{SOURCE}-drill-now" else None

    drill = wait_for("status.backup.lastDrill of the drill Job", drilled, timeout=LIVE_WAIT)
    assert drill["result"] == "Passed", f"{drill['reason']}\n{drill_log(kube_cluster, admin, ns)}"
    assert drill["backupId"] == last["backupId"], drill
    assert "B-tree indexes intact" in drill["reason"] and "tables match the backup's record" in drill["reason"], drill
    assert condition(instance_status(admin, SOURCE, ns), "RestoreDrill")["status"] == "True"
    assert "DrillPassed" in [e.get("reason") for e in events_for(admin, SOURCE, ns)]
    table = admin.run("get", "req1", SOURCE, "-n", ns).stdout
    assert "DRILL" in table.splitlines()[0] and "Passed" in table.splitlines()[1], table


def test_upgrade_migrations_wait_for_a_backup(live: str, admin: Kubectl) -> None:
    ns = live
    old = instance_status(admin, SOURCE, ns).get("version")
    admin.patch("req1", SOURCE, ns, {"spec": {"version": "0.1.1"}})

    def taken() -> dict[str, Any] | None:
        backup = instance_status(admin, SOURCE, ns).get("backup") or {}
        return backup if backup.get("lastPreUpgrade") == "pre-upgrade-0.1.1" else None

    backup = wait_for("the pre-upgrade backup", taken, timeout=240)
    assert backup["lastBackup"]["name"] == "pre-upgrade-0.1.1"
    status = wait_phase(admin, SOURCE, ns, "Ready", timeout=LIVE_WAIT)
    assert status["version"] == "0.1.1" and old != "0.1.1"
    jobs = [j for j in admin.list("jobs", ns, f"app.kubernetes.io/instance={SOURCE}")
            if j["metadata"]["name"].startswith(f"{SOURCE}-migrate-0-1-1")]
    assert jobs, "the migrate Job of 0.1.1 ran"
    assert jobs[0]["metadata"]["creationTimestamp"] >= backup["lastBackup"]["endTime"][:19], \
        "the migrations started only after the backup had ended"
    reasons = [e.get("message", "") for e in events_for(admin, SOURCE, ns) if e.get("reason") == "BackupStarted"]
    assert any("pre-upgrade base backup pre-upgrade-0.1.1" in r for r in reasons), reasons
