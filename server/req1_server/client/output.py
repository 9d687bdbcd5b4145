"""What a command hands back: data for ``--json``, text for a person, and the exit code."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Out:
    data: Any
    text: str
    code: int = 0
