"""S3 storage on the real SeaweedFS: streaming multipart upload, download, delete, outage."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from req1_server.config import Settings
from req1_server.errors import ApiError
from req1_server.storage import PART_SIZE, Storage


def storage_for(env: dict[str, str]) -> Storage:
    return Storage(Settings.from_env({"DATABASE_URL": "postgresql://u:p@127.0.0.1/x", **env}))


async def chunks(total: int, size: int = 1024 * 1024) -> AsyncIterator[bytes]:
    sent = 0
    seed = (bytes(range(256)) * (size // 256 + 1))[:size]
    while sent < total:
        piece = seed[: min(size, total - sent)]
        sent += len(piece)
        yield piece


async def test_streamed_multipart_roundtrip(s3_bucket: Any) -> None:
    storage = storage_for(s3_bucket.env())
    await storage.ensure_bucket()
    assert storage.state() == "ok"
    total = 2 * PART_SIZE + 12345  # three parts: multipart upload
    expected = hashlib.sha256()
    async for piece in chunks(total):
        expected.update(piece)
    size, digest = await storage.put_stream("big/object.bin", chunks(total), "application/octet-stream")
    assert size == total and digest == expected.hexdigest()
    stored = await storage.get("big/object.bin")
    assert stored.size == total
    got = hashlib.sha256()
    async for piece in stored.chunks:
        got.update(piece)
    assert got.hexdigest() == digest
    await storage.delete("big/object.bin")
    with pytest.raises(KeyError):
        await storage.get("big/object.bin")
    await storage.delete("big/object.bin")  # deleting twice is fine


async def test_small_put_and_size_limit(s3_bucket: Any) -> None:
    storage = storage_for(s3_bucket.env())
    size, digest = await storage.put_bytes("small.txt", b"hello", "text/plain")
    assert size == 5 and digest == hashlib.sha256(b"hello").hexdigest()
    assert await storage.get_bytes("small.txt") == b"hello"
    with pytest.raises(ApiError) as err:
        await storage.put_stream("too-big", chunks(3 * 1024 * 1024), None, max_bytes=2 * 1024 * 1024)
    assert err.value.status == 413


async def test_bucket_created_at_start(s3_bucket: Any) -> None:
    name = f"t-{uuid.uuid4().hex[:16]}"
    storage = storage_for({**s3_bucket.env(), "S3_BUCKET": name})
    await storage.ensure_bucket()
    assert await storage.check()
    await storage.put_bytes("x", b"1")


async def test_unavailable_is_503() -> None:
    down = storage_for({"S3_ENDPOINT": "http://127.0.0.1:9", "S3_BUCKET": "b", "S3_ACCESS_KEY": "a",
                        "S3_SECRET_KEY": "s"})
    await down.ensure_bucket()
    assert not await down.check() and down.state() == "down"
    with pytest.raises(ApiError) as err:
        await down.put_bytes("k", b"data")
    assert (err.value.status, err.value.message) == (503, "attachment storage unavailable")
    off = storage_for({})
    assert off.state() == "disabled"
    with pytest.raises(ApiError) as err:
        await off.get("k")
    assert err.value.status == 503


async def test_missing_bucket_is_unavailable_not_500(s3_bucket: Any) -> None:
    """#13.10: a bucket deleted (or never created) under the server is a 503, not a missing object (a 500)."""
    storage = storage_for({**s3_bucket.env(), "S3_BUCKET": f"t-missing-{uuid.uuid4().hex[:12]}"})
    with pytest.raises(ApiError) as get:
        await storage.get("a/b")
    assert get.value.status == 503 and get.value.message == "attachment storage unavailable"
    assert storage.state() == "down"


def test_dead_code_is_gone() -> None:
    """#13: downloads go through the server (verified), so there is no presigned-URL path; no unused read cache,
    optional-user helper or revocation check beside the gate's."""
    import importlib.util

    from req1_server import routing
    from req1_server.auth.sessions import Sessions

    assert not hasattr(Storage, "presign")
    assert importlib.util.find_spec("req1_server.cache") is None
    assert not hasattr(routing, "optional_user")
    assert not hasattr(Sessions, "is_revoked")
