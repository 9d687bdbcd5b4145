"""The one apply function for every child: server-side apply with owner references, skipped when unchanged.

"Unchanged" means two things hold for the live object: it carries the hash of exactly this desired object
(so fields we stopped rendering get removed by a new apply), and every field we render still has the value
we render (so a hand edit of a field we own is put back). Defaults the API server adds are ignored.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from req1_operator.kube.client import KubeClient
from req1_operator.kube.resources import resource_of

HASH_ANNOTATION = "req1.io/applied-hash"


@dataclass(frozen=True)
class Owner:
    """The Req1Instance that owns every child; garbage collection follows its ownerReference."""

    api_version: str
    kind: str
    name: str
    uid: str
    namespace: str

    def reference(self) -> dict[str, Any]:
        return {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "name": self.name,
            "uid": self.uid,
            "controller": True,
            "blockOwnerDeletion": True,
        }


def desired_hash(obj: dict[str, Any]) -> str:
    """A stable digest of what we render (before ownership and the hash itself are added)."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:16]


def with_ownership(owner: Owner, desired: dict[str, Any]) -> dict[str, Any]:
    """A copy of the desired child in the owner's namespace, owned by it and stamped with its hash."""
    obj = copy.deepcopy(desired)
    digest = desired_hash(desired)
    meta = obj.setdefault("metadata", {})
    meta["namespace"] = owner.namespace
    meta["ownerReferences"] = [owner.reference()]
    meta.setdefault("annotations", {})[HASH_ANNOTATION] = digest
    return obj


def contains(live: Any, want: Any) -> bool:
    """Whether `live` holds every field of `want` with the same value (lists item by item)."""
    if isinstance(want, dict):
        return isinstance(live, dict) and all(k in live and contains(live[k], v) for k, v in want.items())
    if isinstance(want, list):
        return isinstance(live, list) and len(live) == len(want) and all(map(contains, live, want))
    if isinstance(want, (int, float)) and isinstance(live, (int, float)) and not isinstance(want, bool):
        return float(live) == float(want)
    return bool(live == want)


def up_to_date(live: dict[str, Any] | None, obj: dict[str, Any]) -> bool:
    """True when applying `obj` (already owned and hashed) would change nothing on `live`."""
    if live is None:
        return False
    want_hash = obj["metadata"]["annotations"][HASH_ANNOTATION]
    if (live.get("metadata", {}).get("annotations") or {}).get(HASH_ANNOTATION) != want_hash:
        return False
    body = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "status")}
    meta = dict(body.get("metadata", {}))
    refs = meta.pop("ownerReferences", [])
    body["metadata"] = meta
    live_refs = {r.get("uid") for r in live.get("metadata", {}).get("ownerReferences") or []}
    return all(r["uid"] in live_refs for r in refs) and contains(live, body)


@dataclass(frozen=True)
class ApplyResult:
    kind: str
    name: str
    changed: bool
    created: bool
    body: dict[str, Any] | None


async def apply_child(
    client: KubeClient, owner: Owner, desired: dict[str, Any], live: dict[str, Any] | None
) -> ApplyResult:
    """Apply one desired child unless `live` (what the watch last saw) already matches it."""
    obj = with_ownership(owner, desired)
    kind, name = obj["kind"], obj["metadata"]["name"]
    if up_to_date(live, obj):
        return ApplyResult(kind, name, changed=False, created=False, body=live)
    body = await client.apply(resource_of(obj), obj)
    return ApplyResult(kind, name, changed=True, created=live is None, body=body)
