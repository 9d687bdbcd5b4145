"""Where backups go and come from, as the instance manager's environment (render/backup.py)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from req1_operator.render import RenderInput, backup, postgres
from req1_operator.spec import parse_spec

STORE = {"endpoint": "https://s3.example.com", "bucket": "dr-backups", "path": "/req1/", "secretName": "dr-keys",
         "region": "eu-west-1"}


def make(spec: dict[str, Any] | None = None) -> RenderInput:
    return RenderInput(name="demo", namespace="ns", uid="u", spec=parse_spec(spec or {}))


def env_of(inp: RenderInput) -> dict[str, dict[str, Any]]:
    (c,) = postgres.render_statefulset(inp)["spec"]["template"]["spec"]["containers"]
    return {e["name"]: e for e in c["env"]}


def test_backups_off_renders_nothing() -> None:
    env = env_of(make())
    assert not [k for k in env if k.startswith(("REQ1_BACKUP", "REQ1_RESTORE", "AWS_"))]
    assert backup.target(make()) is None


def test_own_seaweedfs_by_default_and_flagged_in_cluster() -> None:
    inp = make({"backup": {"enabled": True, "retention": "2w"}})
    t = backup.target(inp)
    assert t is not None and t.in_cluster and t.url == "s3://req1/backups"
    assert t.instance_url("ns", "demo") == "s3://req1/backups/ns/demo"
    env = env_of(inp)
    assert env["REQ1_BACKUP_DESTINATION"]["value"] == "s3://req1/backups"
    assert env["REQ1_BACKUP_ENDPOINT_URL"]["value"] == "http://demo-seaweedfs-filer.ns.svc:8333"
    assert env["REQ1_BACKUP_RETENTION_DAYS"]["value"] == "14"
    assert env["AWS_ACCESS_KEY_ID"]["valueFrom"]["secretKeyRef"] == {"name": "demo-seaweedfs-s3", "key": "accessKey"}


def test_external_destination_wins_and_is_independent() -> None:
    inp = make({"backup": {"enabled": True, "destination": STORE}})
    t = backup.target(inp)
    assert t is not None and not t.in_cluster and t.url == "s3://dr-backups/req1"
    env = env_of(inp)
    assert env["REQ1_BACKUP_ENDPOINT_URL"]["value"] == "https://s3.example.com"
    assert env["AWS_SECRET_ACCESS_KEY"]["valueFrom"]["secretKeyRef"] == {"name": "dr-keys", "key": "secretKey"}
    assert env["AWS_DEFAULT_REGION"]["value"] == "eu-west-1"


def test_external_attachment_store_is_used_when_no_destination() -> None:
    ext = {"endpoint": "https://minio.example.com", "bucket": "att", "secretName": "att-keys"}
    t = backup.target(make({"backup": {"enabled": True}, "storage": {"external": ext}}))
    assert t is not None and t.url == "s3://att/backups" and not t.in_cluster and t.secret_name == "att-keys"


@pytest.mark.parametrize(("retention", "days"), [("7d", 7), ("2w", 14), ("1m", 30)])
def test_retention_days(retention: str, days: int) -> None:
    assert backup.retention_days(retention) == days


def test_restore_has_its_own_credentials() -> None:
    source = {**STORE, "path": "req1/ns/old"}
    env = env_of(make({"restore": {"source": source, "targetTime": "2026-12-03T06:15:30Z"},
                       "backup": {"enabled": True}}))
    assert env["REQ1_RESTORE_SOURCE"]["value"] == "s3://dr-backups/req1/ns/old"
    assert env["REQ1_RESTORE_BACKUP_ID"]["value"] == "latest"
    assert env["REQ1_RESTORE_TARGET_TIME"]["value"] == "2026-12-03T06:15:30Z"
    assert env["REQ1_RESTORE_AWS_ACCESS_KEY_ID"]["valueFrom"]["secretKeyRef"]["name"] == "dr-keys"
    assert env["AWS_ACCESS_KEY_ID"]["valueFrom"]["secretKeyRef"]["name"] == "demo-seaweedfs-s3"  # its own backups
    named = env_of(make({"restore": {"source": source, "backupId": "on-demand-x"}}))
    assert named["REQ1_RESTORE_BACKUP_ID"]["value"] == "on-demand-x" and "REQ1_RESTORE_TARGET_TIME" not in named


def test_unknown_time_zone_is_an_invalid_spec() -> None:
    with pytest.raises(ValidationError, match="unknown time zone"):
        parse_spec({"backup": {"enabled": True, "timeZone": "Mars/Olympus"}})
    assert parse_spec({"backup": {"timeZone": "Europe/Berlin"}}).backup.time_zone == "Europe/Berlin"


def _by_kind(objs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {o["kind"]: o for o in objs}


def test_attachments_copied_by_a_cronjob_next_to_the_backups() -> None:
    assert backup.render_attachments(make()) == []
    objs = _by_kind(backup.render_attachments(make({"backup": {"enabled": True, "destination": STORE}})))
    cron = objs["CronJob"]
    assert cron["metadata"]["name"] == "demo-attachments-backup" and cron["spec"]["concurrencyPolicy"] == "Forbid"
    pod = cron["spec"]["jobTemplate"]["spec"]["template"]
    (c,) = pod["spec"]["containers"]
    assert c["command"] == ["python", "-m", "req1_server.attachments_sync", "backup"]
    env = {e["name"]: e for e in c["env"]}
    assert env["REQ1_BACKUP_URL"]["value"] == "s3://dr-backups/req1/ns/demo"  # the instance's own prefix
    assert env["REQ1_BACKUP_ACCESS_KEY"]["valueFrom"]["secretKeyRef"]["name"] == "dr-keys"
    assert env["S3_ACCESS_KEY"]["valueFrom"]["secretKeyRef"]["name"] == "demo-seaweedfs-s3"  # the app's bucket
    assert c["envFrom"] == [{"configMapRef": {"name": "demo-api"}}]
    assert pod["metadata"]["labels"]["req1.io/db-client"] == "true"  # admitted by the SeaweedFS NetworkPolicy
    assert "Job" not in objs


def test_a_restore_copies_the_attachments_once() -> None:
    source = {**STORE, "path": "req1/ns/old"}
    objs = _by_kind(backup.render_attachments(make({"restore": {"source": source}})))
    job = objs["Job"]
    (c,) = job["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e for e in c["env"]}
    assert c["command"][-1] == "restore" and env["REQ1_RESTORE_URL"]["value"] == "s3://dr-backups/req1/ns/old"
    assert "CronJob" not in objs


def test_restore_drill_cronjob_daily_by_default_with_backups_only() -> None:
    assert backup.render_drill(make()) == []  # backups off: nothing to drill
    assert backup.render_drill(make({"backup": {"enabled": True, "drill": {"enabled": False}}})) == []
    (cron,) = backup.render_drill(make({"backup": {"enabled": True, "timeZone": "Europe/Berlin",
                                                   "destination": STORE}}))  # fmt: skip
    assert (cron["kind"], cron["metadata"]["name"]) == ("CronJob", "demo-restore-drill")
    spec = cron["spec"]
    assert (spec["schedule"], spec["timeZone"], spec["concurrencyPolicy"]) == ("0 5 * * *", "Europe/Berlin", "Forbid")
    assert cron["spec"]["jobTemplate"]["metadata"]["labels"]["app.kubernetes.io/component"] == "restore-drill"
    job = spec["jobTemplate"]["spec"]
    assert job["backoffLimit"] == 0  # a failed drill is a result, never retried into a pass
    pod = job["template"]["spec"]
    assert job["template"]["metadata"]["labels"]["req1.io/db-client"] == "true"  # SeaweedFS and PostgreSQL let it in
    assert pod["restartPolicy"] == "Never" and pod["serviceAccountName"] == "demo-postgres"  # it annotates its pod
    assert pod["automountServiceAccountToken"] is True and pod["securityContext"]["runAsUser"] == 999
    (c,) = pod["containers"]
    assert c["image"] == make().spec.postgres_image
    assert c["command"] == ["python3", "-m", "req1_operator.instance.drill"]
    env = {e["name"]: e for e in c["env"]}
    assert env["REQ1_BACKUP_DESTINATION"]["value"] == "s3://dr-backups/req1"
    assert env["AWS_ACCESS_KEY_ID"]["valueFrom"]["secretKeyRef"] == {"name": "dr-keys", "key": "accessKey"}
    assert env["REQ1_APP_DATABASE"]["valueFrom"]["secretKeyRef"]["key"] == "database"
    assert env["REQ1_DRILL_ATTACHMENT_SAMPLE"]["value"] == "20" and env["REQ1_DRILL_SCRATCH"]["value"] == "/scratch"
    assert env["POD_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    assert not [k for k in env if k.startswith("REQ1_RESTORE")]  # a drill never reads a restore source
    assert {"name": "scratch", "mountPath": "/scratch"} in c["volumeMounts"]


def test_restore_drill_schedule_and_sample_from_the_spec_and_refused_when_malformed() -> None:
    inp = make({"backup": {"enabled": True, "drill": {"schedule": "30 6 * * 0", "attachmentSample": 0}}})
    (cron,) = backup.render_drill(inp)
    assert cron["spec"]["schedule"] == "30 6 * * 0"
    (c,) = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    assert {e["name"]: e.get("value") for e in c["env"]}["REQ1_DRILL_ATTACHMENT_SAMPLE"] == "0"
    with pytest.raises(ValidationError, match="schedule"):
        make({"backup": {"enabled": True, "drill": {"schedule": "every day"}}})
    with pytest.raises(ValidationError, match=r"attachmentSample|attachment_sample"):
        make({"backup": {"drill": {"attachmentSample": -1}}})
