"""Bounded schemathesis run over the served OpenAPI document: whatever the input, never a 5xx.

The document declares every route's query parameters and request bodies (JSON, multipart, CSV), so
schemathesis generates both schema-conforming (positive) and schema-violating (negative) requests. The app
runs on a real port in a background thread (schemathesis' transport is synchronous); a small module with
objects, links and a baseline is created first, and path parameters are drawn from those real IDs as well,
so the handlers get past their 404 checks and validate the generated bodies. Generation is capped at
~2 minutes in total.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from req1_server.app import create_app
from req1_server.config import Settings
from req1_testenv.process import free_port

BUDGET_SECONDS = 110
EXAMPLES_PER_OPERATION = 25
SKIPPED = re.compile(r"^/api/v1/(auth/|users)")  # would revoke or rewrite the fuzzing account itself
SATISFIES = "00000000-0000-0000-0000-000000000010"


class ServerThread:
    def __init__(self, app_settings: Settings) -> None:
        self.settings = app_settings
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.runner: web.AppRunner | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)

        async def start() -> None:
            self.runner = web.AppRunner(create_app(self.settings))
            await self.runner.setup()
            await web.TCPSite(self.runner, "127.0.0.1", self.port).start()
            self.ready.set()

        self.loop.run_until_complete(start())
        self.loop.run_forever()

    def __enter__(self) -> str:
        self.thread.start()
        assert self.ready.wait(60), "server did not start"
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc: object) -> None:
        assert self.runner is not None
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture
def base_url(server_env: dict[str, str]) -> Iterator[str]:
    with ServerThread(Settings.from_env({**server_env, "REQ1_TEST_ROUTES": "false"})) as url:
        yield url


def seed(base: str, headers: dict[str, str]) -> dict[str, str]:
    def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        resp = requests.post(base + "/api/v1" + path, json=body, headers=headers, timeout=30)
        assert resp.status_code == 201, resp.text
        return dict(resp.json())

    ws = post("/workspaces", {"name": "fuzz"})
    project = post(f"/workspaces/{ws['id']}/projects", {"name": "p"})
    module = post("/modules", {"name": "m", "project_id": project["id"]})
    definition = post(f"/modules/{module['id']}/attribute-definitions", {"name": "n", "data_type": "integer"})
    a = post(f"/modules/{module['id']}/objects", {"heading": "a", "body": "<p>alpha</p>"})
    b = post(f"/modules/{module['id']}/objects", {"heading": "b", "parent_id": a["id"]})
    link = post("/links", {"source_object_id": b["id"], "target_object_id": a["id"], "link_type_id": SATISFIES})
    baseline = post(f"/modules/{module['id']}/baselines", {"name": "bl"})
    view = post(f"/modules/{module['id']}/views", {"name": "v"})
    comment = post(f"/objects/{a['id']}/comments", {"body": "c"})
    bset = post("/baseline-sets", {"name": "s"})
    return {"ws": ws["id"], "project": project["id"], "module": module["id"], "definition": definition["id"],
            "object": a["id"], "object2": b["id"], "link": link["id"], "baseline": baseline["id"], "view": view["id"],
            "comment": comment["id"], "set": bset["id"]}


def known_params(path: str, ids: dict[str, str]) -> dict[str, str]:
    """Real IDs for the path parameters of a template, chosen by what the path names."""
    names = re.findall(r"\{([^}]+)\}", path)
    by_name = {"ws": ids["ws"], "project_id": ids["project"], "module_id": ids["module"], "object_id": ids["object"]}
    last_id = {"workspaces": ids["ws"], "projects": ids["project"], "modules": ids["module"], "objects": ids["object"],
               "attribute-definitions": ids["definition"], "links": ids["link"], "baselines": ids["baseline"],
               "views": ids["view"], "comments": ids["comment"], "baseline-sets": ids["set"],
               "object-impact": ids["object"], "link-types": SATISFIES}
    segments = path.strip("/").split("/")
    out = {}
    for name in names:
        if name in by_name:
            out[name] = by_name[name]
        elif name == "id":
            index = segments.index("{id}")
            out[name] = last_id.get(segments[index - 1], ids["object"])
    return out


def fuzz_operation(strategy: Any, base_url: str, headers: dict[str, str], deadline: float,
                   failures: list[str], examples: int = EXAMPLES_PER_OPERATION) -> None:
    calls: list[int] = []

    @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def run(case: Any) -> None:
        if time.monotonic() > deadline and calls:
            return  # its share of the time is up; every operation still gets at least one call
        calls.append(1)
        response = case.call(base_url=base_url, headers=headers, timeout=30)
        if response.status_code >= 500 and response.status_code != 501:  # 501: deliberate stubs (spec §5)
            failures.append(f"{case.operation.label} -> {response.status_code}: {response.text[:300]} "
                            f"(path={case.path_parameters}, query={case.query}, body={case.body!r:.200})")

    run()


def test_no_server_errors(base_url: str) -> None:
    token = requests.post(base_url + "/api/v1/auth/login", timeout=30,
                          json={"email": "admin@localhost", "password": "admin-password-for-tests"}).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    ids = seed(base_url, headers)
    schema = schemathesis.openapi.from_url(base_url + "/api/docs/openapi.json")
    deadline = time.monotonic() + BUDGET_SECONDS
    failures: list[str] = []
    exercised = 0
    operations = [r.ok() for r in schema.get_all_operations()]
    operations = [o for o in operations if not SKIPPED.match(o.path)]
    for index, operation in enumerate(operations):
        # an equal share of what is left of the budget, so a slow machine fuzzes every operation less, never fewer
        share = max(0.0, deadline - time.monotonic()) / (len(operations) - index)
        op_deadline = time.monotonic() + share
        exercised += 1
        params = known_params(operation.path, ids)
        real = bool(params) and len(params) == len(re.findall(r"\{", operation.path))
        strategies = []
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategies.append(operation.as_strategy(generation_mode=mode))
            if real:
                strategies.append(operation.as_strategy(generation_mode=mode, path_parameters=params))

        # generating examples costs time too: past the budget, a couple per operation
        examples = EXAMPLES_PER_OPERATION if share >= 1.0 else max(2, int(share * EXAMPLES_PER_OPERATION))
        fuzz_operation(st.one_of(strategies), base_url, headers, op_deadline, failures, examples)
    assert exercised > 60, exercised
    assert not failures, "\n".join(sorted(set(f.split(" (")[0] for f in failures))) + "\n" + "\n".join(failures[:10])
