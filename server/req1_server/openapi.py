"""OpenAPI 3.1 generated from the route table, so the document cannot drift from what is served."""

from __future__ import annotations

import re
from typing import Any

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
    if spec.query_token:
        params.append({"name": "token", "in": "query", "required": False, "schema": {"type": "string"},
                       "description": "link token or access token instead of the Authorization header"})
    doc = (spec.handler.__doc__ or "").strip()
    op: dict[str, Any] = {
        "operationId": spec.name or f"{spec.method.lower()}_{spec.handler.__module__.rsplit('.', 1)[-1]}_"
        f"{spec.handler.__name__}",
        "summary": spec.summary,
        "responses": {
            SUCCESS.get(spec.method, "200"): {"description": "success"},
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
    if spec.method in ("POST", "PUT", "PATCH"):
        op["requestBody"] = {"required": False, "content": {"application/json": {"schema": {"type": "object"}}}}
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
            "schemas": {"Error": ERROR_SCHEMA},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }
