"""The request/response helpers and the role mechanism the domain codes against (no services needed)."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import uuid
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from req1_server import http
from req1_server.app import register
from req1_server.config import Settings
from req1_server.errors import ApiError
from req1_server.ids import new_id
from req1_server.routing import CurrentUser, Role, Routes, require_role


def message(fn: Any, *args: Any) -> tuple[int, str]:
    with pytest.raises(ApiError) as err:
        fn(*args)
    return err.value.status, err.value.message


def test_uuid_parsing() -> None:
    value = uuid.uuid4()
    assert http.parse_uuid(str(value).upper(), "id") == value
    assert message(http.parse_uuid, "abc", "id") == (400, "invalid UUID 'abc' for parameter 'id'")
    assert message(http.parse_uuid, "{" + str(value) + "}", "x")[0] == 400
    assert message(http.req_uuid, {"module_id": 5}, "module_id") == (400, "invalid UUID '5' for parameter 'module_id'")
    assert http.opt_uuid({}, "parent_id") is None


def test_body_fields() -> None:
    body = {"name": "x", "position": 3, "flag": True, "ratio": 1, "tags": ["a"], "attrs": {"k": 1}, "nul": None}
    assert http.req_str(body, "name") == "x"
    assert message(http.req_str, body, "missing") == (400, "missing required field 'missing'")
    assert message(http.req_str, {"name": 1}, "name") == (400, "field 'name' must be a string")
    assert http.opt_int(body, "position") == 3 and http.opt_int(body, "nul", 7) == 7
    assert message(http.opt_int, {"position": "1"}, "position") == (400, "field 'position' must be an integer")
    assert message(http.opt_int, {"position": True}, "position")[0] == 400
    assert http.opt_float(body, "ratio") == 1.0
    assert message(http.opt_float, {"ratio": False}, "ratio")[0] == 400
    assert http.opt_bool(body, "flag") is True
    assert message(http.opt_bool, {"flag": 1}, "flag") == (400, "field 'flag' must be a boolean")
    assert http.opt_list_str(body, "tags") == ["a"]
    assert message(http.opt_list_str, {"tags": [1]}, "tags")[0] == 400
    assert http.opt_dict(body, "attrs") == {"k": 1}
    assert message(http.opt_dict, {"attrs": []}, "attrs")[0] == 400
    assert http.has(body, "nul") and not http.has(body, "absent")


def request(query: str) -> web.Request:
    return make_mocked_request("GET", "/x?" + query)


def test_paging_and_query() -> None:
    assert http.page_params(request("")) == http.Page(0, 50)
    assert http.page_params(request(""), default_limit=1000) == http.Page(0, 1000)
    assert http.page_params(request("limit=5000&offset=7")) == http.Page(7, 1000)
    for bad in ("limit=0", "limit=-1", "limit=x", "limit=1.5"):
        assert message(http.page_params, request(bad)) == (400, "limit must be an integer between 1 and 1000")
    assert message(http.page_params, request("offset=-2"))[0] == 400
    assert http.page_envelope([1], 9, http.Page(0, 50)) == {"items": [1], "total": 9, "offset": 0, "limit": 50}
    assert http.query_bool(request("a=true"), "a") is True
    assert message(http.query_bool, request("a=maybe"), "a")[0] == 400
    assert http.query_int(request("n=4"), "n", 1, minimum=1, maximum=10) == 4
    assert message(http.query_int, request("n=40"), "n", 1, 1, 10)[0] == 400
    assert message(http.query_uuid, request(""), "module_id", True) == (
        400, "missing required query parameter 'module_id'")


def test_json_response_serialization() -> None:
    ident = uuid.UUID("0195a1b2-0000-7000-8000-000000000001")
    moment = dt.datetime(2026, 2, 21, 10, 11, 12, 123456, tzinfo=dt.UTC)
    whole = dt.datetime(2026, 2, 21, 10, 11, 12, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    resp = http.json_response({"id": ident, "at": moment, "whole": whole, "n": decimal.Decimal("1.5"),
                               "text": "ünï"}, status=201)
    assert resp.status == 201 and resp.content_type == "application/json"
    assert resp.body is not None
    assert json.loads(bytes(resp.body)) == {  # type: ignore[arg-type]
        "id": str(ident), "at": "2026-02-21T10:11:12.123456+00:00", "whole": "2026-02-21T08:11:12+00:00",
        "n": 1.5, "text": "ünï"}


def test_new_ids_are_uuid7_and_ordered() -> None:
    ids = [new_id() for _ in range(100)]
    assert all(i.version == 7 for i in ids)
    assert ids == sorted(ids)


def test_require_role_message() -> None:
    viewer = CurrentUser(uuid.uuid4(), "v@x", Role.VIEWER, "V")
    require_role(viewer, Role.VIEWER)
    with pytest.raises(ApiError) as err:
        require_role(viewer, Role.REVIEWER)
    assert (err.value.status, err.value.message) == (403, "insufficient role: requires reviewer")
    assert Role.ADMIN.at_least(Role.EDITOR) and not Role.REVIEWER.at_least(Role.EDITOR)


def test_route_defaults_and_duplicates(monkeypatch: pytest.MonkeyPatch) -> None:
    routes = Routes()

    @routes.get("/api/v1/things")
    async def list_things(request: web.Request) -> web.Response:
        return web.Response()

    @routes.post("/api/v1/things")
    async def create_thing(request: web.Request) -> web.Response:
        return web.Response()

    assert [(s.method, s.role) for s in routes.specs] == [("GET", Role.VIEWER), ("POST", Role.EDITOR)]
    routes.get("/api/v1/things")(list_things)
    monkeypatch.setattr("req1_server.app.resource_routes", lambda settings: [routes])
    with pytest.raises(RuntimeError, match="registered twice"):
        register(web.Application(), Settings.from_env({"DATABASE_URL": "postgresql://u:p@h/d"}))
