"""Kubernetes Events about a Req1Instance: phase transitions and errors a user can act on.

Events are posted with our own client (not kopf's queue) so each one is a counted request and a failure to
post never breaks a reconcile.
"""

from __future__ import annotations

import datetime
import logging
import uuid
from typing import Any

from req1_operator.kube.apply import Owner
from req1_operator.kube.client import ApiError, KubeClient
from req1_operator.kube.resources import EVENT

log = logging.getLogger(__name__)

NORMAL = "Normal"
WARNING = "Warning"
COMPONENT = "req1-operator"


def build_event(owner: Owner, type_: str, reason: str, message: str) -> dict[str, Any]:
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{owner.name}.{uuid.uuid4().hex[:12]}", "namespace": owner.namespace},
        "involvedObject": {
            "apiVersion": owner.api_version,
            "kind": owner.kind,
            "name": owner.name,
            "namespace": owner.namespace,
            "uid": owner.uid,
        },
        "type": type_,
        "reason": reason,
        "message": message[:1024],
        "source": {"component": COMPONENT},
        "reportingComponent": COMPONENT,
        "reportingInstance": COMPONENT,
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
    }


async def emit(client: KubeClient, owner: Owner, type_: str, reason: str, message: str) -> None:
    """Post one Event; log and carry on if the API server refuses it."""
    try:
        await client.create(EVENT, owner.namespace, build_event(owner, type_, reason, message))
    except (ApiError, OSError) as e:
        log.warning("could not post event %s for %s/%s: %s", reason, owner.namespace, owner.name, e)
