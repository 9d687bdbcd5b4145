"""Content fingerprint of an object (spec §4.3.2): the basis of review state and suspect links."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any


def canonical_json(value: Any) -> str:
    """Compact, key-sorted JSON so equal maps always hash equally."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def content_fingerprint(heading: str | None, body: str | None, attributes: Mapping[str, Any] | None) -> str:
    """Lowercase hex SHA-256 of heading, body and canonical attributes separated by NUL."""
    text = (heading or "") + "\0" + (body or "") + "\0"
    if attributes is not None:
        text += canonical_json(attributes)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
