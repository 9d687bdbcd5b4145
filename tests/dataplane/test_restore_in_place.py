"""In-place restore, the instance managers' side: a primary and a replica under managers (host processes, PostgreSQL
15, the local control plane, SeaweedFS, as in test_backup.py). The test plays the operator: it writes
``status.restore.inPlace = {request, phase: restoring, …}`` into the Req1Instance and reads the members' reports.

- To a point in time: the target primary restores its own backup to T (its manager killed with SIGKILL midway and
  started again), promotes on a higher timeline, has every row up to T and none after, drops the old PGDATA and
  archives its new timeline; the replica re-clones and streams from it; a restarted manager never runs the request
  again.
- A restore that cannot run (a backup that does not exist), then one whose recovery cannot reach its target, report
  failed, and each time the data from before is back, writable and replicated.
"""

from __future__ import annotations

import copy
import json
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from backup_support import (  # fixtures (s3, namespaces, clusters) are in conftest.py
    COLUMNS,
    PREFIX,
    archive_now,
    backup_env,
    keys,
    labels,
    mark_time,
    request_in_place,
    take_backup,
    wait_in_place,
    write_batch,
)
from test_instance_manager import APP_PW, INSTANCE, Cluster, bootstrap_pair, query, wait_for

from req1_testenv.seaweedfs import SeaweedS3

pytestmark = pytest.mark.dataplane


@pytest.fixture(scope="module")
def inplace_crd(crd: None, kube_cluster: Any) -> Iterator[None]:
    """The CRD as generated, which carries ``status.restore.inPlace`` once the operator's side has it; until then the
    field is added here (open schema), or the API server would prune what the test writes as the operator."""
    from kubernetes import client

    with kube_cluster.api_client() as api:
        ext = client.ApiextensionsV1Api(api)
        live = api.sanitize_for_serialization(ext.read_custom_resource_definition("req1instances.req1.io"))
        wanted = copy.deepcopy(live)
        for version in wanted["spec"]["versions"]:
            restore = version["schema"]["openAPIV3Schema"]["properties"]["status"]["properties"]["restore"]
            if "inPlace" not in restore.setdefault("properties", {}):
                restore["properties"]["inPlace"] = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
                restore.pop("required", None)
        if wanted != live:
            ext.replace_custom_resource_definition("req1instances.req1.io", wanted)
            time.sleep(2)  # the API server re-reads the schema
    yield


def member_dir(c: Cluster, pod: str) -> Path:
    return Path(c.workdir) / pod / "data"


def kill_hard(c: Cluster, pod: str) -> None:
    """SIGKILL the manager and everything it runs (its process group: PostgreSQL, barman), as a container kill."""
    process = c.members[pod].process
    assert process is not None and process.pid is not None
    os.killpg(process.pid, signal.SIGKILL)
    wait_for(lambda: not process.running(), f"{pod} killed", timeout=10)


