"""S3-compatible attachment storage (SeaweedFS, MinIO, AWS) with boto3 calls in worker threads.

Uploads stream: at most one multipart part (8 MiB) is held in memory, and the SHA-256 and size are
computed on the way. Any S3 failure, or S3 not being configured, is a 503
``"attachment storage unavailable"`` for the caller, never a 500.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from req1_server.config import Settings
from req1_server.errors import ApiError, unavailable

log = logging.getLogger("req1.storage")
PART_SIZE = 8 * 1024 * 1024
READ_CHUNK = 256 * 1024
UNAVAILABLE = "attachment storage unavailable"


@dataclass
class StoredObject:
    size: int
    content_type: str | None
    chunks: AsyncIterator[bytes]


class Storage:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.bucket = settings.s3_bucket
        self.up = False
        self._client: Any = None
        if settings.s3_enabled:
            import boto3
            from botocore.config import Config

            self._client = boto3.client(
                "s3",
                endpoint_url=settings.s3_endpoint,
                aws_access_key_id=settings.s3_access_key,
                aws_secret_access_key=settings.s3_secret_key,
                region_name=settings.s3_region,
                config=Config(
                    s3={"addressing_style": "path"} if settings.s3_endpoint else {},
                    signature_version="s3v4",
                    retries={"max_attempts": 2},
                    connect_timeout=2,
                    read_timeout=30,
                    max_pool_connections=20,
                ),
            )

    def close(self) -> None:
        """Close the client's connection pool (shutdown)."""
        if self._client is not None:
            with contextlib.suppress(Exception):
                self._client.close()

    @property
    def configured(self) -> bool:
        return self._client is not None

    def state(self) -> str:
        if not self.configured:
            return "disabled"
        return "ok" if self.up else "down"

    async def _call(self, method: str, **kwargs: Any) -> Any:
        if self._client is None:
            raise unavailable(UNAVAILABLE)
        try:
            result = await asyncio.to_thread(getattr(self._client, method), **kwargs)
        except ApiError:
            raise
        except Exception as err:
            if _is_not_found(err) and not _is_missing_bucket(err):
                raise
            self.up = False
            log.warning("S3 %s failed: %s", method, err)
            raise unavailable(UNAVAILABLE) from err
        self.up = True
        return result

    async def ensure_bucket(self) -> None:
        """Create the bucket if it is missing; S3 being down only marks attachments unavailable."""
        if self._client is None:
            return
        try:
            await self._call("head_bucket", Bucket=self.bucket)
        except ApiError:
            return
        except Exception as err:
            if not _is_not_found(err):
                return
            with contextlib.suppress(ApiError):
                await self._call("create_bucket", Bucket=self.bucket)
                log.info("created S3 bucket %s", self.bucket)

    async def check(self) -> bool:
        if self._client is None:
            return False
        try:
            await asyncio.wait_for(self._call("head_bucket", Bucket=self.bucket), timeout=2.0)
        except Exception:
            self.up = False
            return False
        return True

    async def put_stream(self, key: str, chunks: AsyncIterator[bytes], content_type: str | None,
                         max_bytes: int | None = None) -> tuple[int, str]:
        """Upload from an async byte iterator; returns (size, sha256 hex). Raises 413 past ``max_bytes``."""
        from req1_server.errors import payload_too_large

        sha = hashlib.sha256()
        size = 0
        buffer = bytearray()
        upload_id: str | None = None
        parts: list[dict[str, Any]] = []
        extra = {"ContentType": content_type} if content_type else {}
        try:
            async for chunk in chunks:
                size += len(chunk)
                if max_bytes is not None and size > max_bytes:
                    raise payload_too_large(f"upload exceeds {max_bytes} bytes")
                sha.update(chunk)
                buffer.extend(chunk)
                if len(buffer) >= PART_SIZE:
                    if upload_id is None:
                        created = await self._call("create_multipart_upload", Bucket=self.bucket, Key=key, **extra)
                        upload_id = created["UploadId"]
                    part = await self._call("upload_part", Bucket=self.bucket, Key=key, UploadId=upload_id,
                                            PartNumber=len(parts) + 1, Body=bytes(buffer))
                    parts.append({"ETag": part["ETag"], "PartNumber": len(parts) + 1})
                    buffer.clear()
            if upload_id is None:
                await self._call("put_object", Bucket=self.bucket, Key=key, Body=bytes(buffer), **extra)
            else:
                if buffer:
                    part = await self._call("upload_part", Bucket=self.bucket, Key=key, UploadId=upload_id,
                                            PartNumber=len(parts) + 1, Body=bytes(buffer))
                    parts.append({"ETag": part["ETag"], "PartNumber": len(parts) + 1})
                await self._call("complete_multipart_upload", Bucket=self.bucket, Key=key, UploadId=upload_id,
                                 MultipartUpload={"Parts": parts})
        except BaseException:
            if upload_id is not None:
                with contextlib.suppress(Exception):
                    await self._call("abort_multipart_upload", Bucket=self.bucket, Key=key, UploadId=upload_id)
            raise
        return size, sha.hexdigest()

    async def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> tuple[int, str]:
        async def one() -> AsyncIterator[bytes]:
            yield data

        return await self.put_stream(key, one(), content_type)

    async def get(self, key: str) -> StoredObject:
        """The object as a stream of chunks; 404-ish S3 errors raise KeyError."""
        try:
            result = await self._call("get_object", Bucket=self.bucket, Key=key)
        except ApiError:
            raise
        except Exception as err:
            raise KeyError(key) from err
        body = result["Body"]

        async def chunks() -> AsyncIterator[bytes]:
            try:
                while True:
                    chunk = await asyncio.to_thread(body.read, READ_CHUNK)
                    if not chunk:
                        return
                    yield chunk
            finally:
                body.close()

        return StoredObject(int(result.get("ContentLength", 0)), result.get("ContentType"), chunks())

    async def get_bytes(self, key: str) -> bytes:
        obj = await self.get(key)
        return b"".join([chunk async for chunk in obj.chunks])

    async def delete(self, key: str) -> None:
        with contextlib.suppress(KeyError):
            try:
                await self._call("delete_object", Bucket=self.bucket, Key=key)
            except ApiError:
                raise
            except Exception as err:
                raise KeyError(key) from err


def _is_missing_bucket(err: Exception) -> bool:
    """The bucket itself is gone (HEAD answers a bare 404 only for the bucket check, which handles it)."""
    response = getattr(err, "response", None)
    return isinstance(response, dict) and str(response.get("Error", {}).get("Code", "")) == "NoSuchBucket"


def _is_not_found(err: Exception) -> bool:
    response = getattr(err, "response", None)
    if not isinstance(response, dict):
        return False
    code = str(response.get("Error", {}).get("Code", ""))
    return code in ("404", "NoSuchKey", "NoSuchBucket", "NotFound")


STORAGE: web.AppKey[Storage] = web.AppKey("storage", Storage)


def storage(request: web.Request) -> Storage:
    return request.app[STORAGE]
