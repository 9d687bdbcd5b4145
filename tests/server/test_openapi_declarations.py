"""Static check that every route declares what its handler reads: JSON/multipart/CSV bodies and query parameters.

The OpenAPI document is generated from the route declarations, so a handler that reads ``read_json`` or
``query_uuid(request, "x")`` without declaring it would silently publish an incomplete schema. The check reads
the source of each handler and of the same-module helpers it calls (a simple, deliberately conservative scan).
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Callable
from types import ModuleType
from typing import Any

from req1_server.openapi import build
from req1_server.resources import RESOURCE_MODULES
from req1_server.resources.testing import routes as test_routes
from req1_server.routing import PARAM, Routes, RouteSpec
from req1_server.typed import BodyModel, QText, QueryModel

CALL = re.compile(r"\b([A-Za-z_]\w*)\(")
QUERY_READS = [
    re.compile(r"\bquery_(?:str|uuid|bool|int)\(\s*request,\s*\"(\w+)\""),
    re.compile(r"\brequest\.query\.get\(\s*\"(\w+)\""),
    re.compile(r"\brequest\.query\[\s*\"(\w+)\"\]"),
]
IMPLIED = {"page_params(": ("offset", "limit"), "search_text(request)": ("q",)}


def all_specs() -> list[RouteSpec]:
    specs: list[RouteSpec] = list(test_routes.specs)
    for name in RESOURCE_MODULES:
        module = importlib.import_module(name if "." in name else f"req1_server.resources.{name}")
        specs.extend(module.routes.specs)
    return specs


def reachable_source(handler: Callable[..., Any], depth: int = 3) -> str:
    """The handler's source plus that of same-module functions it calls, ``depth`` levels deep."""
    module: ModuleType | None = inspect.getmodule(handler)
    seen: set[str] = set()
    sources: list[str] = []
    frontier: list[Callable[..., Any]] = [handler]
    for _ in range(depth + 1):
        nxt: list[Callable[..., Any]] = []
        for fn in frontier:
            if fn.__name__ in seen:
                continue
            seen.add(fn.__name__)
            text = inspect.getsource(fn)
            sources.append(text)
            for called in CALL.findall(text):
                target = getattr(module, called, None)
                if inspect.isfunction(target) and target.__module__ == getattr(module, "__name__", None):
                    nxt.append(target)
        frontier = nxt
    return "\n".join(sources)


def declared_query(spec: RouteSpec) -> set[str]:
    model = spec.meta.query_model
    if model is None:
        return set()
    return {info.alias or name for name, info in model.model_fields.items()}  # as sent: `from`, not `since`


def problems(spec: RouteSpec) -> list[str]:
    """What the handler reads by hand but the route does not declare (typed models are declared by being typed)."""
    source = reachable_source(spec.handler)
    label = f"{spec.method} {spec.path}"
    body = spec.meta.body
    json_model = spec.meta.body_model
    found: list[str] = []
    if re.search(r"\bread_json\(", source) and (json_model is None or json_model.optional):
        found.append(f"{label}: reads a JSON body but declares no required application/json body")
    if re.search(r"\bread_json_optional\(", source) and json_model is None:
        found.append(f"{label}: reads an optional JSON body but declares none")
    if re.search(r"\.multipart\(\)", source) and (body is None or body.content_type != "multipart/form-data"):
        found.append(f"{label}: reads multipart but declares no multipart/form-data body")
    if re.search(r"\bread_body_limited\(", source) and (body is None or body.content_type == "application/json"):
        found.append(f"{label}: reads a raw body but declares no raw content type")
    read = {name for pattern in QUERY_READS for name in pattern.findall(source)}
    for marker, names in IMPLIED.items():
        if marker in source:
            read.update(names)
    if spec.query_token:
        read.discard("token")
    missing = read - declared_query(spec)
    if missing:
        found.append(f"{label}: reads query parameters {sorted(missing)} it does not declare")
    return found


def test_every_route_declares_what_it_reads() -> None:
    specs = all_specs()
    assert len(specs) > 60
    issues = [issue for spec in specs for issue in problems(spec)]
    assert not issues, "\n".join(issues)


def test_writes_with_json_bodies_are_documented_with_their_fields() -> None:
    doc = build(all_specs(), "0")
    create = doc["paths"]["/api/v1/modules"]["post"]
    schema = create["requestBody"]["content"]["application/json"]["schema"]
    assert schema["required"] == ["name", "project_id"] and create["requestBody"]["required"] is True
    assert "201" in create["responses"]
    upload = doc["paths"]["/api/v1/objects/{object_id}/attachments"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in upload
    assert "text/csv" in doc["paths"]["/api/v1/modules/{module_id}/import/csv"]["post"]["requestBody"]["content"]
    listing = doc["paths"]["/api/v1/modules/{module_id}/objects"]["get"]
    assert {"limit", "offset", "search", "sort_by", "include_deleted"} <= {p["name"] for p in listing["parameters"]}
    assert listing["responses"]["200"]["content"]["application/json"]["schema"]["properties"]["items"] == {
        "type": "array", "items": {"$ref": "#/components/schemas/Object"}}
    for name in ("Object", "Module", "Link", "Baseline", "BaselineWithEntries"):
        assert name in doc["components"]["schemas"]


def test_the_check_catches_undeclared_reads() -> None:
    """The scan must be able to fail: an undeclared body and query parameter are both reported."""
    routes = Routes()

    async def sneaky(request: Any) -> Any:
        return (await read_json(request), query_uuid(request, "zzz"))  # noqa: F821 - never run, only scanned

    class Body(BodyModel):
        pass

    class Query(QueryModel):
        zzz: QText = None

    routes.post("/x")(sneaky)
    routes.post("/y", body=Body, query=Query)(sneaky)
    assert len(problems(routes.specs[0])) == 2
    assert problems(routes.specs[1]) == []


def test_typed_models_are_what_the_document_publishes() -> None:
    """Every field of a route's query and body model is in the document, and only those."""
    doc = build(all_specs(), "0")
    for spec in all_specs():
        op = doc["paths"][PARAM.sub(r"{\1}", spec.path)][spec.method.lower()]
        names = {p["name"] for p in op.get("parameters", []) if p["in"] == "query"} - {"token"}
        assert names == declared_query(spec), f"{spec.method} {spec.path}"
        if spec.meta.body_model is not None:
            schema = op["requestBody"]["content"]["application/json"]["schema"]
            assert set(schema.get("properties", {})) == set(spec.meta.body_model.model_fields)
