"""Req1InstanceSpec: defaults, camelCase wire names, and the CRD's CEL rules as parse_spec evaluates them."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from req1_operator.spec import MANAGED_ENV, Req1InstanceSpec, parse_spec


def test_empty_spec_gets_sensible_defaults() -> None:
    spec = parse_spec({})
    assert spec.version == "0.1.0"
    assert spec.effective_image == "ghcr.io/req1/req1-server:0.1.0"
    assert spec.api.replicas == 2
    assert spec.api.autoscaling.enabled is False
    assert spec.postgres.version == 16
    assert spec.postgres_image == "ghcr.io/req1/req1-postgres:0.1.0-pg16"
    assert spec.postgres.synchronous_mode == "off" and spec.postgres.primary is None
    assert spec.postgres.replicas == 0
    assert spec.redis.persistence is True
    assert spec.storage.external is None
    assert spec.storage.effective_seaweedfs is not None
    assert spec.deletion_policy == "Retain"
    assert spec.ingress.enabled is False
    assert spec.monitoring.service_monitor.enabled is False


def test_wire_names_are_camel_case() -> None:
    spec = parse_spec(
        {
            "api": {"autoscaling": {"enabled": True, "minReplicas": 3, "targetCPUUtilizationPercentage": 50}},
            "postgres": {"synchronousMode": True, "replicas": 1, "storage": {"storageClassName": "fast"}},
            "deletionPolicy": "Delete",
        }
    )
    assert spec.api.autoscaling.min_replicas == 3
    assert spec.api.autoscaling.target_cpu_utilization_percentage == 50
    assert spec.postgres.synchronous_mode == "required"  # the earlier boolean still parses
    assert spec.postgres.storage.storage_class_name == "fast"
    dumped = spec.model_dump(by_alias=True, exclude_none=True)
    assert dumped["api"]["autoscaling"]["targetCPUUtilizationPercentage"] == 50
    assert dumped["deletionPolicy"] == "Delete"


def test_model_round_trips_through_its_wire_form() -> None:
    spec = parse_spec({"ingress": {"enabled": True, "host": "req1.example.com"}})
    again = Req1InstanceSpec.model_validate(spec.model_dump(by_alias=True, exclude_none=True))
    assert again == spec


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ({"api": {"autoscaling": {"minReplicas": 5, "maxReplicas": 2}}}, "minReplicas must be less than or equal"),
        ({"ingress": {"enabled": True}}, "ingress.host is required"),
        (
            {"ingress": {"enabled": True, "host": "a.example.com", "tls": {"enabled": True}}},
            "exactly one of issuer",
        ),
        (
            {
                "ingress": {
                    "enabled": True,
                    "host": "a.example.com",
                    "tls": {"enabled": True, "issuer": {"name": "le"}, "secretName": "x"},
                }
            },
            "exactly one of issuer",
        ),
        ({"postgres": {"synchronousMode": True}}, "synchronousMode required needs postgres.replicas >= 1"),
        ({"postgres": {"synchronousMode": "required"}}, "synchronousMode required needs postgres.replicas >= 1"),
        ({"postgres": {"synchronousMode": "sometimes"}}, "Input should be 'off', 'preferred' or 'required'"),
        ({"postgres": {"primary": "Not_A_Pod"}}, "String should match pattern"),
        ({"postgres": {"parameters": {"wal_level": "minimal"}}}, "cannot set settings the operator manages"),
        (  # the API server's own message (the rule's messageExpression), as the CRD test sees it
            {"api": {"extraEnv": [{"name": "DATABASE_URL", "value": "x"}]}},
            "api.extraEnv cannot set DATABASE_URL: the operator manages it",
        ),
        ({"api": {"extraEnv": [{"name": "FOO"}]}}, "exactly one of value or secretKeyRef"),
        (
            {
                "storage": {
                    "seaweedfs": {"masters": 1},
                    "external": {"endpoint": "https://s3.example.com", "bucket": "b1b", "secretName": "s"},
                }
            },
            "mutually exclusive",
        ),
        ({"storage": {"seaweedfs": {"masters": 2}}}, "must be odd"),
        ({"storage": {"seaweedfs": {"replication": "002", "volumeServers": 2}}}, "needs more volume servers"),
        ({"deletionPolicy": "Orphan"}, "Retain"),
        ({"postgres": {"version": 14}}, "15"),
        ({"ingress": {"enabled": True, "host": "Not_A_Host"}}, "pattern"),
        ({"backup": {"schedule": "every day"}}, "pattern"),
        ({"api": {"replicas": -1}}, "greater than or equal to 0"),
        ({"unknownField": 1}, "Extra inputs are not permitted"),
        ({"api": {"resources": {"requests": {"cpu": "lots"}}}}, "not a Kubernetes quantity"),
    ],
)
def test_invalid_specs_are_rejected_with_a_clear_message(raw: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ValidationError) as err:
        parse_spec(raw)
    assert fragment in str(err.value)


def test_managed_env_covers_what_the_renderer_sets() -> None:
    for name in ("DATABASE_URL", "REDIS_URL", "JWT_SECRET", "S3_ACCESS_KEY", "APP_ENV", "RUN_MIGRATIONS"):
        assert name in MANAGED_ENV


def test_external_storage_disables_seaweedfs() -> None:
    spec = parse_spec(
        {"storage": {"external": {"endpoint": "https://s3.example.com", "bucket": "att", "secretName": "s3"}}}
    )
    assert spec.storage.effective_seaweedfs is None


def test_quantities_accept_integers_and_strings() -> None:
    spec = parse_spec({"api": {"resources": {"requests": {"cpu": 1, "memory": "1Gi"}}}})
    assert spec.api.resources.requests.cpu == 1
    assert spec.api.resources.requests.memory == "1Gi"


def test_setting_only_the_storage_class_keeps_each_size_default() -> None:
    spec = parse_spec(
        {
            "postgres": {"storage": {"storageClassName": "fast"}},
            "redis": {"storage": {"storageClassName": "fast"}},
            "storage": {"seaweedfs": {"storage": {"storageClassName": "fast"}}},
        }
    )
    assert spec.postgres.storage.size == "10Gi"
    assert spec.redis.storage.size == "1Gi"
    sw = spec.storage.effective_seaweedfs
    assert sw is not None
    assert sw.storage.size == "10Gi"
    assert sw.master_storage.size == "1Gi"


def test_crd_schema_is_structural() -> None:
    """Every node typed, no $ref, unions only as int-or-string, no additionalProperties beside properties."""
    from req1_operator.crd import build_crd

    crd = build_crd()
    (version,) = crd["spec"]["versions"]
    seen: list[str] = []

    def walk(node: dict[str, Any], path: str) -> None:
        seen.append(path)
        assert "$ref" not in node, path
        if node.get("x-kubernetes-int-or-string"):
            assert node["anyOf"] == [{"type": "integer"}, {"type": "string"}], path
            return
        assert "anyOf" not in node and "oneOf" not in node, path
        assert "type" in node or node.get("x-kubernetes-preserve-unknown-fields"), path
        assert not ("properties" in node and "additionalProperties" in node), path
        for name, sub in (node.get("properties") or {}).items():
            walk(sub, f"{path}.{name}")
        if isinstance(node.get("additionalProperties"), dict):
            walk(node["additionalProperties"], f"{path}.*")
        if "items" in node:
            walk(node["items"], f"{path}[]")

    walk(version["schema"]["openAPIV3Schema"], "")
    assert ".spec.postgres.storage.size" in seen
    assert ".status.kopf" in seen
    assert version["subresources"]["scale"]["specReplicasPath"] == ".spec.api.replicas"
    columns = [c["name"].upper() for c in version["additionalPrinterColumns"]]
    assert columns == ["PHASE", "READY", "API", "PRIMARY", "TIMELINE", "REPLICATION", "LAST BACKUP", "DRILL",
                       "RESTORE", "URL", "AGE"]
    wide_only = [c["name"] for c in version["additionalPrinterColumns"] if c.get("priority")]
    assert wide_only == ["Restore"]  # the in-place restore's phase: `kubectl get req1 -o wide`


def test_pull_secret_names_are_checked() -> None:
    assert parse_spec({"imagePullSecrets": ["regcred"]}).image_pull_secrets == ["regcred"]
    with pytest.raises(ValidationError):
        parse_spec({"imagePullSecrets": ["Not Valid"]})


# ------------------------------------------------------------------------------------------------ CEL, written once


def _rules_in(schema: dict[str, Any], path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], dict[str, Any]]]:
    """Every (schema path, rule) of the CRD's spec schema; `[]` stands for a list item."""
    out = [(path, r) for r in schema.get("x-kubernetes-validations", ())]
    for name, sub in (schema.get("properties") or {}).items():
        out += _rules_in(sub, (*path, name))
    if isinstance(schema.get("items"), dict):
        out += _rules_in(schema["items"], (*path, "[]"))
    return out


