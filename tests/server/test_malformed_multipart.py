"""Malformed multipart uploads (found by the schemathesis run) are a 400 envelope, never a 500."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

BAD_BODIES = [
    b"10000000.0--0123456789abcdef--",  # no part headers at all
    b'--0123456789abcdef\r\nContent-Disposition: form-data; name="\x1fd=\xf0\xb7"\r\n\r\nx\r\n--0123456789abcdef--',
    b"--wrong\r\n\r\n",  # a boundary other than the declared one
]


async def ids(client: Any, headers: dict[str, str]) -> tuple[str, str]:
    async def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        resp = await client.post("/api/v1" + path, json=body, headers=headers)
        assert resp.status == 201, await resp.text()
        return dict(await resp.json())

    ws = await post("/workspaces", {"name": "w"})
    project = await post(f"/workspaces/{ws['id']}/projects", {"name": "p"})
    module = await post("/modules", {"name": "m", "project_id": project["id"]})
    obj = await post(f"/modules/{module['id']}/objects", {"heading": "h"})
    return project["id"], obj["id"]


@pytest.mark.parametrize("body", BAD_BODIES)
async def test_malformed_multipart_is_a_400(client: Any, admin_token: str, auth: Callable[[str], dict[str, str]],
                                            body: bytes) -> None:
    headers = auth(admin_token)
    project_id, object_id = await ids(client, headers)
    for path in (f"/api/v1/projects/{project_id}/reqif/import", f"/api/v1/objects/{object_id}/attachments"):
        resp = await client.post(path, data=body, headers={
            **headers, "Content-Type": "multipart/form-data; boundary=0123456789abcdef"})
        assert resp.status == 400, (path, resp.status, await resp.text())
        assert (await resp.json())["error"]["code"] == "BAD_REQUEST"
