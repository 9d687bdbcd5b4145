"""E-signatures (extended contract §3.4): sign an entity with one's password and a meaning, list an entity's
signatures, verify one. Signatures are immutable: there is no PATCH or DELETE route, and the database refuses
both (migration 0050)."""

from __future__ import annotations

from typing import Annotated, Any

from aiohttp import web
from pydantic import Field

from req1_server.apischema import BOOL, COMPONENTS, INT, STR, TIME, UUID, array, nullable, obj, ref
from req1_server.db import database
from req1_server.domain import esignatures as rules
from req1_server.domain.reviews import FOUR_EYES_MODIFIER, SignatureConfig
from req1_server.errors import bad_request
from req1_server.http import json_response
from req1_server.resources.esignatures_reauth import reauthenticate
from req1_server.routing import CurrentUser, Role, Routes, user_of
from req1_server.scope import ENTITY, In
from req1_server.scope import path as in_path
from req1_server.store import esignatures as store
from req1_server.typed import BodyModel, ById, Id, PathId, PathModel, Text, as_str, checked, query_check, reject

routes = Routes(tag="e-signatures")
ENTITY_TYPE = {"type": "string", "enum": list(rules.ENTITY_TYPES)}

COMPONENTS.update({  # this feature's response shapes, kept beside it
    "ESignature": obj(["id", "user_id", "entity_type", "entity_id", "meaning", "signature_hash", "ip_address",
                       "created_at", "signer_email", "signer_name", "entity_version", "entity_fingerprint"],
                      id=UUID, user_id=UUID, entity_type=ENTITY_TYPE, entity_id=UUID, meaning=STR, signature_hash=STR,
                      ip_address=nullable(STR), created_at=TIME, signer_email=STR, signer_name=STR,
                      entity_version=nullable(INT), entity_fingerprint=nullable(STR)),
    "ESignatureVerification": obj(["signature_id", "valid", "entity_changed"], signature_id=UUID, valid=BOOL,
                                  entity_changed=BOOL),
})


def _rule(rule: Any) -> Any:
    """A domain rule as a field check: its SignatureError becomes the field's 400."""
    def check(value: Any, name: str) -> str:
        as_str(value, name)
        try:
            return str(rule(value))
        except rules.SignatureError as exc:
            raise reject(str(exc)) from None

    return check


EntityType = Annotated[str, checked(_rule(rules.entity_type), required=True), Field(json_schema_extra=ENTITY_TYPE)]
MEANING = {"maxLength": rules.MAX_MEANING}
Meaning = Annotated[str, checked(_rule(rules.meaning), required=True), Field(json_schema_extra=MEANING)]
OptMeaning = Annotated[str | None, checked(_rule(rules.meaning)), Field(json_schema_extra=MEANING)]


class SignatureCreate(BodyModel):
    check_order = ("entity_type", "entity_id", "meaning", "password")

    entity_type: EntityType
    entity_id: Id
    password: Text = Field(description="the signer's password, checked again (re-authentication)")
    meaning: Meaning = Field(description="what the signature means, e.g. 'Approved'")


class EntityPath(PathModel):
    entity_type: Annotated[str, query_check(lambda v, _: _rule(rules.entity_type)(v, "entity_type")),
                           Field(json_schema_extra=ENTITY_TYPE)]
    entity_id: PathId


async def four_eyes(conn: Any, user: CurrentUser, body: SignatureCreate) -> None:
    """Objects of a module with ``require_four_eyes``: the signer must not have written the latest version."""
    if body.entity_type != "object":
        return
    review = await store.object_review(conn, body.entity_id)
    if review is not None and SignatureConfig.of(review["signature_config"]).four_eyes and \
            review["last_modifier"] == user.id:
        raise bad_request(FOUR_EYES_MODIFIER)


@routes.post("/api/v1/e-signatures", role=Role.REVIEWER, body=SignatureCreate, status=201, response=ref("ESignature"),
             scope=(In(ENTITY, "entity_id", "body", "entity_type"),))
async def create_signature(request: web.Request, body: SignatureCreate) -> web.Response:
    """Sign an entity as it is now: password again, a meaning; the hash binds signer, content and meaning."""
    user = user_of(request)
    async with database(request).acquire() as conn:
        await store.require_state(conn, body.entity_type, body.entity_id)
        await four_eyes(conn, user, body)
    signer = await reauthenticate(request, user, body.password, body.entity_type, body.entity_id)

    async def sign(conn: Any) -> Any:
        await four_eyes(conn, user, body)  # again in the signing transaction: the object may have been edited
        return await store.sign(conn, signer, body.entity_type, body.entity_id, body.meaning)

    return json_response(await database(request).transaction(sign), status=201)


@routes.get("/api/v1/e-signatures/entity/{entity_type}/{entity_id}", params=EntityPath,
            response=array(ref("ESignature")), scope=(In(ENTITY, "entity_id", "path", "entity_type"),))
async def list_signatures(request: web.Request, path: EntityPath) -> web.Response:
    """An entity's signatures by creation (a plain array; they outlive the entity)."""
    async with database(request).acquire() as conn:
        return json_response(await store.for_entity(conn, path.entity_type, path.entity_id))


@routes.get("/api/v1/e-signatures/{id}/verify", params=ById, response=ref("ESignatureVerification"),
            scope=(in_path("e_signature"),))
async def verify_signature(request: web.Request, path: ById) -> web.Response:
    """Whether the signature's hash recomputes (`valid`) and whether the entity changed since it was signed."""
    async with database(request).acquire() as conn:
        return json_response(await store.verify(conn, path.id))

