"""Validate recorded API responses against the server's OpenAPI 3.1 document.

A browser walk records what the UI really received; each response is matched to its operation
(path template, method, status) and its JSON body is validated with jsonschema against the declared
schema, so a field of the wrong type (a string where the contract says an array) fails, not only a
wrong status. A response the document does not declare is a failure too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    pattern: re.Pattern[str]
    responses: dict[str, Any]


class OpenApiChecker:
    """Operations of one OpenAPI document, matched literal-first (``/objects/bulk`` before ``/objects/{id}``)."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.components = document.get("components", {})
        ops = []
        for template, methods in document["paths"].items():
            pattern = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$")
            for method, op in methods.items():
                ops.append(Operation(method.upper(), template, pattern, op.get("responses", {})))
        ops.sort(key=lambda o: (o.template.count("{"), -len(o.template)))
        self.operations = ops
        self.checked = 0

    def operation(self, method: str, path: str) -> Operation | None:
        return next((o for o in self.operations if o.method == method and o.pattern.match(path)), None)

    def problems(self, method: str, url: str, status: int, body: Any) -> list[str]:
        """What is wrong with one response (empty when it conforms)."""
        path = urlsplit(url).path
        where = f"{method} {url} → {status}"
        op = self.operation(method, path)
        if op is None:
            return [f"{where}: no operation in the OpenAPI document"]
        declared = op.responses.get(str(status)) or (op.responses.get("default") if status >= 400 else None)
        if declared is None:
            return [f"{where}: status not declared for {method} {op.template} (declared: {sorted(op.responses)})"]
        schema = declared.get("content", {}).get("application/json", {}).get("schema")
        if schema is None:
            return [] if body is None else [f"{where}: a JSON body where {op.template} declares none"]
        self.checked += 1
        validator = Draft202012Validator({**schema, "components": self.components},
                                         format_checker=Draft202012Validator.FORMAT_CHECKER)
        return [f"{where}: at /{'/'.join(map(str, err.absolute_path))}: {err.message}"
                for err in sorted(validator.iter_errors(body), key=lambda e: list(map(str, e.absolute_path)))][:5]