def test_in_place_restore_to_a_point_in_time(inplace_crd: None, clusters: Callable[..., Cluster],
                                             namespaces: Callable[[], str], s3: SeaweedS3) -> None:  # fmt: skip
    ns = namespaces()
    c = clusters(ns)
    env = backup_env(s3)
    m0, m1 = bootstrap_pair(c, env=env)
    query(m0.pg_port, f"CREATE TABLE events ({COLUMNS})", db="req1", user="req1", password=APP_PW)
    write_batch(m0.pg_port, "A")
    backup = take_backup(c, m1.name, "b1")  # on the replica, as the operator prefers
    write_batch(m0.pg_port, "B")
    target = mark_time()
    write_batch(m0.pg_port, "C")
    archive_now(c, m0)
    assert c.status(m0.name)["timeline"] == 1

    request_in_place(c, "r1", targetTime=target, preRestoreBackup="b1")
    # SIGKILL the target primary's manager midway (downloading or recovering), then start it again.
    state = member_dir(c, m0.name) / "req1" / "inplace-restore.json"
    wait_for(lambda: state.exists() and ('"downloading"' in state.read_text() or '"recovering"' in state.read_text()),
             "the restore to be under way", timeout=60, interval=0.02)  # fmt: skip
    kill_hard(c, m0.name)
    assert json.loads(state.read_text())["phase"] in ("downloading", "recovering")
    assert (member_dir(c, m0.name) / "pgdata.pre-restore-r1" / "PG_VERSION").exists()  # the old copy, aside
    c.start(0, env=env)

    done = wait_in_place(c, m0.name, "r1")
    assert done["phase"] == "completed", (done, c.logs())
    assert done["backupId"] == backup["backupId"] and done["targetTime"] == target
    assert done["timeline"] > 1 and done["lsn"] and done["durationSeconds"] > 0 and "error" not in done
    st = c.wait_status(m0.name, "primary again", role="primary", ready=True)
    assert st["timeline"] == done["timeline"]
    # Every row up to T and none after it; the old PGDATA is gone once completed was reported.
    assert labels(m0.pg_port) == {"A": 20, "B": 20}
    assert query(m0.pg_port, f"SELECT count(*) FROM events WHERE at > '{target}'", db="req1") == "0"
    wait_for(lambda: not list(member_dir(c, m0.name).glob("pgdata.pre-restore-*")), "the old PGDATA deleted")
    assert json.loads(state.read_text())["asideRemoved"] is True

    # The replica re-clones from the restored primary and streams on its timeline.
    replica = wait_in_place(c, m1.name, "r1")
    assert replica["phase"] == "completed" and replica["timeline"] == done["timeline"], replica
    c.wait_status(m1.name, "streaming from the restored primary", role="replica", streaming=True,
                  timeline=done["timeline"])  # fmt: skip
    write_batch(m0.pg_port, "D")
    wait_for(lambda: labels(m1.pg_port) == {"A": 20, "B": 20, "D": 20}, "the new row on the replica", timeout=30)

    # Archiving goes on in the same prefix, on the new timeline.
    segment = archive_now(c, m0)
    assert int(segment[:8], 16) == done["timeline"]
    stored = keys(s3, f"{PREFIX}/{ns}/{INSTANCE}/wals/")
    assert any(k.endswith(f"{segment}.gz") for k in stored)
    assert any(k.endswith(f"{done['timeline']:08X}.history.gz") for k in stored), stored

    # The request is done: a restarted manager, the status still saying "restoring" r1, does not run it again.
    c.stop(m0.name)
    c.start(0, env=env)
    c.wait_status(m0.name, "primary after a restart", role="primary", ready=True)
    assert labels(m0.pg_port) == {"A": 20, "B": 20, "D": 20}
    assert c.status(m0.name)["inPlaceRestore"]["phase"] == "completed"


def test_a_failed_in_place_restore_brings_the_data_back(
    inplace_crd: None, clusters: Callable[..., Cluster], namespaces: Callable[[], str], s3: SeaweedS3
) -> None:
    ns = namespaces()
    c = clusters(ns)
    m0, m1 = bootstrap_pair(c, env=backup_env(s3))
    query(m0.pg_port, f"CREATE TABLE events ({COLUMNS})", db="req1", user="req1", password=APP_PW)
    write_batch(m0.pg_port, "A")
    archive_now(c, m0)

    request_in_place(c, "bad", backupId="20000101T000000")  # no such backup
    failed = wait_in_place(c, m0.name, "bad")
    assert failed["phase"] == "failed" and "download failed" in failed["error"], failed
    c.wait_status(m0.name, "primary again on the data from before", role="primary", ready=True, timeline=1)
    assert labels(m0.pg_port) == {"A": 20}
    write_batch(m0.pg_port, "B")  # writable
    assert not list(member_dir(c, m0.name).glob("pgdata.pre-restore-*"))  # moved back before "failed" was reported

    # The replica kept its data and streams on.
    replica = wait_in_place(c, m1.name, "bad")
    assert replica["phase"] == "failed" and "kept its data" in replica["error"], replica
    wait_for(lambda: labels(m1.pg_port) == {"A": 20, "B": 20}, "the new row on the replica", timeout=30)
    c.wait_status(m1.name, "streaming", role="replica", streaming=True, timeline=1)

    # A new request whose recovery cannot reach its target (a time before the backup ends): PostgreSQL exits during
    # recovery, and the restored copy gives way to the data from before.
    backup = take_backup(c, m1.name, "b1")
    request_in_place(c, "early", backupId=backup["backupId"], targetTime="2001-01-01T00:00:00Z")
    early = wait_in_place(c, m0.name, "early")
    assert early["phase"] == "failed" and "exited during recovery" in early["error"], early
    assert early["backupId"] == backup["backupId"]
    c.wait_status(m0.name, "primary again on the data from before", role="primary", ready=True, timeline=1)
    write_batch(m0.pg_port, "C")
    wait_for(lambda: labels(m1.pg_port) == {"A": 20, "B": 20, "C": 20}, "every row on the replica", timeout=30)
    assert wait_in_place(c, m1.name, "early")["phase"] == "failed"


# ------------------------------------------------------------------------------------------------- pure parts


def test_the_request_is_read_from_the_status() -> None:
    from req1_operator.instance import inplace

    assert inplace.parse_request({}) is None and inplace.parse_request({"restore": {"phase": "completed"}}) is None
    req = inplace.parse_request({"restore": {"inPlace": {"request": "r1", "phase": "restoring", "backupId": None,
                                                         "targetTime": "2026-12-03T12:00:00Z"}}})  # fmt: skip
    assert req == inplace.InPlaceRequest("r1", "restoring", "", "2026-12-03T12:00:00Z")
    bad = inplace.parse_request({"restore": {"inPlace": {"request": "r2", "phase": "restoring", "targetTime": "noon"}}})
    assert bad is not None and "targetTime" in bad.error
    assert inplace.aside_path(Path("/v/pgdata"), "r 1/..") == Path("/v/pgdata.pre-restore-r_1_..")
    doc = {"request": "r1", "role": "primary", "phase": "recovering", "requestedTargetTime": "2026-12-03T12:00:00Z",
           "backupId": "20261203T110000", "startedAtEpoch": 1.0, "done": ["r0"]}  # fmt: skip
    assert inplace.report(doc) == {"request": "r1", "phase": "restoring", "step": "recovering", "role": "primary",
                                   "backupId": "20261203T110000", "targetTime": "2026-12-03T12:00:00Z"}  # fmt: skip
    assert inplace.primary_busy(doc) and inplace.done_requests(doc) == ["r0"]
    assert inplace.done_requests({**doc, "phase": "failed"}) == ["r0", "r1"]


def test_the_two_copies_of_pgdata(tmp_path: Path) -> None:
    """Moving aside is resumable and never overwrites; putting back deletes the restored copy only while the old one
    exists."""
    from req1_operator.instance import inplace

    pgdata, aside = tmp_path / "pgdata", tmp_path / "pgdata.pre-restore-r1"
    pgdata.mkdir()
    (pgdata / "PG_VERSION").write_text("15")
    assert inplace.move_aside(pgdata, aside) and (aside / "PG_VERSION").exists() and not pgdata.exists()
    assert inplace.move_aside(pgdata, aside)  # a resumed step: already done
    pgdata.mkdir()
    (pgdata / "PG_VERSION").write_text("restored")
    assert not inplace.move_aside(pgdata, aside)  # both hold data: refused, nothing touched
    inplace.put_back(pgdata, aside)
    assert (pgdata / "PG_VERSION").read_text() == "15" and not aside.exists()
    inplace.put_back(pgdata, aside)  # a resumed rollback: the old copy is already back and stays
    assert (pgdata / "PG_VERSION").read_text() == "15"
