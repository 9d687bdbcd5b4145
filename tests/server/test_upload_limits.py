"""MAX_UPLOAD_BYTES bounds attachments, ReqIF and CSV imports: larger bodies get 413, nothing is stored."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from domain_api import Api

LIMIT = 4096


@pytest.fixture
def server_env(server_env: dict[str, str]) -> dict[str, str]:
    return {**server_env, "MAX_UPLOAD_BYTES": str(LIMIT)}


@pytest.fixture
async def api(client: Any, admin_token: str) -> Api:
    return Api(client, admin_token)


def upload(content: bytes, name: str) -> aiohttp.FormData:
    data = aiohttp.FormData(quote_fields=False)
    data.add_field("file", content, filename=name, content_type="application/octet-stream")
    return data


async def test_oversized_uploads(api: Api, client: Any, s3_bucket: Any) -> None:
    module = await api.module()
    obj = await api.obj(module["id"], heading="o")
    big = b"x" * (LIMIT * 3)
    await api.call("POST", f"/objects/{obj['id']}/attachments", data=upload(big, "big.bin"), expect=413)
    assert await api.get(f"/objects/{obj['id']}/attachments") == []
    listing = s3_bucket.server.client().list_objects_v2(Bucket=s3_bucket.name)
    assert listing.get("KeyCount", 0) == 0, "a refused upload leaves nothing in S3"
    ok = await api.call("POST", f"/objects/{obj['id']}/attachments", data=upload(b"small", "s.txt"), expect=201)
    assert ok["size_bytes"] == 5
    await api.call("POST", f"/projects/{module['project_id']}/reqif/import", data=upload(big, "a.reqif"),
                   expect=413)
    resp = await client.post(f"/api/v1/modules/{module['id']}/import/csv", data=b"level\n" + b"1\n" * LIMIT,
                             headers={"Authorization": f"Bearer {api.token}", "Content-Type": "text/csv"})
    assert resp.status == 413
    assert len(await api.objects(module["id"])) == 1
