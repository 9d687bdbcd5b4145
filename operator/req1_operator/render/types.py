"""RenderInput: everything the pure renderers need, the validated spec plus a few observed facts."""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any

from req1_operator.spec import Req1InstanceSpec, parse_spec


@dataclass(frozen=True)
class RenderInput:
    """One instance to render.

    `existing_secrets` names the generated Secrets that already exist: those are never rendered again, so their
    random values are never rotated by accident. `monitoring_crd_present` tells whether the ServiceMonitor CRD
    (monitoring.coreos.com) is installed.
    """

    name: str
    namespace: str
    uid: str
    spec: Req1InstanceSpec
    existing_secrets: AbstractSet[str] = field(default_factory=frozenset)
    monitoring_crd_present: bool = False

    @classmethod
    def from_body(
        cls,
        body: dict[str, Any],
        existing_secrets: AbstractSet[str] = frozenset(),
        monitoring_crd_present: bool = False,
    ) -> RenderInput:
        """Build from a Req1Instance object as read from the API server."""
        meta = body.get("metadata", {})
        return cls(
            name=meta["name"],
            namespace=meta["namespace"],
            uid=meta.get("uid", ""),
            spec=parse_spec(body.get("spec")),
            existing_secrets=frozenset(existing_secrets),
            monitoring_crd_present=monitoring_crd_present,
        )
