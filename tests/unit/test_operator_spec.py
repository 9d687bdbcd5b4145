"""Req1InstanceSpec: defaults, camelCase wire names, and the cross-field rules mirrored from the CRD's CEL."""

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
        ({"api": {"extraEnv": [{"name": "DATABASE_URL", "value": "x"}]}}, "cannot set variables the operator"),
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
    assert columns == ["PHASE", "READY", "API", "PRIMARY", "TIMELINE", "REPLICATION", "LAST BACKUP", "URL", "AGE"]


def test_pull_secret_names_are_checked() -> None:
    assert parse_spec({"imagePullSecrets": ["regcred"]}).image_pull_secrets == ["regcred"]
    with pytest.raises(ValidationError):
        parse_spec({"imagePullSecrets": ["Not Valid"]})
