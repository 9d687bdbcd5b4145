"""OpenAPI 3.1 generated from the route table, so the document cannot drift from what is served."""

from __future__ import annotations

import re
from typing import Any

from req1_server.apischema import COMPONENTS, Q
from req1_server.routing import RouteSpec

PARAM = re.compile(r"\{([^}:]+)(?::[^}]*)?\}")
ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
        }
    },
}
SUCCESS = {"GET": "200", "POST": "200", "PUT": "200", "PATCH": "200", "DELETE": "204"}


def operation(spec: RouteSpec) -> dict[str, Any]:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True,
         "schema": {"type": "string", "format": "uuid"} if name == "id" or name.endswith("_id") else {"type": "string"}}
        for name in PARAM.findall(spec.path)
    ]
    for name, declared in spec.meta.query.items():
        param = declared if isinstance(declared, Q) else Q(declared)
        entry: dict[str, Any] = {"name": name, "in": "query", "required": param.required, "schema": param.schema}
        if param.description:
            entry["description"] = param.description
        params.append(entry)
    if spec.query_token:
        params.append({"name": "token", "in": "query", "required": False, "schema": {"type": "string"},
                       "description": "link token or access token instead of the Authorization header"})
    doc = (spec.handler.__doc__ or "").strip()
    success = str(spec.meta.status or SUCCESS.get(spec.method, "200"))
    ok: dict[str, Any] = {"description": "success"}
    if spec.meta.response is not None:
        ok["content"] = {"application/json": {"schema": spec.meta.response}}
    op: dict[str, Any] = {
        "operationId": spec.name or f"{spec.method.lower()}_{spec.handler.__module__.rsplit('.', 1)[-1]}_"
        f"{spec.handler.__name__}",
        "summary": spec.summary,
        "responses": {
            success: ok,
            "default": {"description": "error", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Error"}}}},
        },
        "x-required-role": spec.role.value if spec.auth else None,
    }
    if doc and "\n" in doc:
        op["description"] = doc
    if spec.tags:
        op["tags"] = list(spec.tags)
    if params:
        op["parameters"] = params
    if spec.meta.body is not None:
        body = spec.meta.body
        op["requestBody"] = {"required": body.required, "content": {body.content_type: {"schema": body.schema}}}
    op["security"] = [{"bearer": []}] if spec.auth else []
    return op


def build(specs: list[RouteSpec], version: str, build_sha: str | None = None) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for spec in sorted(specs, key=lambda s: (s.path, s.method)):
        paths.setdefault(PARAM.sub(r"{\1}", spec.path), {})[spec.method.lower()] = operation(spec)
    info: dict[str, Any] = {"title": "req1 API", "version": version}
    if build_sha:
        info["x-build-sha"] = build_sha
    return {
        "openapi": "3.1.0",
        "info": info,
        "paths": paths,
        "components": {
            "schemas": {"Error": ERROR_SCHEMA, **COMPONENTS},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }
