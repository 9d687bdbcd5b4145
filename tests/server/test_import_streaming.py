"""Imports stream and stay bounded (#13.4, #13.7): a ReqIF upload is spooled, not buffered whole, and parsed
element by element (a `.reqifz` never unpacks into memory, its tree is never whole); CSV work runs off the
event loop and outside the module lock."""

from __future__ import annotations

import asyncio
import io
import time
import tracemalloc
import zipfile
from typing import Any

import aiohttp
import pytest
from domain_api import Api

MiB = 1024 * 1024
UPLOAD_LIMIT = 4 * MiB


def reqif_xml(objects: int, padding: int) -> bytes:
    """A valid ReqIF whose SPEC-OBJECTs carry `padding` bytes each in DESC (read by nobody)."""
    pad = "p" * padding
    head = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<REQ-IF xmlns="http://www.omg.org/spec/ReqIF/20110401/reqif.xsd">'
        '<THE-HEADER><REQ-IF-HEADER IDENTIFIER="h"><REQ-IF-VERSION>1.2</REQ-IF-VERSION><TITLE>Big</TITLE>'
        "</REQ-IF-HEADER></THE-HEADER><CORE-CONTENT><REQ-IF-CONTENT>"
        '<DATATYPES><DATATYPE-DEFINITION-STRING IDENTIFIER="dt" LONG-NAME="s" MAX-LENGTH="1000"/></DATATYPES>'
        '<SPEC-TYPES><SPEC-OBJECT-TYPE IDENTIFIER="t" LONG-NAME="req"><SPEC-ATTRIBUTES>'
        '<ATTRIBUTE-DEFINITION-STRING IDENTIFIER="name" LONG-NAME="ReqIF.ChapterName"><TYPE>'
        "<DATATYPE-DEFINITION-STRING-REF>dt</DATATYPE-DEFINITION-STRING-REF></TYPE></ATTRIBUTE-DEFINITION-STRING>"
        "</SPEC-ATTRIBUTES></SPEC-OBJECT-TYPE></SPEC-TYPES><SPEC-OBJECTS>"
    )
    parts = [head]
    for i in range(objects):
        parts.append(
            f'<SPEC-OBJECT IDENTIFIER="o{i}" DESC="{pad}"><TYPE><SPEC-OBJECT-TYPE-REF>t</SPEC-OBJECT-TYPE-REF></TYPE>'
            f'<VALUES><ATTRIBUTE-VALUE-STRING THE-VALUE="Object {i}"><DEFINITION>'
            "<ATTRIBUTE-DEFINITION-STRING-REF>name</ATTRIBUTE-DEFINITION-STRING-REF></DEFINITION>"
            "</ATTRIBUTE-VALUE-STRING></VALUES></SPEC-OBJECT>")
    parts.append('</SPEC-OBJECTS><SPECIFICATIONS><SPECIFICATION IDENTIFIER="s" LONG-NAME="Spec"><CHILDREN>')
    parts.extend(f'<SPEC-HIERARCHY IDENTIFIER="h{i}"><OBJECT><SPEC-OBJECT-REF>o{i}</SPEC-OBJECT-REF></OBJECT>'
                 "</SPEC-HIERARCHY>" for i in range(objects))
    parts.append("</CHILDREN></SPECIFICATION></SPECIFICATIONS></REQ-IF-CONTENT></CORE-CONTENT></REQ-IF>")
    return "".join(parts).encode()


def upload(content: bytes, name: str) -> aiohttp.FormData:
    data = aiohttp.FormData()
    data.add_field("file", content, filename=name, content_type="application/octet-stream")
    return data


@pytest.fixture
def server_env(server_env: dict[str, str]) -> dict[str, str]:
    return {**server_env, "MAX_UPLOAD_BYTES": str(UPLOAD_LIMIT)}


@pytest.fixture
async def api(client: Any, admin_token: str) -> Api:
    return Api(client, admin_token)


async def peak_during(call: Any) -> tuple[Any, int]:
    """(result, peak bytes allocated by Python while `call` ran, above what was allocated before)."""
    tracemalloc.start()
    try:
        base, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        result = await call()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak - base


