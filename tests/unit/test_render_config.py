"""ConfigMaps: the API's environment per the server's configuration contract."""

from __future__ import annotations

from typing import Any

from req1_operator.render import RenderInput, config
from req1_operator.spec import parse_spec


def make(spec: dict[str, Any] | None = None) -> RenderInput:
    return RenderInput(name="demo", namespace="ns", uid="u", spec=parse_spec(spec or {}))


def test_api_config_is_production_without_startup_migrations() -> None:
    data = config.api_data(make())
    assert data["APP_ENV"] == "production"
    assert data["RUN_MIGRATIONS"] == "false"
    assert data["REGISTRATION_ENABLED"] == "false"
    assert data["S3_ENDPOINT"] == "http://demo-seaweedfs-filer.ns.svc:8333"
    assert data["S3_BUCKET"] == "req1"
    assert data["ADMIN_EMAIL"] == "admin@localhost"
    assert "CORS_ORIGIN" not in data
    assert not any(k in data for k in ("JWT_SECRET", "ADMIN_PASSWORD", "DATABASE_URL"))  # secrets stay in Secrets


def test_external_s3_and_cors() -> None:
    data = config.api_data(
        make(
            {
                "api": {"corsOrigin": "https://a.example.com"},
                "ingress": {"enabled": True, "host": "a.example.com"},
                "storage": {
                    "external": {
                        "endpoint": "https://s3.example.com",
                        "bucket": "att",
                        "region": "eu-1",
                        "secretName": "s",
                    }
                },
            }
        )
    )
    assert data["S3_ENDPOINT"] == "https://s3.example.com"
    assert (data["S3_BUCKET"], data["S3_REGION"]) == ("att", "eu-1")
    assert data["CORS_ORIGIN"] == "https://a.example.com"
    assert data["TRUST_PROXY"] == "true"


def test_configmaps_are_rendered_with_sorted_data() -> None:
    cms = config.render(make())
    assert [c["metadata"]["name"] for c in cms] == ["demo-api", "demo-postgres", "demo-redis"]
    for cm in cms:
        assert list(cm["data"]) == sorted(cm["data"])
