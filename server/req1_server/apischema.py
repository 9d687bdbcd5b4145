"""Response shapes for the OpenAPI document: small JSON-Schema builders and the shared components.

Requests are described by their pydantic models (``typed.py``); responses, which handlers build from rows,
are declared next to each route with these builders (``response=ref("Object")``), and raw request bodies
(multipart, CSV) with :class:`Body`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Schema = dict[str, Any]

STR: Schema = {"type": "string"}
UUID: Schema = {"type": "string", "format": "uuid"}
INT: Schema = {"type": "integer"}
NUM: Schema = {"type": "number"}
BOOL: Schema = {"type": "boolean"}
TIME: Schema = {"type": "string", "format": "date-time"}
ANY: Schema = {}
JSON_OBJ: Schema = {"type": "object"}
STR_LIST: Schema = {"type": "array", "items": STR}
UUID_LIST: Schema = {"type": "array", "items": UUID}
CLASSIFICATION: Schema = {"type": "string", "enum": ["normative", "informative", "heading"]}
ROLE: Schema = {"type": "string", "enum": ["viewer", "reviewer", "editor", "admin"]}


def nullable(schema: Schema) -> Schema:
    """The schema or JSON null (OpenAPI 3.1 style)."""
    return {"anyOf": [schema, {"type": "null"}]}


def array(items: Schema) -> Schema:
    return {"type": "array", "items": items}


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def envelope(name: str) -> Schema:
    """The paging envelope of §1.5 around items of component ``name``."""
    return obj(["items", "total", "offset", "limit"], items=array(ref(name)), total=INT, offset=INT, limit=INT)


def obj(required: list[str] | tuple[str, ...] = (), /, **properties: Schema) -> Schema:
    """An object schema; unknown fields are allowed (the contract ignores them, §1.1)."""
    schema: Schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    return schema


@dataclass(frozen=True)
class Body:
    """A request body of a given content type (a bare schema means required application/json)."""

    schema: Schema
    content_type: str = "application/json"
    required: bool = True


MULTIPART_FILE = Body(obj(["file"], file={"type": "string", "format": "binary"}), "multipart/form-data")

_TIMES = {"created_at": TIME, "updated_at": TIME}
_OBJECT_FIELDS: dict[str, Schema] = {
    "id": UUID, "module_id": UUID, "parent_id": nullable(UUID), "position": INT, "level": STR,
    "heading": nullable(STR), "body": nullable(STR), "attributes": nullable(JSON_OBJ), "current_version": INT,
    "classification": CLASSIFICATION, "content_fingerprint": STR, "reviewed_fingerprint": nullable(STR),
    "reviewed_at": nullable(TIME), "reviewed_by": nullable(UUID), "references_": array(ANY),
    "object_type_id": nullable(UUID), "lifecycle_state": nullable(STR), "lifecycle_model_id": nullable(UUID),
    "source_object_id": nullable(UUID), "source_module_id": nullable(UUID), "is_placeholder": BOOL,
    "docx_source_id": nullable(UUID), "deleted_at": nullable(TIME), **_TIMES,
}
_BASELINE_FIELDS: dict[str, Schema] = {
    "id": UUID, "module_id": UUID, "name": STR, "description": nullable(STR), "created_by": nullable(UUID),
    "created_at": TIME, "locked": BOOL, "baseline_set_id": nullable(UUID),
}
_DIFF_ENTRY = obj(["object_id", "version"], object_id=UUID, version=INT, heading=nullable(STR),
                  body=nullable(STR), attributes=nullable(JSON_OBJ))

COMPONENTS: dict[str, Schema] = {
    "Workspace": obj(["id", "name", "description", "created_at", "updated_at"],
                     id=UUID, name=STR, description=nullable(STR), **_TIMES),
    "Project": obj(["id", "workspace_id", "name", "description", "created_at", "updated_at"],
                   id=UUID, workspace_id=UUID, name=STR, description=nullable(STR), **_TIMES),
    "Module": obj(["id", "project_id", "name", "prefix", "separator", "digits", "required_attributes",
                   "default_classification", "created_at", "updated_at"],
                  id=UUID, project_id=UUID, name=STR, description=nullable(STR), prefix=STR, separator=STR,
                  digits=INT, required_attributes=STR_LIST, default_classification=CLASSIFICATION,
                  publish_template=nullable(STR), default_lifecycle_model_id=nullable(UUID),
                  signature_config=JSON_OBJ, **_TIMES),
    "Object": obj(list(_OBJECT_FIELDS), **_OBJECT_FIELDS),
    "SearchHit": obj(["id", "module_id", "rank"], **_OBJECT_FIELDS, module_name=STR, project_id=UUID,
                     workspace_id=UUID, rank=NUM,
                     highlight=obj([], heading=nullable(STR), body=nullable(STR))),
    "ObjectHistory": obj(["id", "object_id", "version", "change_type"],
                         id=INT, object_id=UUID, module_id=UUID, version=INT, attribute_values=nullable(JSON_OBJ),
                         heading=nullable(STR), body=nullable(STR), changed_by=nullable(UUID), changed_at=TIME,
                         change_type={"type": "string", "enum": ["create", "update", "delete", "move", "sync"]}),
    "AttributeDefinition": obj(["id", "name", "data_type"],
                               id=UUID, module_id=nullable(UUID), name=STR, data_type=STR,
                               default_value=nullable(STR), enum_values=nullable(STR_LIST), multi_select=BOOL,
                               depends_on=nullable(UUID), dependency_mapping=nullable(JSON_OBJ), created_at=TIME),
    "LinkType": obj(["id", "name"], id=UUID, name=STR, description=nullable(STR), created_at=TIME),
    "Link": obj(["id", "source_object_id", "target_object_id", "link_type_id", "suspect"],
                id=UUID, source_object_id=UUID, target_object_id=UUID, link_type_id=UUID,
                attributes=nullable(JSON_OBJ), suspect=BOOL, source_fingerprint=nullable(STR),
                target_fingerprint=nullable(STR), **_TIMES),
    "Baseline": obj(list(_BASELINE_FIELDS), **_BASELINE_FIELDS),
    "BaselineWithEntries": obj([*_BASELINE_FIELDS, "entries"], **_BASELINE_FIELDS, entries=array(
        obj(["baseline_id", "object_id", "version"], baseline_id=UUID, object_id=UUID, version=INT))),
    "BaselineDiff": obj(["baseline_a", "baseline_b", "added", "removed", "modified"],
                        baseline_a=UUID, baseline_b=nullable(UUID), added=array(_DIFF_ENTRY),
                        removed=array(_DIFF_ENTRY), modified=array(JSON_OBJ)),
    "BaselineSet": obj(["id", "name", "version"], id=UUID, name=STR, version=STR, description=nullable(STR),
                       created_by=nullable(UUID), created_at=TIME),
    "View": obj(["id", "module_id", "name", "is_default"], id=UUID, module_id=UUID, name=STR, is_default=BOOL,
                column_config=ANY, filter_config=ANY, sort_config=ANY, **_TIMES),
    "Comment": obj(["id", "object_id", "body", "resolved"], id=UUID, object_id=UUID, author_id=nullable(UUID),
                   body=STR, mentioned_user_ids=UUID_LIST, resolved=BOOL, **_TIMES),
    "Attachment": obj(["id", "object_id", "file_name", "content_type", "size_bytes", "sha256"],
                      id=UUID, object_id=UUID, file_name=STR, content_type=STR, size_bytes=INT, storage_path=STR,
                      sha256=STR, created_at=TIME, download_url=STR),
    "AppUser": obj(["id", "email", "display_name", "role", "active"], id=UUID, email=STR, display_name=STR,
                   role=ROLE, active=BOOL, **_TIMES),
    "ObjectType": obj(["id", "module_id", "name", "description", "default_classification", "required_attributes",
                       "attribute_schema", "created_at", "updated_at"], id=UUID, module_id=UUID, name=STR,
                      description=nullable(STR), default_classification=CLASSIFICATION,
                      required_attributes=STR_LIST, attribute_schema=JSON_OBJ, **_TIMES),
    "LifecycleModel": obj(["id", "module_id", "name", "description", "initial_state", "states", "transitions",
                           "created_at", "updated_at"], id=UUID, module_id=UUID, name=STR, description=nullable(STR),
                          initial_state=STR, states=array(obj(["name", "color", "description"], name=STR,
                                                              color=nullable(STR), description=nullable(STR))),
                          transitions=array(obj(["from", "to"], **{"from": STR, "to": STR, "required_role": ROLE})),
                          **_TIMES),
    "AuditLogEntry": obj(["id", "user_id", "action", "entity_type", "entity_id", "details", "ip_address",
                          "created_at"], id=INT, user_id=nullable(UUID), action=STR, entity_type=STR,
                         entity_id=nullable(UUID), details=nullable(JSON_OBJ), ip_address=nullable(STR),
                         created_at=TIME),
    "Login": obj(["token", "user", "refresh_token", "expires_at"], token=STR, user=ref("AppUser"),
                 refresh_token=nullable(STR), expires_at=ANY),
}
