"""The real data-plane services answer as the rest of the suite expects."""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path

import asyncpg
import pytest
import redis.asyncio as aioredis
from botocore.exceptions import ClientError

from req1_testenv.postgres import PostgresServer
from req1_testenv.process import ManagedProcess, ServiceStartError, pid_alive
from req1_testenv.pytest_services import S3Bucket
from req1_testenv.redis import RedisServer
from req1_testenv.seaweedfs import SeaweedS3


async def test_postgres_sql_round_trip(pg_dsn: str) -> None:
    conn = await asyncpg.connect(pg_dsn)
    try:
        await conn.execute("CREATE TABLE note (id int PRIMARY KEY, body text)")
        await conn.execute("INSERT INTO note VALUES ($1, $2)", 1, "héllo")
        assert await conn.fetchval("SELECT body FROM note WHERE id = 1") == "héllo"
        assert (await conn.fetchval("SHOW server_version")).startswith("15.")
    finally:
        await conn.close()


async def test_each_test_gets_an_empty_database(pg_dsn: str) -> None:
    conn = await asyncpg.connect(pg_dsn)
    try:
        tables = await conn.fetchval("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        assert tables == 0
    finally:
        await conn.close()


def test_postgres_replica_streams(pg_server: PostgresServer, services_root: Path) -> None:
    replica = pg_server.start_replica(services_root / f"replica-{uuid.uuid4().hex[:6]}")
    try:
        table = f"r_{uuid.uuid4().hex[:8]}"
        pg_server.psql(f"CREATE TABLE {table} (x int); INSERT INTO {table} VALUES (7)")
        for _ in range(100):
            try:
                if replica.psql(f"SELECT x FROM {table}") == "7":
                    break
            except ServiceStartError:
                pass
            asyncio.run(asyncio.sleep(0.1))
        else:
            pytest.fail("replica never received the row")
        assert replica.psql("SELECT pg_is_in_recovery()") == "t"
    finally:
        replica.stop()
    assert not replica.process.running()


async def test_redis_set_get(redis_url: str) -> None:
    client = aioredis.from_url(redis_url)
    try:
        await client.set("greeting", "hi", ex=10)
        assert await client.get("greeting") == b"hi"
    finally:
        await client.aclose()


def test_s3_put_get_list(s3_bucket: S3Bucket) -> None:
    client = s3_bucket.server.client()
    client.put_object(Bucket=s3_bucket.name, Key="docs/a.txt", Body=b"alpha")
    client.put_object(Bucket=s3_bucket.name, Key="docs/b.txt", Body=b"beta")
    assert client.get_object(Bucket=s3_bucket.name, Key="docs/a.txt")["Body"].read() == b"alpha"
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=s3_bucket.name, Prefix="docs/")["Contents"]]
    assert keys == ["docs/a.txt", "docs/b.txt"]


def test_s3_multipart_upload(s3_bucket: S3Bucket) -> None:
    client = s3_bucket.server.client()
    part = os.urandom(5 * 1024 * 1024)
    upload = client.create_multipart_upload(Bucket=s3_bucket.name, Key="big.bin")
    etags = []
    for number in (1, 2):
        res = client.upload_part(Bucket=s3_bucket.name, Key="big.bin", UploadId=upload["UploadId"],
                                 PartNumber=number, Body=part)
        etags.append({"ETag": res["ETag"], "PartNumber": number})
    client.complete_multipart_upload(Bucket=s3_bucket.name, Key="big.bin", UploadId=upload["UploadId"],
                                     MultipartUpload={"Parts": etags})
    body = client.get_object(Bucket=s3_bucket.name, Key="big.bin")["Body"].read()
    assert body == part + part


def test_s3_wrong_keys_rejected(s3_bucket: S3Bucket) -> None:
    bad = s3_bucket.server.client(access_key="nobody", secret_key="wrong-secret")
    with pytest.raises(ClientError) as err:
        bad.list_objects_v2(Bucket=s3_bucket.name)
    rejected = {"InvalidAccessKeyId", "AccessDenied", "SignatureDoesNotMatch"}
    assert err.value.response["Error"]["Code"] in rejected
    wrong_secret = s3_bucket.server.client(secret_key="wrong-secret")
    with pytest.raises(ClientError):
        wrong_secret.put_object(Bucket=s3_bucket.name, Key="x", Body=b"x")


def test_failed_start_reports_log_tail(tmp_path: Path) -> None:
    proc = ManagedProcess("broken", ["sh", "-c", "echo boom-marker; exit 3"], tmp_path)
    with pytest.raises(ServiceStartError, match="boom-marker"):
        proc.start()


def test_stop_kills_only_the_recorded_pid(tmp_path: Path) -> None:
    first = ManagedProcess("sleeper-a", ["sleep", "60"], tmp_path).start()
    second = ManagedProcess("sleeper-b", ["sleep", "60"], tmp_path).start()
    pid_a, pid_b = first.pid, second.pid
    assert pid_a and pid_b
    first.stop()
    assert not pid_alive(pid_a)
    assert pid_alive(pid_b)
    second.stop()
    assert not pid_alive(pid_b)


def test_redis_restart_on_same_port(tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "r").start()
    port = server.port
    server.stop()
    assert not server.running()
    server.start()
    assert server.running() and server.port == port
    server.stop()


def test_seaweed_unique_ports(tmp_path: Path) -> None:
    a = SeaweedS3(tmp_path / "a")
    b = SeaweedS3(tmp_path / "b")
    assert a.s3_port != b.s3_port
