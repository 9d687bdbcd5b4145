"""Generated Secrets: random passwords and keys, rendered only when the Secret does not exist yet.

A Secret listed in `RenderInput.existing_secrets` is left out of the desired objects entirely, so its values
(which PostgreSQL, Redis and SeaweedFS have already been initialised with) are never rotated by a re-render.
"""

from __future__ import annotations

import base64
import json
import secrets as random
import string
from typing import Any

from req1_operator.render import names
from req1_operator.render.types import RenderInput

_ALPHABET = string.ascii_letters + string.digits

POSTGRES_SUPERUSER = "postgres"
POSTGRES_APP_USER = "req1"
POSTGRES_DATABASE = "req1"
POSTGRES_REPLICATION_USER = "replicator"
S3_IDENTITY = "req1"


def token(length: int) -> str:
    """URL- and shell-safe random string (alphanumeric), so it can be embedded in connection URLs."""
    return "".join(random.choice(_ALPHABET) for _ in range(length))


def _secret(inp: RenderInput, name: str, component: str, values: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": names.metadata(inp, name, component),
        "type": "Opaque",
        "data": {k: base64.b64encode(v.encode()).decode() for k, v in sorted(values.items())},
    }


def s3_config(access_key: str, secret_key: str) -> str:
    """SeaweedFS S3 gateway identities file granting the req1 identity full access."""
    return json.dumps(
        {
            "identities": [
                {
                    "name": S3_IDENTITY,
                    "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
                    "actions": ["Admin", "Read", "List", "Tagging", "Write"],
                }
            ]
        },
        sort_keys=True,
    )


def _wanted(inp: RenderInput) -> list[tuple[str, str, dict[str, str]]]:
    n = inp.name
    out = [
        (names.api_secret(n), names.API, {"jwt-secret": token(64), "admin-password": token(24)}),
        (names.postgres_superuser_secret(n), names.POSTGRES, {"username": POSTGRES_SUPERUSER, "password": token(32)}),
        (
            names.postgres_app_secret(n),
            names.POSTGRES,
            {"username": POSTGRES_APP_USER, "password": token(32), "database": POSTGRES_DATABASE},
        ),
        (
            names.postgres_replication_secret(n),
            names.POSTGRES,
            {"username": POSTGRES_REPLICATION_USER, "password": token(32)},
        ),
        (names.redis_secret(n), names.REDIS, {"password": token(32)}),
    ]
    if inp.spec.storage.effective_seaweedfs is not None:
        access, secret = token(20), token(40)
        out.append(
            (
                names.seaweedfs_s3_secret(n),
                names.SEAWEEDFS,
                {"accessKey": access, "secretKey": secret, "s3.json": s3_config(access, secret)},
            )
        )
    return out


def render(inp: RenderInput) -> list[dict[str, Any]]:
    """The generated Secrets that do not exist yet."""
    return [_secret(inp, n, c, v) for n, c, v in _wanted(inp) if n not in inp.existing_secrets]
