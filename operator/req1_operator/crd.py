"""Generate the Req1Instance CustomResourceDefinition from the pydantic models in the spec package.

`python -m req1_operator.crd > crds/req1instances.yaml` regenerates the checked-in CRD; a test fails when the
two differ. The pydantic JSON schema is turned into a *structural* OpenAPI v3 schema: `$ref`s inlined, `null`
alternatives of optional fields dropped (absent means unset), titles and `additionalProperties: false` removed
(pruning and strict field validation already reject unknown fields), int-or-string quantities kept in the
shape the API server expects.
"""

from __future__ import annotations

import copy
import sys
from typing import Any

import yaml

from req1_operator import spec as s

#: Keys pydantic emits that a CRD schema does not accept or does not need.
_DROP = {"title", "$defs", "discriminator", "examples"}


def _resolve(node: Any, defs: dict[str, Any]) -> Any:
    """Recursively inline `$ref`s and normalise one schema node."""
    if isinstance(node, list):
        return [_resolve(x, defs) for x in node]
    if not isinstance(node, dict):
        return node
    node = dict(node)
    if "$ref" in node:
        target = copy.deepcopy(defs[node.pop("$ref").split("/")[-1]])
        # Siblings of $ref (a field's description/default) win over the referenced model's own.
        target.update(node)
        node = target
    if "anyOf" in node and not node.get("x-kubernetes-int-or-string"):
        alternatives = [a for a in node["anyOf"] if a.get("type") != "null"]
        del node["anyOf"]
        if len(alternatives) != 1:
            raise ValueError(f"cannot express union in a structural schema: {alternatives}")
        merged = dict(alternatives[0])
        merged.update(node)  # the field's description and extras win
        node = _resolve(merged, defs)
        if node.get("default", 0) is None:
            del node["default"]
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROP:
            continue
        if key == "properties":
            out[key] = {name: _resolve(sub, defs) for name, sub in value.items()}
        elif key in ("items", "additionalProperties", "anyOf", "x-kubernetes-validations"):
            out[key] = _resolve(value, defs)
        else:
            out[key] = value
    if out.get("additionalProperties") is False or out.get("additionalProperties") is True:
        del out["additionalProperties"]
    if out.get("x-kubernetes-preserve-unknown-fields"):
        out.pop("additionalProperties", None)
    if out.get("default", 0) is None:
        del out["default"]
    if "properties" in out and "type" not in out:
        out["type"] = "object"
    if out.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
    if "maxLength" in out and out.get("type") == "object":
        # pydantic maps max_length on a dict to maxLength; OpenAPI calls it maxProperties.
        out["maxProperties"] = out.pop("maxLength")
    if "maxLength" in out and out.get("type") == "array":
        out["maxItems"] = out.pop("maxLength")
    return out


def model_schema(model: type[s.Model]) -> dict[str, Any]:
    """The structural OpenAPI v3 schema of one model."""
    raw = model.model_json_schema(by_alias=True, mode="validation")
    defs = raw.get("$defs", {})
    out: dict[str, Any] = _resolve(raw, defs)
    return out


def _printer_columns() -> list[dict[str, Any]]:
    return [
        {"name": "Phase", "type": "string", "jsonPath": ".status.phase", "description": "Lifecycle phase"},
        {"name": "Ready", "type": "string", "jsonPath": ".status.readyComponents", "description": "Ready components"},
        {"name": "API", "type": "string", "jsonPath": ".status.apiReplicas", "description": "Ready/desired API pods"},
        {"name": "Primary", "type": "string", "jsonPath": ".status.primary", "description": "PostgreSQL primary pod"},
        {
            "name": "Timeline",
            "type": "integer",
            "jsonPath": ".status.postgres.timeline",
            "description": "Timeline of the PostgreSQL primary",
        },
        {
            "name": "Replication",
            "type": "string",
            "jsonPath": ".status.postgres.replication",
            "description": "Streaming replicas over replicas, and the synchronous mode",
        },
        {
            "name": "Last Backup",
            "type": "date",
            "jsonPath": ".status.backup.lastBackup.endTime",
            "description": "End of the last completed base backup",
        },
        {
            "name": "Drill",
            "type": "string",
            "jsonPath": ".status.backup.lastDrill.result",
            "description": "Result of the last restore drill (Passed or Failed)",
        },
        {
            "name": "Restore",
            "type": "string",
            "jsonPath": ".status.restore.inPlace.phase",
            "description": "Phase of the last in-place restore (shown with -o wide)",
            "priority": 1,
        },
        {"name": "URL", "type": "string", "jsonPath": ".status.url", "description": "Where req1 is served"},
        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
    ]


def build_crd() -> dict[str, Any]:
    """The CustomResourceDefinition object (apiextensions.k8s.io/v1)."""
    spec_schema = model_schema(s.Req1InstanceSpec)
    status_schema = model_schema(s.Req1InstanceStatus)
    root: dict[str, Any] = {
        "type": "object",
        "description": "A req1 installation: API, PostgreSQL, Redis, object storage and ingress.",
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": {**spec_schema, "default": {}},
            "status": status_schema,
        },
        "x-kubernetes-validations": [
            {
                "rule": f"self.metadata.name.size() <= {s.MAX_NAME_LENGTH}",
                "message": f"metadata.name must be at most {s.MAX_NAME_LENGTH} characters so child object names fit",
                "reason": "FieldValueInvalid",
            },
            {
                "rule": "self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$')",
                "message": "metadata.name must be a DNS label starting with a letter (it prefixes Service names)",
                "reason": "FieldValueInvalid",
            },
        ],
    }
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": f"{s.PLURAL}.{s.GROUP}",
            "labels": {"app.kubernetes.io/name": "req1-operator", "app.kubernetes.io/part-of": "req1"},
        },
        "spec": {
            "group": s.GROUP,
            "scope": "Namespaced",
            "names": {
                "kind": s.KIND,
                "listKind": f"{s.KIND}List",
                "plural": s.PLURAL,
                "singular": s.SINGULAR,
                "shortNames": list(s.SHORT_NAMES),
                "categories": ["all", "req1"],
            },
            "versions": [
                {
                    "name": s.VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {
                        "status": {},
                        "scale": {
                            "specReplicasPath": ".spec.api.replicas",
                            "statusReplicasPath": ".status.api.replicas",
                            "labelSelectorPath": ".status.api.selector",
                        },
                    },
                    "additionalPrinterColumns": _printer_columns(),
                    "schema": {"openAPIV3Schema": root},
                }
            ],
        },
    }


def render_yaml() -> str:
    """The CRD as the YAML checked into crds/."""
    header = "# Generated by `python -m req1_operator.crd` from req1_operator/spec/. Do not edit.\n"
    return header + yaml.safe_dump(build_crd(), sort_keys=False, width=120)


def main() -> None:
    sys.stdout.write(render_yaml())


if __name__ == "__main__":
    main()
