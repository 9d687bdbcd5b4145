"""Requests as types: the field types route models are built from, and the one translation of a failed
validation into the contract's 400 message (§1.5, §1.7).

A route declares ``params=``, ``query=`` and ``body=`` as subclasses of :class:`PathModel`, :class:`QueryModel`
and :class:`BodyModel`; ``routing.guarded`` validates the request into them before the handler runs, and
``openapi.py`` publishes their JSON schema. Each field type checks its value with the wording of the contract
(``field 'x' must be a string``), so models only say which fields exist, which are required, and their types.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from typing import Annotated, Any, ClassVar, TypeVar

from aiohttp import web
from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, ValidationInfo
from pydantic_core import PydanticCustomError

from req1_server.errors import ApiError, bad_request
from req1_server.http import MAX_LIMIT, Page, read_json, read_json_optional

M = TypeVar("M", bound=BaseModel)
CLASSIFICATIONS = ("normative", "informative", "heading")


def reject(message: str) -> PydanticCustomError:
    """A validation failure whose message is already the contract's sentence."""
    return PydanticCustomError("req1", "{message}", {"message": message})


def shown(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return text[:80] + "…" if len(text) > 80 else text


def parse_uuid(value: object, name: str) -> uuid.UUID:
    """Canonical or 32-hex UUIDs only; anything else is the contract's invalid-UUID message."""
    if isinstance(value, str):
        text = value.strip()
        if len(text) in (32, 36):
            try:
                return uuid.UUID(text)
            except ValueError:
                pass
    raise reject(f"invalid UUID '{shown(value)}' for parameter '{name}'")


# ---- body field checks: value → value, or the contract's message -------------------------------

Check = Callable[[Any, str], Any]


def _kind(what: str, ok: Callable[[Any], bool]) -> Check:
    def check(value: Any, name: str) -> Any:
        if not ok(value):
            raise reject(f"field '{name}' must be {what}")
        return value

    return check


def _number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float)


as_str = _kind("a string", lambda v: isinstance(v, str))
as_int = _kind("an integer", lambda v: isinstance(v, int) and not isinstance(v, bool))
as_float = _kind("a number", _number)
as_bool = _kind("a boolean", lambda v: isinstance(v, bool))
as_str_list = _kind("an array of strings", lambda v: isinstance(v, list) and all(isinstance(i, str) for i in v))
as_object = _kind("a JSON object", lambda v: isinstance(v, dict))
as_list = _kind("an array", lambda v: isinstance(v, list))
as_config = _kind("a JSON array or object", lambda v: isinstance(v, list | dict))


def checked(check: Check, required: bool = False) -> BeforeValidator:
    """Null is absent (the field's default) unless required; otherwise ``check`` decides."""

    def validate(value: Any, info: ValidationInfo) -> Any:
        name = info.field_name or "?"
        if value is None:
            if required:
                raise reject(f"missing required field '{name}'")
            return None
        return check(value, name)

    return BeforeValidator(validate)


def must_be(message: str) -> BeforeValidator:
    """A field the server does not support: any non-null value is refused with ``message`` ('…{value}…')."""

    def validate(value: Any) -> None:
        if value is not None:
            raise reject(message.format(value=value))

    return BeforeValidator(validate)


def _uuid(value: Any, name: str) -> uuid.UUID:
    return parse_uuid(value, name)


def member_of(allowed: tuple[str, ...], what: str) -> BeforeValidator:
    """A string field limited to ``allowed``: 400 ``invalid <what> 'x', must be one of: a, b`` (the contract's
    long form, the same on create and update)."""

    def check(value: Any, name: str) -> str:
        as_str(value, name)
        if value not in allowed:
            raise reject(f"invalid {what} '{value}', must be one of: {', '.join(allowed)}")
        return str(value)

    return checked(check)


def uuid_list(value: Any, name: str) -> list[uuid.UUID]:
    """An array of UUIDs, each once, in the order given."""
    as_list(value, name)
    try:
        return list(dict.fromkeys(uuid.UUID(item) for item in value))
    except (TypeError, ValueError, AttributeError):
        raise reject(f"field '{name}' must be an array of UUIDs") from None


def classification_of(value: Any, name: str) -> str:
    """One of the three classifications (body field or query parameter)."""
    as_str(value, name)
    if value not in CLASSIFICATIONS:
        raise reject(f"invalid classification '{value}', must be one of: normative, informative, heading")
    return str(value)


def _name(value: Any, name: str) -> str:
    as_str(value, name)
    if not value.strip():
        raise reject(f"{name} must not be empty")
    return str(value)


Text = Annotated[str, checked(as_str, required=True)]
OptText = Annotated[str | None, checked(as_str)]
Name = Annotated[str, checked(_name, required=True)]  # required and not blank
OptName = Annotated[str | None, checked(_name)]
Id = Annotated[uuid.UUID, checked(_uuid, required=True)]
OptId = Annotated[uuid.UUID | None, checked(_uuid)]
OptInt = Annotated[int | None, checked(as_int)]
OptFloat = Annotated[float | None, checked(as_float)]
OptBool = Annotated[bool | None, checked(as_bool)]
OptStrList = Annotated[list[str] | None, checked(as_str_list)]
OptObject = Annotated[dict[str, Any] | None, checked(as_object)]
OptList = Annotated[list[Any] | None, checked(as_list)]
OptConfig = Annotated[list[Any] | dict[str, Any] | None, checked(as_config)]
Classification = Annotated[str | None, checked(classification_of)]


