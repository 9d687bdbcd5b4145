"""A restore interrupted by killing the operator and the restoring instance manager (SIGKILL, no grace) completes
when they come back, on the process nodes: every row of the source is in the new instance, status.restore records
the restore, and nothing is left half-done (no error recorded, out of recovery, the API serving).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from live_harness import (
    instance,
    instance_report,
    operated_namespace,
    pods,
    psql,
    restart_count,
    secret_value,
)
from operator_harness import Kubectl, Operator, events_for, instance_status, wait_for, wait_phase

from req1_testenv.kube import KubeCluster
from req1_testenv.kubelet import faults

SOURCE, RESTORED = "orig", "orig-copy"
LIVE_WAIT = 420.0
# enough data that the download takes a while, and enough WAL after the backup (several segments, each fetched from
# S3 by its own barman-cloud-wal-restore) that the recovery does too
ROWS_IN_BACKUP, ROWS_AFTER = 400_000, 300_000


@pytest.fixture(scope="module")
def live(kube_cluster: KubeCluster, admin: Kubectl, operator_kubeconfig: Path,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Operator]]:
    with operated_namespace(kube_cluster, admin, operator_kubeconfig, tmp_path_factory.mktemp("restore-operator"),
                            "ri") as (ns, op):
        admin.apply(instance(SOURCE, {"api": {"replicas": 1}, "postgres": {"replicas": 1},
                                      "backup": {"enabled": True}}), ns)
        wait_phase(admin, SOURCE, ns, "Ready", timeout=LIVE_WAIT)
        yield ns, op


def primary_sql(admin: Kubectl, cluster: KubeCluster, ns: str, name: str, credentials_of: str) -> Any:
    """psql on `name`'s primary pod as the superuser of `credentials_of` (a restore keeps the source's roles)."""
    pod = pods(admin, ns, f"app.kubernetes.io/instance={name},req1.io/role=primary")[0]
    ip = pod["status"]["podIP"]
    cluster.fabric().assert_routed(ip)
    user = secret_value(admin, ns, f"{credentials_of}-postgres-superuser", "username")
    password = secret_value(admin, ns, f"{credentials_of}-postgres-superuser", "password")
    return lambda sql: psql(ip, user, password, "postgres", sql)


def test_restore_interrupted_by_killing_operator_and_manager_completes(
    live: tuple[str, Operator], admin: Kubectl, kube_cluster: KubeCluster
) -> None:
    ns, op = live
    wait_for("ContinuousArchiving True", lambda: any(
        c["type"] == "ContinuousArchiving" and c["status"] == "True"
        for c in instance_status(admin, SOURCE, ns).get("conditions") or []), timeout=120)
    sql = primary_sql(admin, kube_cluster, ns, SOURCE, SOURCE)
    sql("CREATE TABLE known_rows (id int PRIMARY KEY, body text NOT NULL)")
    sql(f"INSERT INTO known_rows SELECT g, md5(g::text) || md5((g * 7)::text) "
        f"FROM generate_series(1, {ROWS_IN_BACKUP}) g")
    admin.patch("req1", SOURCE, ns, {"spec": {"backup": {"request": "before-restore"}}})
    record = wait_for("the on-demand backup", lambda: (
        last := (instance_status(admin, SOURCE, ns).get("backup") or {}).get("lastBackup") or {}
    ) and last.get("name") == "on-demand-before-restore" and last, timeout=300)
    sql(f"INSERT INTO known_rows SELECT g, 'after the backup ' || md5(g::text) || md5((g * 3)::text) "
        f"FROM generate_series({ROWS_IN_BACKUP + 1}, {ROWS_IN_BACKUP + ROWS_AFTER}) g")
    expected = sql("SELECT count(*) || ':' || sum(id) || ':' || md5(string_agg(body, ',' ORDER BY id)) FROM known_rows")
    wal = sql("SELECT pg_walfile_name(pg_current_wal_lsn())")
    sql("SELECT pg_switch_wal()")
    wait_for(f"WAL {wal} archived", lambda: (
        (instance_status(admin, SOURCE, ns).get("backup") or {}).get("lastArchivedWal") or "") >= wal, timeout=120)

    destination = instance_status(admin, SOURCE, ns)["backup"]
    bucket, _, path = destination["destination"].removeprefix("s3://").partition("/")
    admin.apply(instance(RESTORED, {"api": {"replicas": 1}, "postgres": {"replicas": 1}, "restore": {
        "source": {"endpoint": destination["endpoint"], "bucket": bucket, "path": path,
                   "secretName": destination["credentialsSecret"]},
    }}), ns)
    pod = f"{RESTORED}-postgres-0"

    def restoring() -> str | None:
        report = instance_report(admin, ns, pod)
        message = str(report.get("message") or "")
        return message if message.startswith("restoring") else None

    seen = wait_for("the restore under way on its first pod", restoring, timeout=LIVE_WAIT, interval=0.1)
    op.kill()  # no grace, as a crash would
    killed = faults.kill(kube_cluster.workdir, ns, pod)
    assert killed, f"no process of {pod} to kill"
    print(f"killed the operator and {pod}'s manager while {seen!r}")
    assert (instance_status(admin, RESTORED, ns).get("restore") or {}).get("phase") != "completed"

    wait_for(f"{pod} restarted by its node", lambda: restart_count(admin.get("pod", pod, ns) or {}, "postgres") >= 1,
             timeout=120)
    # The manager again, this time while PostgreSQL replays the archived WAL: the recovery must go on from there.
    replaying = wait_for("the restored server replaying WAL", lambda: (m := restoring()) and "replaying" in m and m,
                         timeout=LIVE_WAIT, interval=0.1)
    assert faults.kill(kube_cluster.workdir, ns, pod), f"no process of {pod} to kill"
    print(f"killed {pod}'s manager again while {replaying!r}")
    wait_for(f"{pod} restarted again", lambda: restart_count(admin.get("pod", pod, ns) or {}, "postgres") >= 2,
             timeout=120)
    op.start()
    wait_phase(admin, RESTORED, ns, "Ready", timeout=LIVE_WAIT)
    restored = wait_for("status.restore completed", lambda: (
        r := instance_status(admin, RESTORED, ns).get("restore") or {}) and r.get("phase") == "completed" and r,
        timeout=120)
    assert restored["backupId"] == record["backupId"], restored
    assert restored["timeline"] >= 2 and restored["lsn"] and not restored.get("error"), restored
    assert "RestoreCompleted" in [e.get("reason") for e in events_for(admin, RESTORED, ns)]

    try:  # the copy's own superuser secret if the manager set it, else the source's (the restored roles)
        copy = primary_sql(admin, kube_cluster, ns, RESTORED, RESTORED)
        copy("SELECT 1")
    except AssertionError:
        copy = primary_sql(admin, kube_cluster, ns, RESTORED, SOURCE)
    assert copy("SELECT pg_is_in_recovery()") == "f"
    got = copy("SELECT count(*) || ':' || sum(id) || ':' || md5(string_agg(body, ',' ORDER BY id)) FROM known_rows")
    assert got == expected, f"restored {got}, source had {expected}"
    # the manager's own record: completed, no error, and (killed while downloading) a second attempt that kept
    # the first start, so the duration is the whole restore's
    own = instance_report(admin, ns, pod).get("restore") or {}
    assert own.get("phase") == "completed" and not own.get("error"), own
    if "downloading" in seen:  # downloaded twice, then one recovery that went on after its own interruption
        assert own.get("attempts") == 2, own
