"""Attachments in backups against a real SeaweedFS: a backup copies what is missing and never deletes, a second
run copies nothing, a restore brings every object back byte for byte into a new bucket."""

from __future__ import annotations

import hashlib
import os
import uuid
from typing import Any

from req1_server.attachments_sync import main, split_url


def _env(s3_bucket: Any, backup_url: str, restore_url: str, bucket: str | None = None) -> dict[str, str]:
    server = s3_bucket.server
    keys = {"ENDPOINT_URL": server.endpoint, "ACCESS_KEY": server.access_key, "SECRET_KEY": server.secret_key}
    return {**s3_bucket.env(), **({"S3_BUCKET": bucket} if bucket else {}),
            "REQ1_BACKUP_URL": backup_url, "REQ1_RESTORE_URL": restore_url,
            **{f"REQ1_BACKUP_{k}": v for k, v in keys.items()}, **{f"REQ1_RESTORE_{k}": v for k, v in keys.items()}}


def test_backup_is_incremental_and_restore_is_exact(s3_bucket: Any, capsys: Any) -> None:
    server = s3_bucket.server
    s3 = server.client()
    backups, fresh = f"b-{uuid.uuid4().hex[:12]}", f"r-{uuid.uuid4().hex[:12]}"
    server.create_bucket(backups)
    server.create_bucket(fresh)
    files = {f"attachments/{uuid.uuid4()}/{uuid.uuid4()}": os.urandom(n) for n in (10, 70_000, 1)}
    for key, data in files.items():
        s3.put_object(Bucket=s3_bucket.name, Key=key, Body=data)
    s3.put_object(Bucket=s3_bucket.name, Key="other/not-an-attachment", Body=b"x")
    url = f"s3://{backups}/backups/ns/prod"
    env = _env(s3_bucket, url, url)

    assert main(["backup"], env) == 0
    assert '"copied": 3' in capsys.readouterr().out
    copied = {o["Key"] for o in s3.list_objects_v2(Bucket=backups)["Contents"]}
    assert copied == {f"backups/ns/prod/{k}" for k in files}

    gone = next(iter(files))
    s3.delete_object(Bucket=s3_bucket.name, Key=gone)  # an attachment deleted later stays in the copy
    extra = f"attachments/{uuid.uuid4()}/{uuid.uuid4()}"
    s3.put_object(Bucket=s3_bucket.name, Key=extra, Body=b"new")
    assert main(["backup"], env) == 0
    out = capsys.readouterr().out
    assert '"copied": 1' in out and '"present": 2' in out
    assert f"backups/ns/prod/{gone}" in {o["Key"] for o in s3.list_objects_v2(Bucket=backups)["Contents"]}

    assert main(["restore"], _env(s3_bucket, url, url, bucket=fresh)) == 0
    restored = {o["Key"]: o for o in s3.list_objects_v2(Bucket=fresh)["Contents"]}
    assert set(restored) == {*files, extra}
    for key, data in files.items():
        got = s3.get_object(Bucket=fresh, Key=key)["Body"].read()
        assert hashlib.sha256(got).hexdigest() == hashlib.sha256(data).hexdigest()


def test_bad_settings_are_clear(s3_bucket: Any, capsys: Any) -> None:
    env = _env(s3_bucket, "not-a-url", "s3://x")
    assert main(["backup"], env) == 1
    assert "not an s3:// URL" in capsys.readouterr().err
    env["REQ1_BACKUP_URL"] = "s3://somewhere/backups"
    del env["REQ1_BACKUP_SECRET_KEY"]
    assert main(["backup"], env) == 2
    assert "missing setting REQ1_BACKUP_SECRET_KEY" in capsys.readouterr().err
    assert split_url("s3://bucket") == ("bucket", "")
    assert split_url("s3://bucket/a/b/") == ("bucket", "a/b/")