class BodyModel(BaseModel):
    """A JSON object body; unknown fields are ignored (§1.1). ``fields_set`` tells absent from null (PATCH).

    With several bad fields the one reported is the first in ``check_order`` (the fields not named there
    follow in declaration order): the order in which the contract's server checks them.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)
    optional: ClassVar[bool] = False  # an empty body stands for `{}` (action POSTs)
    check_order: ClassVar[tuple[str, ...]] = ()
    # field → the role a request naming it needs (even as null), checked before the fields are validated
    field_roles: ClassVar[Mapping[str, str]] = {}

    def given(self, name: str) -> bool:
        """Present in the request, even as null."""
        return name in self.model_fields_set


class EmptyBody(BodyModel):
    """Action POSTs: no body, or any JSON object."""

    optional: ClassVar[bool] = True


# ---- query parameters -------------------------------------------------------------------------


def query_check(parse: Callable[[str, str], Any]) -> BeforeValidator:
    def validate(value: Any, info: ValidationInfo) -> Any:
        return None if value is None else parse(value, info.field_name or "?")

    return BeforeValidator(validate)


def _q_bool(value: str, name: str) -> bool:
    lowered = value.lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise reject(f"query parameter '{name}' must be true or false")


def _q_limit(value: str, name: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise reject("limit must be an integer between 1 and 1000")
    return min(number, MAX_LIMIT)


def _q_offset(value: str, name: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = -1
    if number < 0:
        raise reject("offset must be a non-negative integer")
    return number


def query_int(minimum: int, maximum: int) -> BeforeValidator:
    """An integer query parameter within bounds, with the contract's messages."""

    def parse(value: str, name: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise reject(f"query parameter '{name}' must be an integer") from None
        if number < minimum:
            raise reject(f"query parameter '{name}' must be at least {minimum}")
        if number > maximum:
            raise reject(f"query parameter '{name}' must be at most {maximum}")
        return number

    return query_check(parse)


def flag(value: str | None, name: str) -> bool:
    """A boolean query value read after validation (for a parameter that only matters in some cases)."""
    try:
        return value is not None and _q_bool(value, name)
    except PydanticCustomError as exc:
        raise bad_request(str((exc.context or {}).get("message", exc))) from None


QBool = Annotated[bool, query_check(_q_bool)]
QId = Annotated[uuid.UUID | None, query_check(parse_uuid)]
QText = Annotated[str | None, query_check(lambda v, _: v)]


class QueryModel(BaseModel):
    """Query parameters; an empty value is an absent one, except for the fields named in ``keep_empty``."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    keep_empty: ClassVar[frozenset[str]] = frozenset()


class Paged(QueryModel):
    """``offset``/``limit`` per §1.5: limit clamped at 1000, 0/negative/non-integer → 400."""

    default_limit: ClassVar[int] = 50
    limit: Annotated[int | None, query_check(_q_limit)] = None
    offset: Annotated[int, query_check(_q_offset)] = 0

    @property
    def page(self) -> Page:
        return Page(self.offset, self.default_limit if self.limit is None else self.limit)


class LongPaged(Paged):
    """Paging for lists a UI shows whole (one module's objects, views, definitions…)."""

    default_limit: ClassVar[int] = 1000


# ---- path parameters --------------------------------------------------------------------------

IdParam = Annotated[uuid.UUID, query_check(parse_uuid)]  # a required UUID in the path or the query
PathId = IdParam


class PathModel(BaseModel):
    """Path parameters; every one of them is a UUID in this API."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ById(PathModel):
    id: PathId


class InModule(PathModel):
    module_id: PathId


class ModuleItem(PathModel):
    module_id: PathId
    id: PathId


class OnObject(PathModel):
    object_id: PathId


class ObjectItem(PathModel):
    object_id: PathId
    id: PathId


# ---- the one translation ---------------------------------------------------------------------


def first_failure(model: type[BaseModel], exc: ValidationError) -> Any:
    """The failure reported: by the model's ``check_order`` when it has one, else by field order."""
    declared: tuple[str, ...] = getattr(model, "check_order", ())
    order = [*declared, *(f for f in model.model_fields if f not in declared)]

    def rank(error: Any) -> int:
        field = str(error["loc"][0]) if error["loc"] else ""
        return order.index(field) if field in order else len(order)

    return min(exc.errors(include_url=False), key=rank)


def as_api_error(exc: ValidationError, where: str, model: type[BaseModel]) -> ApiError:
    """The first failure as the contract's message (``where``: 'field' or 'query parameter')."""
    error = first_failure(model, exc)
    name = ".".join(str(part) for part in error["loc"]) or "body"
    if error["type"] == "req1":
        return bad_request(str(error["ctx"]["message"]))
    if error["type"] == "missing":
        return bad_request(f"missing required {where} '{name}'")
    return bad_request(f"invalid value for {where} '{name}'")


def validate(model: type[M], data: Mapping[str, Any], where: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise as_api_error(exc, where, model) from None


def parse_path(request: web.Request, model: type[M]) -> M:
    return validate(model, request.match_info, "path parameter")


QM = TypeVar("QM", bound=QueryModel)


def parse_query(request: web.Request, model: type[QM]) -> QM:
    keep = model.keep_empty
    values = {key: request.query.get(key) for key in set(request.query) if request.query.get(key) != "" or key in keep}
    return validate(model, values, "query parameter")


async def read_body(request: web.Request, model: type[BodyModel]) -> dict[str, Any]:
    """The JSON object the model is validated from (415/413/400 for what is not one)."""
    return await (read_json_optional(request) if model.optional else read_json(request))
