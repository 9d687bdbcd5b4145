"""The component specs of a Req1Instance: API, Ingress, PostgreSQL, Redis, object storage."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from req1_operator.spec.base import (
    DEFAULT_POSTGRES_IMAGE_REPOSITORY,
    DEFAULT_POSTGRES_VERSION,
    DNS_HOST_PATTERN,
    DNS_LABEL_PATTERN,
    DNS_SUBDOMAIN_PATTERN,
    IMAGE_PATTERN,
    MANAGED_PG_PARAMETERS,
    EnvVar,
    Model,
    PostgresMajor,
    PostgresStorage,
    RedisStorage,
    ResourceList,
    Resources,
    _cel,
    _model_rules,
    _rules,
    _sub,
)

# ---------------------------------------------------------------------------------------------- api


class Autoscaling(Model):
    """HorizontalPodAutoscaler for the API; when enabled the operator stops setting Deployment replicas."""

    model_config = _model_rules(
        _cel(
            "self.minReplicas <= self.maxReplicas",
            "api.autoscaling.minReplicas must be less than or equal to maxReplicas",
        )
    )

    enabled: bool = Field(default=False, description="Create an HPA for the API Deployment.")
    min_replicas: int = Field(default=2, ge=1, le=100, description="Lower bound of API pods.")
    max_replicas: int = Field(default=10, ge=1, le=100, description="Upper bound of API pods.")
    target_cpu_utilization_percentage: int = Field(
        alias="targetCPUUtilizationPercentage",
        default=70,
        ge=10,
        le=100,
        description="Average CPU utilization (of requests) the HPA aims for.",
    )



def _default_api_resources() -> Resources:
    return Resources(
        requests=ResourceList(cpu="100m", memory="256Mi"),
        limits=ResourceList(memory="512Mi"),
    )


class ApiSpec(Model):
    """The req1 API server Deployment."""

    replicas: int = Field(default=2, ge=0, le=100, description="API pods when autoscaling is off.")
    autoscaling: Autoscaling = _sub(Autoscaling, "Horizontal autoscaling of the API.")
    resources: Resources = Field(
        default_factory=_default_api_resources,
        description="API container resources.",
        json_schema_extra={"default": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": "512Mi"}}},
    )
    cors_origin: str | None = Field(
        default=None,
        description="CORS_ORIGIN: `*` or a comma-separated list of exact origins.",
        max_length=2048,
        pattern=r"^(\*|https?://[^\s,]+(,\s*https?://[^\s,]+)*)$",
    )
    admin_email: str = Field(
        default="admin@localhost",
        description="E-mail of the initial administrator (its password is generated into a Secret).",
        max_length=254,
        pattern=r"^[^@\s]+@[^@\s]+$",
    )
    extra_env: list[EnvVar] = Field(
        default_factory=list,
        description="Additional environment variables for the API and migrate containers.",
        max_length=64,
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"]},
    )



# ---------------------------------------------------------------------------------------------- ingress


class Issuer(Model):
    """A cert-manager issuer that signs the ingress certificate."""

    name: str = Field(description="Issuer name.", pattern=DNS_SUBDOMAIN_PATTERN, max_length=253)
    kind: Literal["ClusterIssuer", "Issuer"] = Field(default="ClusterIssuer", description="Issuer kind.")


class IngressTLS(Model):
    """HTTPS on the ingress: a certificate from a cert-manager issuer, or an existing TLS Secret."""

    model_config = _model_rules(
        _cel(
            "!self.enabled || (has(self.issuer) != has(self.secretName))",
            "ingress.tls.enabled requires exactly one of issuer (cert-manager) or secretName (existing Secret)",
        ),
        _cel(
            "self.enabled || (!has(self.issuer) && !has(self.secretName))",
            "ingress.tls.issuer and ingress.tls.secretName need ingress.tls.enabled: true",
        ),
    )

    enabled: bool = Field(default=False, description="Serve HTTPS.")
    issuer: Issuer | None = Field(default=None, description="cert-manager issuer creating the certificate.")
    secret_name: str | None = Field(
        default=None, description="An existing kubernetes.io/tls Secret.", pattern=DNS_SUBDOMAIN_PATTERN, max_length=253
    )



class RateLimit(Model):
    """Per-client-IP request rate limit enforced by ingress-nginx (on top of the API's own limits)."""

    requests_per_second: int = Field(default=20, ge=1, le=10000, description="Sustained requests per second.")
    burst_multiplier: int = Field(default=5, ge=1, le=100, description="Burst size as a multiple of the rate.")


class IngressSpec(Model):
    """External HTTP(S) access through an Ingress (ingress-nginx annotations)."""

    model_config = _model_rules(
        _cel("!self.enabled || has(self.host)", "ingress.host is required when ingress.enabled is true"),
    )

    enabled: bool = Field(default=False, description="Create Ingress objects for the API.")
    host: str | None = Field(
        default=None, description="DNS name served, e.g. `req1.example.com`.", pattern=DNS_HOST_PATTERN, max_length=253
    )
    class_name: str = Field(
        default="nginx", description="IngressClass name.", pattern=DNS_SUBDOMAIN_PATTERN, max_length=253
    )
    tls: IngressTLS = _sub(IngressTLS, "HTTPS settings.")
    rate_limit: RateLimit = _sub(RateLimit, "Rate limiting at the ingress.")
    cache_assets: bool = Field(
        default=False,
        description="Cache `/assets/*` (immutable, content-hashed) in ingress-nginx's proxy cache. Needs the "
        "controller to allow snippet annotations and to define the cache zone (http-snippet: proxy_cache_path ... "
        "keys_zone=<cacheZone>:10m). Without it `/assets` is still served buffered and outside the rate limit.",
    )
    cache_zone: str = Field(
        default="req1-assets",
        description="ingress-nginx proxy_cache zone name.",
        pattern=r"^[a-z0-9_-]+$",
        max_length=63,
    )
    annotations: dict[str, str] = Field(
        default_factory=dict,
        description="Extra annotations for the Ingress objects; they win over the operator's.",
        max_length=64,
    )



# ---------------------------------------------------------------------------------------------- postgres


def _default_pg_resources() -> Resources:
    return Resources(requests=ResourceList(cpu="250m", memory="512Mi"), limits=ResourceList(memory="1Gi"))


SynchronousMode = Literal["off", "preferred", "required"]


def _sync_mode(value: Any) -> Any:
    """Booleans of the earlier schema still parse: true meant required, false off."""
    if isinstance(value, bool):
        return "required" if value else "off"
    return value


class PostgresSpec(Model):
    """PostgreSQL: one StatefulSet whose pods run the instance manager; the operator picks the primary."""

    model_config = _model_rules(
        _cel(
            "self.synchronousMode != 'required' || self.replicas >= 1",
            "postgres.synchronousMode required needs postgres.replicas >= 1 (a standby to confirm commits)",
        ),
        _cel(
            "!has(self.parameters) || self.parameters.all(k, !(k in " + repr(list(MANAGED_PG_PARAMETERS)) + "))",
            "postgres.parameters cannot set settings the operator manages: " + ", ".join(MANAGED_PG_PARAMETERS),
        ),
    )

    version: PostgresMajor = Field(
        default=DEFAULT_POSTGRES_VERSION,
        description="PostgreSQL major version. Fixed after creation: a major upgrade needs a dump and restore.",
        json_schema_extra=_rules(
            _cel(
                "self == oldSelf",
                "postgres.version is immutable: in-place major upgrades are not supported; "
                "restore a backup into a new instance instead",
                reason="FieldValueForbidden",
            )
        ),
    )
    image: str | None = Field(
        default=None,
        description=f"PostgreSQL image with the req1 instance manager as its entrypoint; "
        f"`{DEFAULT_POSTGRES_IMAGE_REPOSITORY}:<spec.version>-pg<postgres.version>` when omitted. "
        "Its major must match version.",
        pattern=IMAGE_PATTERN,
        max_length=512,
    )
    replicas: int = Field(default=0, ge=0, le=10, description="Read replicas (streaming standbys).")
    synchronous_mode: Annotated[SynchronousMode, BeforeValidator(_sync_mode)] = Field(
        default="off",
        description="`required`: no commit is acknowledged before a standby has it (writes wait while none streams); "
        "`preferred`: synchronous while a standby streams, asynchronous otherwise; `off`: asynchronous.",
    )
    primary: str | None = Field(
        default=None,
        description="Switchover request: the pod that should be primary, e.g. `<name>-postgres-1`. The operator "
        "switches over once that pod is a healthy streaming replica; unset lets failovers stand.",
        pattern=DNS_LABEL_PATTERN,
        max_length=63,
    )
    storage: PostgresStorage = _sub(PostgresStorage, "Data volume of each PostgreSQL pod.")
    resources: Resources = Field(
        default_factory=_default_pg_resources,
        description="PostgreSQL container resources.",
        json_schema_extra={"default": {"requests": {"cpu": "250m", "memory": "512Mi"}, "limits": {"memory": "1Gi"}}},
    )
    parameters: dict[str, str] = Field(
        default_factory=dict,
        description='postgresql.conf settings, e.g. `max_connections: "200"`.',
        max_length=128,
    )
    max_connections: int = Field(default=200, ge=20, le=10000, description="max_connections.")




# ---------------------------------------------------------------------------------------------- redis


class RedisSpec(Model):
    """Redis for sessions, token revocation and rate limits."""

    image: str = Field(default="redis:7.4-alpine", description="Redis image.", pattern=IMAGE_PATTERN, max_length=512)
    persistence: bool = Field(
        default=True,
        description="Append-only file on a PersistentVolumeClaim; off = in-memory only. Fixed at creation.",
        json_schema_extra=_rules(
            _cel(
                "self == oldSelf",
                "redis.persistence cannot be changed after creation (the StatefulSet's volumes are immutable)",
                reason="FieldValueForbidden",
            )
        ),
    )
    storage: RedisStorage = _sub(RedisStorage, "Volume used when persistence is on.")
    resources: Resources = Field(
        default_factory=lambda: Resources(
            requests=ResourceList(cpu="50m", memory="64Mi"), limits=ResourceList(memory="256Mi")
        ),
        description="Redis container resources.",
        json_schema_extra={"default": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}}},
    )