async def test_reqifz_import_memory_is_bounded(api: Api) -> None:
    xml = reqif_xml(1500, 16 * 1024)  # ~24 MiB of XML, ~0.1 MiB zipped
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("big.reqif", xml)
    module = await api.module()
    result, peak = await peak_during(lambda: api.call(
        "POST", f"/projects/{module['project_id']}/reqif/import", data=upload(zipped.getvalue(), "big.reqifz"),
        expect=201))
    assert result["objects_created"] == 1500
    print(f"\n.reqifz of {len(xml) / MiB:.1f} MiB XML: peak {peak / MiB:.1f} MiB")
    assert peak < len(xml) / 4, f"peak {peak / MiB:.1f} MiB for {len(xml) / MiB:.1f} MiB of XML"


async def test_reqif_upload_is_not_buffered_whole(api: Api) -> None:
    xml = reqif_xml(200, 16 * 1024)  # ~3.2 MiB, under the 4 MiB limit
    module = await api.module()
    result, peak = await peak_during(lambda: api.call(
        "POST", f"/projects/{module['project_id']}/reqif/import", data=upload(xml, "big.reqif"), expect=201))
    assert result["objects_created"] == 200
    print(f"\n.reqif of {len(xml) / MiB:.1f} MiB: peak {peak / MiB:.1f} MiB")
    # the client's own copy of the form is allocated before the call; the server must not hold it again
    assert peak < len(xml) * 3 / 4, f"peak {peak / MiB:.1f} MiB for a {len(xml) / MiB:.1f} MiB upload"


async def loop_gaps_during(call: Any) -> tuple[Any, float, float]:
    """(result, the longest the event loop went without running a 5 ms ticker, the call's duration)."""
    longest = 0.0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal longest
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            longest = max(longest, now - last)
            last = now

    task = asyncio.create_task(ticker())
    started = time.perf_counter()
    try:
        result = await call()
    finally:
        duration = time.perf_counter() - started
        done.set()
        await task
    return result, longest, duration


@pytest.fixture
def threads_of(monkeypatch: pytest.MonkeyPatch) -> dict[str, set[str]]:
    """The threads CSV parsing and publish rendering ran in."""
    import threading

    import req1_server.resources.publish as publish_resource
    import req1_server.store.csv_import as csv_store

    seen: dict[str, set[str]] = {"parse_rows": set(), "render": set()}
    for module, name in ((csv_store, "parse_rows"), (publish_resource, "render")):
        original = getattr(module, name)

        def wrapped(*args: Any, _original: Any = original, _name: str = name) -> Any:
            seen[_name].add(threading.current_thread().name)
            return _original(*args)

        monkeypatch.setattr(module, name, wrapped)
    return seen


async def test_csv_import_leaves_the_event_loop_free(api: Api, client: Any, threads_of: dict[str, set[str]]) -> None:
    m = (await api.module())["id"]
    rows = ["level,heading,body"]
    for i in range(1, 4001):
        rows.append(f'{i},Requirement {i},"<p>The system <b>shall</b> do thing {i} <i>quickly</i>, '
                    f'<a href=""http://x/{i}"">see</a> and <span onclick=""x()"">more</span>.</p>"')
    body = ("\n".join(rows) + "\n").encode()
    assert len(body) < UPLOAD_LIMIT

    async def run() -> Any:
        resp = await client.post(f"/api/v1/modules/{m}/import/csv", data=body,
                                 headers={"Authorization": f"Bearer {api.token}", "Content-Type": "text/csv"})
        return resp.status, await resp.json()

    (status, result), longest, duration = await loop_gaps_during(run)
    assert status == 200 and result == {"objects_created": 4000}, result
    print(f"\nCSV import of 4,000 rows ({len(body) / MiB:.1f} MiB): {duration:.2f}s, "
          f"longest event-loop stall {longest * 1000:.0f} ms")
    # the stalls are reported, not asserted: on a shared 2-core machine the OS alone can stall the loop for
    # seconds; that the CPU work runs in a worker thread is what is checked
    assert threads_of["parse_rows"] and "MainThread" not in threads_of["parse_rows"], threads_of

    for fmt in ("html", "csv"):
        async def publish(fmt: str = fmt) -> Any:
            resp = await client.get(f"/api/v1/modules/{m}/publish?format={fmt}",
                                    headers={"Authorization": f"Bearer {api.token}"})
            return resp.status, await resp.read()

        (status, text), longest, duration = await loop_gaps_during(publish)
        assert status == 200 and b"Requirement 4000" in text
        print(f"publish {fmt} of 4,000 objects ({len(text) / MiB:.1f} MiB): {duration:.2f}s, "
              f"longest event-loop stall {longest * 1000:.0f} ms")
    assert threads_of["render"] and "MainThread" not in threads_of["render"], threads_of
