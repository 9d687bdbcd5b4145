"""The request/response helpers and the role mechanism the domain codes against (no services needed)."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import uuid
from typing import Annotated, Any

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from pydantic_core import PydanticCustomError

from req1_server import http, typed
from req1_server.app import register
from req1_server.config import Settings
from req1_server.errors import ApiError
from req1_server.ids import new_id
from req1_server.routing import CurrentUser, Role, Routes, require_role


def message(fn: Any, *args: Any) -> tuple[int, str]:
    with pytest.raises(ApiError) as err:
        fn(*args)
    return err.value.status, err.value.message


class Fields(typed.BodyModel):
    """One field of each body type the routes use (the helpers these assertions were first written for)."""

    name: typed.Text = "x"
    module_id: typed.OptId = None
    parent_id: typed.OptId = None
    position: typed.OptInt = None
    flag: typed.OptBool = None
    ratio: typed.OptFloat = None
    tags: typed.OptStrList = None
    attrs: typed.OptObject = None
    nul: typed.OptInt = None


class Required(typed.BodyModel):
    missing: typed.Text


def body(model: type[typed.BodyModel], data: dict[str, Any]) -> Any:
    return typed.validate(model, data, "field")


def uuid_param(value: str, name: str) -> uuid.UUID:
    try:
        return typed.parse_uuid(value, name)
    except PydanticCustomError as exc:
        raise typed.bad_request(str(exc.context["message"] if exc.context else exc)) from None


def test_uuid_parsing() -> None:
    value = uuid.uuid4()
    assert uuid_param(str(value).upper(), "id") == value
    assert message(uuid_param, "abc", "id") == (400, "invalid UUID 'abc' for parameter 'id'")
    assert message(uuid_param, "{" + str(value) + "}", "x")[0] == 400
    assert message(body, Fields, {"module_id": 5}) == (400, "invalid UUID '5' for parameter 'module_id'")
    assert body(Fields, {}).parent_id is None


def test_body_fields() -> None:
    data = {"name": "x", "position": 3, "flag": True, "ratio": 1, "tags": ["a"], "attrs": {"k": 1}, "nul": None}
    fields = body(Fields, data)
    assert fields.name == "x"
    assert message(body, Required, data) == (400, "missing required field 'missing'")
    assert message(body, Fields, {"name": 1}) == (400, "field 'name' must be a string")
    assert fields.position == 3 and fields.nul is None
    assert message(body, Fields, {"position": "1"}) == (400, "field 'position' must be an integer")
    assert message(body, Fields, {"position": True})[0] == 400
    assert fields.ratio == 1.0
    assert message(body, Fields, {"ratio": False})[0] == 400
    assert fields.flag is True
    assert message(body, Fields, {"flag": 1}) == (400, "field 'flag' must be a boolean")
    assert fields.tags == ["a"]
    assert message(body, Fields, {"tags": [1]})[0] == 400
    assert fields.attrs == {"k": 1}
    assert message(body, Fields, {"attrs": []})[0] == 400
    assert fields.given("nul") and not fields.given("parent_id")


def request(query: str) -> web.Request:
    return make_mocked_request("GET", "/x?" + query)


class Flags(typed.QueryModel):
    a: typed.QBool = False
    n: Annotated[int, typed.query_int(1, 10)] = 1


class ModuleQuery(typed.QueryModel):
    module_id: typed.IdParam


def test_paging_and_query() -> None:
    assert typed.parse_query(request(""), typed.Paged).page == http.Page(0, 50)
    assert typed.parse_query(request(""), typed.LongPaged).page == http.Page(0, 1000)
    assert typed.parse_query(request("limit=5000&offset=7"), typed.Paged).page == http.Page(7, 1000)
    for bad in ("limit=0", "limit=-1", "limit=x", "limit=1.5"):
        assert message(typed.parse_query, request(bad), typed.Paged) == (
            400, "limit must be an integer between 1 and 1000")
    assert message(typed.parse_query, request("offset=-2"), typed.Paged)[0] == 400
    assert http.page_envelope([1], 9, http.Page(0, 50)) == {"items": [1], "total": 9, "offset": 0, "limit": 50}
    assert typed.parse_query(request("a=true"), Flags).a is True
    assert message(typed.parse_query, request("a=maybe"), Flags)[0] == 400
    assert typed.parse_query(request("n=4"), Flags).n == 4
    assert message(typed.parse_query, request("n=40"), Flags)[0] == 400
    assert message(typed.parse_query, request(""), ModuleQuery) == (
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
