"""Plain structures between the ReqIF parser/serializer and the import/export handlers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class ReqifError(ValueError):
    """A bad ReqIF document; the message is the 400 message ("invalid reqif XML: ...")."""


@dataclass
class AttrSpec:
    """An attribute as req1 stores it: by name, with req1's data type."""

    name: str
    data_type: str
    enum_values: list[str] | None = None
    multi_select: bool = False


@dataclass
class HierNode:
    """One SPEC-HIERARCHY entry: the SPEC-OBJECT it shows and its children, in order."""

    object_ref: str
    children: list[HierNode] = field(default_factory=list)
    hierarchy_id: str = "?"  # the SPEC-HIERARCHY's IDENTIFIER, for messages


@dataclass
class SpecObject:
    identifier: str
    heading: str | None
    body: str | None
    attributes: dict[str, Any]
    type_ref: str | None = None  # the IDENTIFIER of its SPEC-OBJECT-TYPE


@dataclass
class ObjectTypeSpec:
    """A SPEC-OBJECT-TYPE in req1 terms: it becomes an object type of every imported module."""

    identifier: str
    name: str
    description: str | None
    attribute_names: list[str]  # its attributes, heading and body excluded, each name once


@dataclass
class Specification:
    name: str
    roots: list[HierNode]


@dataclass
class Relation:
    source: str
    target: str
    type_name: str


@dataclass
class ReqifDocument:
    """The content of a ReqIF file in req1 terms."""

    title: str | None
    attributes: dict[str, AttrSpec]
    objects: dict[str, SpecObject]
    specifications: list[Specification]
    relations: list[Relation]
    relation_types: list[str]
    object_types: list[ObjectTypeSpec] = field(default_factory=list)  # in file order


@dataclass
class ExportObject:
    id: str
    heading: str | None
    body: str | None
    attributes: dict[str, Any]
    children: list[ExportObject] = field(default_factory=list)
    type_id: str | None = None  # its object type; None: the module's default type


@dataclass
class ExportType:
    id: str
    name: str
    description: str | None


@dataclass
class ExportLink:
    id: str
    source: str
    target: str
    type_id: str
    type_name: str


@dataclass
class ExportModule:
    id: str
    name: str
    attributes: list[tuple[str, AttrSpec]]  # (definition id, spec)
    roots: list[ExportObject]
    links: list[ExportLink]
    object_types: list[ExportType] = field(default_factory=list)
