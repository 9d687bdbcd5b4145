"""Pure rendering: RenderInput -> every desired child object, as plain dicts without ownerReferences.

Same input, same output (byte for byte once serialised), so re-applying sends no changes. The only randomness
is in Secrets that do not exist yet (see secrets.py).
"""

from __future__ import annotations

from typing import Any

from req1_operator.render import (
    api,
    backup,
    config,
    ingress,
    monitoring,
    policies,
    postgres,
    redis,
    seaweedfs,
    secrets,
)
from req1_operator.render.types import RenderInput

__all__ = ["RenderInput", "render_all"]


def render_all(instance: RenderInput) -> list[dict[str, Any]]:
    """Every desired child, in a safe creation order (Secrets and ConfigMaps before the workloads using them)."""
    return [
        *secrets.render(instance),
        *config.render(instance),
        *policies.render(instance),
        *postgres.render(instance),
        *redis.render(instance),
        *seaweedfs.render(instance),
        *api.render(instance),
        *ingress.render(instance),
        *monitoring.render(instance),
        *backup.render_attachments(instance),
        *backup.render_drill(instance),
    ]
