"""Attachments in backups: copy the attachment objects to the backup destination, and back into a restored instance.

`python -m req1_server.attachments_sync backup` copies every object under `attachments/` of the instance's bucket
to `<REQ1_BACKUP_URL>/attachments/` that is missing there or differs in size. Nothing is ever deleted from the
copy: attachment keys are immutable (`attachments/<object>/<attachment id>`), so the copy is a superset and a
database restored to any moment finds every attachment it references. `restore` copies the other way, from
`<REQ1_RESTORE_URL>/attachments/` into the (new) instance's bucket. Downloads verify each object's SHA-256
against the database, so a damaged copy is detected when read. Blocking boto3: this runs as a Job, not in the API.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

PREFIX = "attachments/"


@dataclass(frozen=True)
class Place:
    """A bucket and a key prefix in one S3 service, with a client for it."""

    client: Any
    bucket: str
    prefix: str  # ends with "/" or is empty

    def sizes(self) -> dict[str, int]:
        """Size per key below the prefix, keys relative to it."""
        out: dict[str, int] = {}
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix):
            for o in page.get("Contents", []):
                out[o["Key"][len(self.prefix):]] = int(o["Size"])
        return out


def client(endpoint: str, access_key: str, secret_key: str, region: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3", endpoint_url=endpoint or None, aws_access_key_id=access_key, aws_secret_access_key=secret_key,
        region_name=region or "us-east-1",
        config=Config(s3={"addressing_style": "path"} if endpoint else {}, signature_version="s3v4"),
    )


def split_url(url: str) -> tuple[str, str]:
    """`s3://bucket/some/prefix` → (bucket, `some/prefix/`)."""
    if not url.startswith("s3://") or len(url) <= len("s3://"):
        raise ValueError(f"not an s3:// URL: {url!r}")
    bucket, _, prefix = url.removeprefix("s3://").partition("/")
    prefix = prefix.strip("/")
    return bucket, f"{prefix}/" if prefix else ""


@dataclass
class Report:
    copied: int = 0
    bytes: int = 0
    present: int = 0
    seconds: float = 0.0


def sync(source: Place, target: Place) -> Report:
    """Copy what the target lacks (or holds with another size); never delete."""
    began = time.monotonic()
    report = Report()
    have = target.sizes()
    for key, size in sorted(source.sizes().items()):
        if have.get(key) == size:
            report.present += 1
            continue
        body = source.client.get_object(Bucket=source.bucket, Key=source.prefix + key)["Body"]
        target.client.upload_fileobj(body, target.bucket, target.prefix + key)
        report.copied += 1
        report.bytes += size
    report.seconds = round(time.monotonic() - began, 2)
    return report


def places(mode: str, env: Mapping[str, str]) -> tuple[Place, Place]:
    """(source, target) for `backup` or `restore`, from the app's S3_* and the REQ1_BACKUP_*/REQ1_RESTORE_* vars."""
    app = Place(client(env.get("S3_ENDPOINT", ""), env["S3_ACCESS_KEY"], env["S3_SECRET_KEY"],
                       env.get("S3_REGION", "")), env["S3_BUCKET"], PREFIX)
    side = "REQ1_BACKUP" if mode == "backup" else "REQ1_RESTORE"
    bucket, prefix = split_url(env[f"{side}_URL"])
    other = Place(client(env.get(f"{side}_ENDPOINT_URL", ""), env[f"{side}_ACCESS_KEY"], env[f"{side}_SECRET_KEY"],
                         env.get(f"{side}_REGION", "")), bucket, prefix + PREFIX)
    return (app, other) if mode == "backup" else (other, app)


def main(argv: list[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m req1_server.attachments_sync", description=__doc__.split("\n")[0])
    parser.add_argument("mode", choices=["backup", "restore"])
    args = parser.parse_args(argv)
    try:
        source, target = places(args.mode, os.environ if env is None else env)
        report = sync(source, target)
    except KeyError as e:
        print(f"attachments-sync: missing setting {e.args[0]}", file=sys.stderr)
        return 2
    except Exception as e:
        print(f"attachments-sync {args.mode} failed: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    print(json.dumps({"mode": args.mode, **report.__dict__}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