#: A valid spec with every optional block present, so each rule of the CRD has a value to run on.
FULL = {
    "api": {
        "autoscaling": {"enabled": True, "minReplicas": 2, "maxReplicas": 4},
        "extraEnv": [{"name": "FOO", "value": "1"}, {"name": "BAR", "secretKeyRef": {"name": "s", "key": "k"}}],
    },
    "ingress": {"enabled": True, "host": "a.example.com", "tls": {"enabled": True, "secretName": "cert"}},
    "postgres": {"replicas": 1, "synchronousMode": "required", "parameters": {"work_mem": "32MB"}},
    "storage": {"seaweedfs": {"masters": 3, "volumeServers": 3, "replication": "002"}},
    "restore": {"source": {"endpoint": "https://s3.example.com", "bucket": "bkp", "secretName": "s"},
                "targetTime": "2026-01-02T03:04:05Z"},
    "backup": {"enabled": True, "restoreInPlace": {"request": "r1", "targetTime": "2026-01-02T03:04:05Z",
                                                   "confirm": "prod"}},
}  # fmt: skip


def test_every_rule_of_the_crd_runs_in_parse_spec() -> None:
    """Each local rule compiles, uses only functions spec/cel.py provides, and holds on a valid spec; the
    transition rules (oldSelf) are exactly the ones skipped."""
    from req1_operator.crd import build_crd
    from req1_operator.spec import cel

    schema = build_crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    found = _rules_in(schema)
    wire = parse_spec(FULL).model_dump(by_alias=True, exclude_none=True, mode="json")
    checked = 0
    skipped = set()
    for path, rule in found:
        if not cel.local(rule):
            assert "oldSelf" in rule["rule"], rule
            skipped.add(".".join(path))
            continue
        value: Any = wire
        for step in path:
            value = value[0] if step == "[]" else value[step]
        assert cel.holds(rule, cel.celpy.json_to_cel(value)), (path, rule["rule"])
        checked += 1
    assert checked == 20, found  # every cross-field rule of the models, none lost on the way
    assert skipped == {
        "", "postgres.version", "postgres.storage", "redis.persistence", "redis.storage",
        "storage.seaweedfs.storage", "storage.seaweedfs.masterStorage", "storage.seaweedfs.filerStorage",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("raw", "message"),
    [  # rules that had no pydantic twin: now checked by the operator too, with the CRD's message
        (
            {"ingress": {"enabled": True, "host": "a.example.com", "tls": {"secretName": "cert"}}},
            "ingress.tls.issuer and ingress.tls.secretName need ingress.tls.enabled: true",
        ),
        ({"postgres": {"storage": {"size": "0"}}}, "storage size must be greater than zero"),
        ({"redis": {"storage": {"size": "0.0Gi"}}}, "storage size must be greater than zero"),
        (
            {"restore": {"source": FULL["restore"]["source"], "targetTime": "2026-01-02T03:04:05Z", "backupId": "x"}},
            "restore.targetTime and restore.backupId are mutually exclusive",
        ),
        (
            {"restore": {"source": FULL["restore"]["source"], "targetTime": "yesterday at noon"}},
            "restore.targetTime must be an RFC 3339 timestamp with a zone",
        ),
        (
            {"backup": {"restoreInPlace": {"request": "r", "confirm": "x", "targetTime": "2026-01-02T03:04:05Z",
                                           "backupId": "b"}}},
            "backup.restoreInPlace.targetTime and backup.restoreInPlace.backupId are mutually exclusive",
        ),
        (
            {"backup": {"restoreInPlace": {"request": "r", "confirm": "x", "targetTime": "2026-01-02 03:04"}}},
            "backup.restoreInPlace.targetTime must be an RFC 3339 timestamp with a zone",
        ),
    ],
)
def test_crd_only_rules_are_enforced_locally(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as err:
        parse_spec(raw)
    assert message in str(err.value)


def test_rule_failures_name_the_field_and_all_are_reported() -> None:
    with pytest.raises(ValidationError) as err:
        parse_spec({"api": {"extraEnv": [{"name": "OK", "value": "1"}, {"name": "REDIS_URL"}]},
                    "storage": {"seaweedfs": {"masters": 2}}})  # fmt: skip
    got = {(e["loc"], e["msg"]) for e in err.value.errors()}
    assert got == {
        (("api", "extraEnv", 1), "set exactly one of value or secretKeyRef"),
        (("api", "extraEnv", 1), "api.extraEnv cannot set REDIS_URL: the operator manages it"),
        (("storage", "seaweedfs"), "storage.seaweedfs.masters must be odd (1, 3 or 5) for a Raft quorum"),
    }


def test_a_restore_spec_passes_locally_because_transition_rules_are_the_api_servers() -> None:
    assert parse_spec({"restore": FULL["restore"]}).restore is not None


@pytest.mark.parametrize(
    ("text", "value"),
    [("500m", "0.5"), ("1Gi", "1073741824"), ("2", "2"), ("1e3", "1000"), ("1.5k", "1500"), ("0", "0"), ("+.5", "0.5")],
)
def test_quantities_compare_by_value(text: str, value: str) -> None:
    from decimal import Decimal

    from req1_operator.spec.cel import parse_quantity

    assert parse_quantity(text) == Decimal(value)


def test_not_a_quantity_is_refused() -> None:
    from req1_operator.spec.cel import parse_quantity

    with pytest.raises(ValueError, match="not a quantity"):
        parse_quantity("lots")
