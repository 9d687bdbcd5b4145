"""Generated Secrets: created once with random values, never rendered again once they exist."""

from __future__ import annotations

import base64
import json
from typing import Any

from req1_operator.render import RenderInput, names, secrets
from req1_operator.spec import parse_spec


def make(spec: dict[str, Any] | None = None, existing: set[str] | None = None) -> RenderInput:
    return RenderInput(
        name="demo", namespace="ns", uid="u", spec=parse_spec(spec or {}), existing_secrets=frozenset(existing or ())
    )


def decoded(obj: dict[str, Any]) -> dict[str, str]:
    return {k: base64.b64decode(v).decode() for k, v in obj["data"].items()}


def by_name(objs: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    return {o["metadata"]["name"]: decoded(o) for o in objs}


def test_all_secrets_with_strong_random_values() -> None:
    got = by_name(secrets.render(make()))
    assert set(got) == set(names.all_secret_names("demo"))
    assert len(got["demo-api"]["jwt-secret"]) >= 32  # production startup refuses shorter keys
    assert got["demo-postgres-app"]["username"] == "req1"
    assert got["demo-postgres-app"]["database"] == "req1"
    assert got["demo-postgres-replication"]["username"] == "replicator"
    assert got["demo-postgres-superuser"]["username"] == "postgres"
    passwords = [got[n]["password"] for n in got if "password" in got[n]]
    assert len(set(passwords)) == len(passwords)
    assert all(p.isalnum() and len(p) >= 24 for p in passwords)  # safe inside connection URLs


def test_values_differ_between_renders_when_absent() -> None:
    a = by_name(secrets.render(make()))["demo-postgres-app"]["password"]
    b = by_name(secrets.render(make()))["demo-postgres-app"]["password"]
    assert a != b


def test_existing_secrets_are_never_rendered() -> None:
    existing = {"demo-postgres-app", "demo-api"}
    got = by_name(secrets.render(make(existing=existing)))
    assert not existing & set(got)
    assert "demo-redis" in got
    assert secrets.render(make(existing=set(names.all_secret_names("demo")))) == []


def test_seaweedfs_s3_config_matches_its_keys() -> None:
    got = by_name(secrets.render(make()))["demo-seaweedfs-s3"]
    identity = json.loads(got["s3.json"])["identities"][0]
    assert identity["credentials"] == [{"accessKey": got["accessKey"], "secretKey": got["secretKey"]}]
    assert "Write" in identity["actions"]


def test_no_seaweedfs_secret_with_external_s3() -> None:
    spec = {"storage": {"external": {"endpoint": "https://s3.example.com", "bucket": "att", "secretName": "s3"}}}
    assert "demo-seaweedfs-s3" not in by_name(secrets.render(make(spec)))


def test_secret_shape() -> None:
    for obj in secrets.render(make()):
        assert obj["type"] == "Opaque"
        assert "stringData" not in obj
        assert list(obj["data"]) == sorted(obj["data"])
