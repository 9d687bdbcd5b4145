"""The rendered SeaweedFS master, volume and filer/S3 command lines, the generated S3 identities file and the
bucket Job's script, run for real with the local `weed` binary: the bucket gets created, the generated keys can
write and read objects, and other keys are refused.

Only what a pod provides is adapted: DNS names become 127.0.0.1, the fixed container ports become free ports
(each with its gRPC port at +10000, SeaweedFS' convention), /data and the mounted secret become scratch paths.
"""

from __future__ import annotations

import base64
import socket
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from req1_operator.render import RenderInput, names, seaweedfs, secrets
from req1_operator.spec import parse_spec
from req1_testenv.process import ManagedProcess, free_port
from req1_testenv.scratch import remove_tree, scratch_dir
from req1_testenv.seaweedfs import weed_binary

pytestmark = pytest.mark.dataplane


def port_pair() -> int:
    """A free port whose +10000 (the gRPC port SeaweedFS derives) is free too."""
    while True:
        port = free_port()
        if port + 10000 > 65535:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        return port


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as r:  # noqa: S310 (http://127.0.0.1 only)
            return bool(r.status < 500)
    except OSError:
        return False


def accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


@pytest.fixture
def workdir() -> Iterator[Path]:
    path = scratch_dir("sw-render")
    yield path
    remove_tree(path)


def test_rendered_seaweedfs_serves_s3_with_generated_keys(workdir: Path) -> None:
    inp = RenderInput(name="demo", namespace="ns", uid="u", spec=parse_spec({"storage": {"bucket": "attachments"}}))
    objs = {(o["kind"], o["metadata"]["name"]): o for o in seaweedfs.render(inp)}
    secret = next(o for o in secrets.render(inp) if o["metadata"]["name"] == names.seaweedfs_s3_secret("demo"))
    keys = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    (workdir / "s3.json").write_text(keys["s3.json"])

    ports = {
        seaweedfs.MASTER_PORT: port_pair(),
        seaweedfs.VOLUME_PORT: port_pair(),
        seaweedfs.FILER_PORT: port_pair(),
        8333: port_pair(),
    }
    hosts = [
        "$(POD_NAME).demo-seaweedfs-master.ns.svc",
        "demo-seaweedfs-master-0.demo-seaweedfs-master.ns.svc",
        "demo-seaweedfs-filer.ns.svc",
        "$(POD_IP)",
    ]

    def adapt(text: str, data: Path) -> str:
        for host in hosts:
            text = text.replace(host, "127.0.0.1")
        for inside, outside in ports.items():
            text = text.replace(f":{inside}", f":{outside}").replace(f"port={inside}", f"port={outside}")
        return text.replace("/etc/seaweedfs/s3.json", str(workdir / "s3.json")).replace("=/data", f"={data}")

    def container(kind: str, name: str) -> dict[str, Any]:
        out: dict[str, Any] = objs[(kind, name)]["spec"]["template"]["spec"]["containers"][0]
        return out

    started: list[ManagedProcess] = []
    try:
        for role, ready_path, port in [
            ("master", "/cluster/status", ports[seaweedfs.MASTER_PORT]),
            ("volume", "/status", ports[seaweedfs.VOLUME_PORT]),
            ("filer", "/", ports[seaweedfs.FILER_PORT]),
        ]:
            data = workdir / role
            data.mkdir()
            args = [adapt(a, data) for a in container("StatefulSet", f"demo-seaweedfs-{role}")["args"]]
            proc = ManagedProcess(
                role,
                [weed_binary(), *args],
                workdir,
                # the filer's S3 gateway comes up after the filer itself: wait for both, or a busy machine sees
                # "connection refused" from the first S3 call
                ready=lambda p=port, path=ready_path, r=role: http_ok(f"http://127.0.0.1:{p}{path}") and (  # type: ignore[misc]
                    r != "filer" or accepts(ports[8333])),
                timeout=90,
            )
            started.append(proc.start())

        script = adapt(container("Job", "demo-seaweedfs-bucket")["command"][2], workdir)

        def run_job() -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                ["sh", "-c", script.replace("weed shell", f"{weed_binary()} shell")],
                capture_output=True,
                text=True,
                timeout=180,
                cwd=workdir,
                env={"HOME": str(workdir), "PATH": "/usr/bin:/bin"},
            )

        job = run_job()
        assert job.returncode == 0, job.stdout + job.stderr
        again = run_job()  # a re-run Job leaves the existing bucket alone
        assert again.returncode == 0 and "bucket attachments exists" in again.stdout, again.stdout + again.stderr

        endpoint = f"http://127.0.0.1:{ports[8333]}"

        def client(access: str, secret_key: str) -> Any:
            return boto3.client(
                "s3", endpoint_url=endpoint, aws_access_key_id=access, aws_secret_access_key=secret_key,
                region_name="us-east-1", config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2}),
            )  # fmt: skip

        s3 = client(keys["accessKey"], keys["secretKey"])
        s3.put_object(Bucket="attachments", Key="a/b.txt", Body=b"hello")
        assert s3.get_object(Bucket="attachments", Key="a/b.txt")["Body"].read() == b"hello"
        with pytest.raises(ClientError):
            client(keys["accessKey"], "wrong-secret-key-wrong-secret-key").get_object(
                Bucket="attachments", Key="a/b.txt"
            )
    finally:
        for proc in reversed(started):
            proc.stop()
