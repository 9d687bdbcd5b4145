"""How a route's request names the workspace it acts in (#13, per-workspace access).

A route's scope is a tuple of :class:`In` locators: which path parameter, query parameter or body field holds the
id of a resource, and of which kind. Path parameters with a telling name (``module_id``, ``object_id``…) are
located without being declared; a route declares the rest with ``scope=`` (``/modules/{id}``, a ``module_id`` in
the query or the body). A route with no locator is not inside one workspace: its role check uses the global role
and its lists are filtered by the caller's workspaces in the store. ``access.py`` resolves the locators.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

PARAM = re.compile(r"\{([^}:]+)(?::[^}]*)?\}")
Source = Literal["path", "query", "body"]

# path parameters whose name says what they identify
PATH_KINDS = {"ws": "workspace", "workspace_id": "workspace", "project_id": "project", "module_id": "module",
              "object_id": "object", "package_id": "review_package", "test_case_id": "test_case"}
# the e-signature entity types an ``entity`` locator resolves; the other (baseline_set) belongs to no
# workspace, and an unknown type is left to the route's validation (400)
WORKSPACE_ENTITIES = frozenset({"module", "object", "baseline", "review_package", "change_proposal", "test_case",
                                "test_execution"})
ENTITY = "entity"  # the kind is the value of the locator's ``type_field``
USER = "user"  # not a workspace: visible when the user shares one with the caller (or is the caller)


@dataclass(frozen=True)
class In:
    """One place a request names a resource inside a workspace."""

    kind: str
    field: str = "id"
    source: Source = "path"
    type_field: str | None = None  # for ENTITY: where the entity type is

    @property
    def entity(self) -> str:
        """As a not-found message names the kind."""
        return self.kind.replace("_", " ")


def path(kind: str, field: str = "id") -> In:
    return In(kind, field, "path")


def query(kind: str, field: str) -> In:
    return In(kind, field, "query")


def body(kind: str, field: str) -> In:
    return In(kind, field, "body")


def scope_of(route_path: str, declared: tuple[In, ...]) -> tuple[In, ...]:
    """The route's locators: its first telling path parameter, then what the route declares."""
    derived = tuple(In(PATH_KINDS[name], name) for name in PARAM.findall(route_path) if name in PATH_KINDS)[:1]
    return derived + declared
