"""OpenAPI 3.1 generated from the route table, so the document cannot drift from what is served."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from req1_server.apischema import COMPONENTS, Schema
from req1_server.routing import PARAM, RouteSpec

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


def model_schema(model: type[BaseModel]) -> Schema:
    """A request model's JSON schema without pydantic's titles (the field names say it)."""
    schema = model.model_json_schema()
    schema.pop("title", None)
    for prop in schema.get("properties", {}).values():
        prop.pop("title", None)
        prop.pop("default", None)
    return schema


def not_null(schema: Schema) -> Schema:
    """A query or path value is never JSON null: keep the non-null branch."""
    branches = [s for s in schema.get("anyOf", []) if s.get("type") != "null"]
    return branches[0] if len(branches) == 1 else schema


def model_params(model: type[BaseModel], where: str) -> list[dict[str, Any]]:
    schema = model_schema(model)
    required = set(schema.get("required", []))
    return [{"name": name, "in": where, "required": where == "path" or name in required, "schema": not_null(prop)}
            for name, prop in schema.get("properties", {}).items()]


def operation(spec: RouteSpec) -> dict[str, Any]:
    meta = spec.meta
    params: list[dict[str, Any]] = model_params(meta.path_model, "path") if meta.path_model else [
        {"name": name, "in": "path", "required": True,
         "schema": {"type": "string", "format": "uuid"} if name == "id" or name.endswith("_id") else {"type": "string"}}
        for name in PARAM.findall(spec.path)
    ]
    if meta.query_model is not None:
        params += model_params(meta.query_model, "query")
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
    if meta.body_model is not None:
        op["requestBody"] = {"required": not meta.body_model.optional,
                             "content": {"application/json": {"schema": model_schema(meta.body_model)}}}
    elif meta.body is not None:
        body = meta.body
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
