"""The Req1Instance resource as pydantic models: the single source of the CRD schema and of the operator's view.

Field names are snake_case in Python and camelCase on the wire (aliases). Cross-field rules live here as CEL
(`x-kubernetes-validations`) so the API server rejects bad resources at apply time; the most important ones are
mirrored as pydantic validators so the operator never acts on a spec the apiserver would have refused.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

GROUP = "req1.io"
VERSION = "v1alpha1"
KIND = "Req1Instance"
PLURAL = "req1instances"
SINGULAR = "req1instance"
SHORT_NAMES = ["req1"]
API_VERSION = f"{GROUP}/{VERSION}"

#: Instance names are capped so every child name (e.g. `<name>-seaweedfs-volume-0` plus the StatefulSet
#: revision hash label) stays within Kubernetes' 63-character limits.
MAX_NAME_LENGTH = 30

DEFAULT_VERSION = "0.1.0"
DEFAULT_IMAGE_REPOSITORY = "ghcr.io/req1/req1-server"
#: Dockerfile.postgres: the official PostgreSQL image with `req1-instance-manager` as PID 1.
DEFAULT_POSTGRES_IMAGE_REPOSITORY = "ghcr.io/req1/req1-postgres"

PostgresMajor = Literal[15, 16, 17]
DEFAULT_POSTGRES_VERSION: PostgresMajor = 16

# Patterns are kept compatible with both Python `re` and Go RE2 (no look-arounds).
QUANTITY_PATTERN = (
    r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$"
)
DNS_HOST_PATTERN = r"^(\*\.)?([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)*[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
DNS_LABEL_PATTERN = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
DNS_SUBDOMAIN_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
ENV_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
IMAGE_PATTERN = r"^[a-z0-9]+([._/:@-][A-Za-z0-9_.-]+)*$"
SEMVER_PATTERN = r"^v?[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$"
#: Five cron fields (minute hour day month weekday), each made of digits, `*`, `/`, `-`, `,` or names.
CRON_PATTERN = r"^(@(yearly|annually|monthly|weekly|daily|hourly)|([0-9*/,A-Za-z?-]+ ){4}[0-9*/,A-Za-z?-]+)$"
RFC3339_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$"
RETENTION_PATTERN = r"^[1-9][0-9]*[dwm]$"
DURATION_PATTERN = r"^[1-9][0-9]*(s|m|h)$"
URL_PATTERN = r"^https?://[^\s/$.?#][^\s]*$"

#: Environment variables the operator sets on the API; `api.extraEnv` may not override them.
MANAGED_ENV = (
    "APP_ENV",
    "DATABASE_URL",
    "DATABASE_REPLICA_URL",
    "REDIS_URL",
    "S3_ENDPOINT",
    "S3_BUCKET",
    "S3_ACCESS_KEY",
    "S3_SECRET_KEY",
    "S3_REGION",
    "JWT_SECRET",
    "ADMIN_EMAIL",
    "ADMIN_PASSWORD",
    "RUN_MIGRATIONS",
    "PORT",
    "LISTEN_ADDR",
)

#: PostgreSQL settings the operator owns (replication, archiving, paths); `postgres.parameters` may not set them.
MANAGED_PG_PARAMETERS = (
    "listen_addresses",
    "port",
    "data_directory",
    "hba_file",
    "ident_file",
    "config_file",
    "wal_level",
    "hot_standby",
    "archive_mode",
    "archive_command",
    "restore_command",
    "primary_conninfo",
    "primary_slot_name",
    "synchronous_standby_names",
)


def _cel(rule: str, message: str, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"rule": rule, "message": message}
    out.update(extra)
    return out


def _rules(*rules: dict[str, Any]) -> dict[str, Any]:
    return {"x-kubernetes-validations": list(rules)}


def _quantity_schema(description: str) -> dict[str, Any]:
    # The shape controller-gen emits for resource.Quantity: integer or string, string matching the pattern.
    return {
        "anyOf": [{"type": "integer"}, {"type": "string"}],
        "pattern": QUANTITY_PATTERN,
        "x-kubernetes-int-or-string": True,
        "description": description,
    }


def _check_quantity(value: int | str) -> int | str:
    if isinstance(value, str) and not re.match(QUANTITY_PATTERN, value):
        raise ValueError(f"{value!r} is not a Kubernetes quantity such as 500m, 2, 512Mi or 1Gi")
    return value


Quantity = Annotated[int | str, Field(union_mode="left_to_right"), AfterValidator(_check_quantity)]
"""A Kubernetes resource quantity such as `500m`, `1`, `512Mi`; CRD schema patched in by `_quantity_field`."""


def _quantity_field(description: str, default: Any = None) -> Any:
    return Field(
        default=default,
        description=description,
        json_schema_extra=_quantity_schema(description),
    )


class Model(BaseModel):
    """Base: camelCase aliases, unknown fields rejected, population by either name."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
    )


def _default_of(model: type[Model]) -> dict[str, Any]:
    # The API server checks a default against the CEL rules as written (nested defaults not applied), so the
    # default of a nested object is the model's fully defaulted form, not `{}`.
    return model().model_dump(by_alias=True, exclude_none=True, mode="json")


def _sub(model: type[Model], description: str) -> Any:
    """A nested object present by default, with every field defaulted."""
    return Field(default_factory=model, description=description, json_schema_extra={"default": _default_of(model)})


# ---------------------------------------------------------------------------------------------- common pieces


class ResourceList(Model):
    """CPU and memory amounts."""

    cpu: Quantity | None = _quantity_field("CPU, e.g. `250m` or `1`.")
    memory: Quantity | None = _quantity_field("Memory, e.g. `256Mi` or `1Gi`.")


class Resources(Model):
    """Container resource requests and limits."""

    requests: ResourceList = _sub(ResourceList, "Minimum resources reserved for the container.")
    limits: ResourceList = _sub(ResourceList, "Maximum resources the container may use.")


class VolumeStorage(Model):
    """A PersistentVolumeClaim's size and class (fixed at creation: StatefulSet claim templates are immutable)."""

    model_config = ConfigDict(
        json_schema_extra=_rules(
            _cel(
                "self == oldSelf",
                "storage size and storageClassName cannot be changed after creation (StatefulSet volume claim "
                "templates are immutable); expand the PersistentVolumeClaims directly instead",
                reason="FieldValueForbidden",
            ),
        )
    )

    size: str = Field(
        default="1Gi",
        description="Volume size, e.g. `10Gi`.",
        pattern=QUANTITY_PATTERN,
        max_length=32,
        json_schema_extra=_rules(
            _cel(
                "isQuantity(self) && quantity(self).isGreaterThan(quantity('0'))",
                "storage size must be greater than zero",
            ),
        ),
    )
    storage_class_name: str | None = Field(
        default=None,
        description="StorageClass of the claim; the cluster default when omitted.",
        pattern=DNS_SUBDOMAIN_PATTERN,
        max_length=253,
    )


def _size(default_size: str) -> Any:
    return Field(
        default=default_size,
        description=f"Volume size, e.g. `{default_size}`.",
        pattern=QUANTITY_PATTERN,
        max_length=32,
        json_schema_extra=_rules(
            _cel(
                "isQuantity(self) && quantity(self).isGreaterThan(quantity('0'))",
                "storage size must be greater than zero",
            ),
        ),
    )


# One class per default size, so `storage: {storageClassName: fast}` keeps the right size default.
class PostgresStorage(VolumeStorage):
    """Data volume of a PostgreSQL pod (fixed at creation: StatefulSet claim templates are immutable)."""

    size: str = _size("10Gi")


class RedisStorage(VolumeStorage):
    """Redis volume (fixed at creation: StatefulSet claim templates are immutable)."""

    size: str = _size("1Gi")


class SeaweedFSVolumeStorage(VolumeStorage):
    """Volume of a SeaweedFS volume server (fixed at creation: StatefulSet claim templates are immutable)."""

    size: str = _size("10Gi")


class SeaweedFSMetaStorage(VolumeStorage):
    """Metadata volume of a SeaweedFS master or filer (fixed at creation)."""

    size: str = _size("1Gi")


def _storage(model: type[VolumeStorage], description: str) -> Any:
    return Field(default_factory=model, description=description, json_schema_extra={"default": _default_of(model)})


class SecretKeyRef(Model):
    """A key in a Secret of the instance's namespace."""

    name: str = Field(description="Secret name.", pattern=DNS_SUBDOMAIN_PATTERN, max_length=253)
    key: str = Field(description="Key inside the Secret.", min_length=1, max_length=253)


class EnvVar(Model):
    """An extra environment variable for the API containers: a literal value or a Secret key."""

    model_config = ConfigDict(
        json_schema_extra=_rules(
            _cel(
                "has(self.value) != has(self.secretKeyRef)",
                "set exactly one of value or secretKeyRef",
            ),
            _cel(
                "!(self.name in " + repr(list(MANAGED_ENV)) + ")",
                "api.extraEnv cannot set variables the operator manages: " + ", ".join(MANAGED_ENV),
                messageExpression="'api.extraEnv cannot set ' + self.name + ': the operator manages it'",
            ),
        )
    )

    name: str = Field(description="Variable name.", pattern=ENV_NAME_PATTERN, max_length=128)
    value: str | None = Field(default=None, description="Literal value.", max_length=4096)
    secret_key_ref: SecretKeyRef | None = Field(default=None, description="Take the value from a Secret key.")

    @model_validator(mode="after")
    def _one_source(self) -> EnvVar:
        if (self.value is None) == (self.secret_key_ref is None):
            raise ValueError("set exactly one of value or secretKeyRef")
        return self


# ---------------------------------------------------------------------------------------------- api


class Autoscaling(Model):
    """HorizontalPodAutoscaler for the API; when enabled the operator stops setting Deployment replicas."""

    model_config = ConfigDict(
        json_schema_extra=_rules(
            _cel(
                "self.minReplicas <= self.maxReplicas",
                "api.autoscaling.minReplicas must be less than or equal to maxReplicas",
            )
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

    @model_validator(mode="after")
    def _bounds(self) -> Autoscaling:
        if self.min_replicas > self.max_replicas:
            raise ValueError("api.autoscaling.minReplicas must be less than or equal to maxReplicas")
        return self


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

    @model_validator(mode="after")
    def _no_managed_env(self) -> ApiSpec:
        bad = sorted({e.name for e in self.extra_env} & set(MANAGED_ENV))
        if bad:
            raise ValueError(f"api.extraEnv cannot set variables the operator manages: {', '.join(bad)}")
        return self


# ---------------------------------------------------------------------------------------------- ingress


class Issuer(Model):
    """A cert-manager issuer that signs the ingress certificate."""

    name: str = Field(description="Issuer name.", pattern=DNS_SUBDOMAIN_PATTERN, max_length=253)
    kind: Literal["ClusterIssuer", "Issuer"] = Field(default="ClusterIssuer", description="Issuer kind.")


class IngressTLS(Model):
    """HTTPS on the ingress: a certificate from a cert-manager issuer, or an existing TLS Secret."""

    model_config = ConfigDict(
        json_schema_extra=_rules(
            _cel(
                "!self.enabled || (has(self.issuer) != has(self.secretName))",
                "ingress.tls.enabled requires exactly one of issuer (cert-manager) or secretName (existing Secret)",
            ),
            _cel(
                "self.enabled || (!has(self.issuer) && !has(self.secretName))",
                "ingress.tls.issuer and ingress.tls.secretName need ingress.tls.enabled: true",
            ),
        )
    )

    enabled: bool = Field(default=False, description="Serve HTTPS.")
    issuer: Issuer | None = Field(default=None, description="cert-manager issuer creating the certificate.")
    secret_name: str | None = Field(
        default=None, description="An existing kubernetes.io/tls Secret.", pattern=DNS_SUBDOMAIN_PATTERN, max_length=253
    )

    @model_validator(mode="after")
    def _one_source(self) -> IngressTLS:
        if self.enabled and (self.issuer is None) == (self.secret_name is None):
            raise ValueError(
                "ingress.tls.enabled requires exactly one of issuer (cert-manager) or secretName (existing Secret)"
            )
        return self


class RateLimit(Model):
    """Per-client-IP request rate limit enforced by ingress-nginx (on top of the API's own limits)."""

    requests_per_second: int = Field(default=20, ge=1, le=10000, description="Sustained requests per second.")
    burst_multiplier: int = Field(default=5, ge=1, le=100, description="Burst size as a multiple of the rate.")


class IngressSpec(Model):
    """External HTTP(S) access through an Ingress (ingress-nginx annotations)."""

    model_config = ConfigDict(
        json_schema_extra=_rules(
            _cel("!self.enabled || has(self.host)", "ingress.host is required when ingress.enabled is true"),
        )
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

    @model_validator(mode="after")
    def _host(self) -> IngressSpec:
        if self.enabled and not self.host:
            raise ValueError("ingress.host is required when ingress.enabled is true")
        return self


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

    model_config = ConfigDict(
        json_schema_extra=_rules(
            _cel(
                "self.synchronousMode != 'required' || self.replicas >= 1",
                "postgres.synchronousMode required needs postgres.replicas >= 1 (a standby to confirm commits)",
            ),
            _cel(
                "!has(self.parameters) || self.parameters.all(k, !(k in " + repr(list(MANAGED_PG_PARAMETERS)) + "))",
                "postgres.parameters cannot set settings the operator manages: " + ", ".join(MANAGED_PG_PARAMETERS),
            ),
        )
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
    storage: PostgresStorage = _storage(PostgresStorage, "Data volume of each PostgreSQL pod.")
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

    @model_validator(mode="after")
    def _rules(self) -> PostgresSpec:
        if self.synchronous_mode == "required" and self.replicas < 1:
            raise ValueError(
                "postgres.synchronousMode required needs postgres.replicas >= 1 (a standby to confirm commits)"
            )
        bad = sorted(set(self.parameters) & set(MANAGED_PG_PARAMETERS))
        if bad:
            raise ValueError(f"postgres.parameters cannot set settings the operator manages: {', '.join(bad)}")
        return self



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
    storage: RedisStorage = _storage(RedisStorage, "Volume used when persistence is on.")
    resources: Resources = Field(
        default_factory=lambda: Resources(
            requests=ResourceList(cpu="50m", memory="64Mi"), limits=ResourceList(memory="256Mi")
        ),
        description="Redis container resources.",
        json_schema_extra={"default": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}}},
    )


# ---------------------------------------------------------------------------------------------- object storage


class SeaweedFSSpec(Model):
    """In-cluster SeaweedFS: masters, volume servers and a filer with the S3 gateway."""

    model_config = ConfigDict(
        json_schema_extra=_rules(
            _cel("self.masters % 2 == 1", "storage.seaweedfs.masters must be odd (1, 3 or 5) for a Raft quorum"),
            _cel(
                "self.volumeServers >= int(self.replication.substring(2, 3)) + 1",
                "storage.seaweedfs.replication needs more volume servers: replication '00N' keeps N extra copies, "
                "so volumeServers must be at least N+1",
            ),
        )
    )

    image: str = Field(
        default="chrislusf/seaweedfs:3.80", description="SeaweedFS image.", pattern=IMAGE_PATTERN, max_length=512
    )
    masters: int = Field(default=1, ge=1, le=5, description="Master servers (odd).")
    volume_servers: int = Field(default=1, ge=1, le=20, description="Volume servers.")
    replication: Literal["000", "001", "002"] = Field(
        default="000", description="Default replication: `00N` = N extra copies on other volume servers."
    )
    storage: SeaweedFSVolumeStorage = _storage(SeaweedFSVolumeStorage, "Volume of each volume server.")
    master_storage: SeaweedFSMetaStorage = _storage(SeaweedFSMetaStorage, "Volume of each master (metadata).")
    filer_storage: SeaweedFSMetaStorage = _storage(SeaweedFSMetaStorage, "Volume of the filer (its metadata store).")
    resources: Resources = _sub(Resources, "Resources of each SeaweedFS container.")

    @model_validator(mode="after")
    def _rules(self) -> SeaweedFSSpec:
        if self.masters % 2 != 1:
            raise ValueError("storage.seaweedfs.masters must be odd (1, 3 or 5) for a Raft quorum")
        if self.volume_servers < int(self.replication[2]) + 1:
            raise ValueError("storage.seaweedfs.replication needs more volume servers")
        return self


class ExternalS3(Model):
    """An existing S3-compatible service; the Secret holds keys `accessKey` and `secretKey`."""

    endpoint: str = Field(
        description="S3 endpoint URL, e.g. `https://s3.eu-west-1.amazonaws.com`.", pattern=URL_PATTERN, max_length=2048
    )
    bucket: str = Field(description="Existing bucket.", pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
    region: str = Field(default="us-east-1", description="Region.", pattern=r"^[a-z0-9-]+$", max_length=64)
    secret_name: str = Field(
        description="Secret with keys `accessKey` and `secretKey`.", pattern=DNS_SUBDOMAIN_PATTERN, max_length=253
    )


class StorageSpec(Model):
    """Attachment storage: in-cluster SeaweedFS (default) or an external S3 service."""

    model_config = ConfigDict(
        json_schema_extra=_rules(
            _cel(
                "!(has(self.external) && has(self.seaweedfs))",
                "storage.external and storage.seaweedfs are mutually exclusive: remove seaweedfs sizing when using "
                "external S3",
            ),
        )
    )

    bucket: str = Field(
        default="req1",
        description="Bucket name in the in-cluster SeaweedFS.",
        pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$",
    )
    seaweedfs: SeaweedFSSpec | None = Field(
        default=None, description="SeaweedFS sizing; defaults apply when neither this nor external is set."
    )
    external: ExternalS3 | None = Field(default=None, description="Use an external S3 service instead of SeaweedFS.")

    @model_validator(mode="after")
    def _exclusive(self) -> StorageSpec:
        if self.external is not None and self.seaweedfs is not None:
            raise ValueError("storage.external and storage.seaweedfs are mutually exclusive")
        return self

    @property
    def effective_seaweedfs(self) -> SeaweedFSSpec | None:
        """The SeaweedFS to run, or None with external S3."""
        if self.external is not None:
            return None
        return self.seaweedfs or SeaweedFSSpec()


# ---------------------------------------------------------------------------------------------- backup / restore


class ObjectStoreRef(Model):
    """An S3 location for base backups and WAL; the Secret holds keys `accessKey` and `secretKey`."""

    endpoint: str = Field(description="S3 endpoint URL.", pattern=URL_PATTERN, max_length=2048)
    bucket: str = Field(description="Bucket.", pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
    path: str = Field(
        default="", description="Prefix inside the bucket.", max_length=1024, pattern=r"^[A-Za-z0-9._/-]*$"
    )
    region: str = Field(default="us-east-1", description="Region.", pattern=r"^[a-z0-9-]+$", max_length=64)
    secret_name: str = Field(
        description="Secret with keys `accessKey` and `secretKey`.", pattern=DNS_SUBDOMAIN_PATTERN, max_length=253
    )


def _known_time_zone(value: str) -> str:
    """The API server checks only the shape; the operator knows the tz database (an unknown zone is InvalidSpec)."""
    import zoneinfo

    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as e:
        raise ValueError(f"unknown time zone {value!r}") from e
    return value


class BackupSpec(Model):
    """Scheduled base backups and continuous WAL archiving (used by the backup feature)."""

    enabled: bool = Field(default=False, description="Take backups.")
    schedule: str = Field(
        default="0 3 * * *",
        description="Cron schedule of base backups (5 fields or @daily...).",
        pattern=CRON_PATTERN,
        max_length=128,
    )
    retention: str = Field(
        default="7d",
        description="Keep backups for this long: `<n>d`, `<n>w` or `<n>m`.",
        pattern=RETENTION_PATTERN,
        max_length=16,
    )
    destination: ObjectStoreRef | None = Field(
        default=None,
        description=(
            "Where WAL and base backups go. Production: an S3 service outside this instance's failure domain. "
            "When omitted, the instance's own object storage under the prefix `backups` (a Warning says so)."
        ),
    )
    time_zone: Annotated[str, AfterValidator(_known_time_zone)] = Field(
        default="UTC",
        description="IANA time zone `schedule` is read in, e.g. `Europe/Berlin`.",
        pattern=r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$",
        max_length=64,
    )
    request: str | None = Field(
        default=None,
        description=(
            "On-demand base backup: each new value (e.g. a date or a ticket id) takes one backup now; "
            "the backup is named `on-demand-<value>`."
        ),
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
        max_length=48,
    )


class RestoreSpec(Model):
    """Create the instance from a backup (read only at creation)."""

    model_config = ConfigDict(
        json_schema_extra=_rules(
            _cel(
                "!(has(self.targetTime) && has(self.backupId))",
                "restore.targetTime and restore.backupId are mutually exclusive",
            ),
        )
    )

    source: ObjectStoreRef = Field(description="Backup location to restore from.")
    backup_id: str | None = Field(
        default=None,
        description="A specific base backup; the latest when omitted.",
        pattern=r"^[A-Za-z0-9_.-]+$",
        max_length=128,
    )
    target_time: str | None = Field(
        default=None,
        description="Point in time to recover to, RFC 3339 with zone, e.g. `2026-01-02T03:04:05Z`.",
        max_length=64,
        json_schema_extra=_rules(
            _cel(
                "self.matches('" + RFC3339_PATTERN.replace("\\", "\\\\") + "')",
                "restore.targetTime must be an RFC 3339 timestamp with a zone, e.g. 2026-01-02T03:04:05Z",
            )
        ),
    )


# ---------------------------------------------------------------------------------------------- monitoring


class ServiceMonitorSpec(Model):
    """Prometheus Operator ServiceMonitor for the API's /metrics."""

    enabled: bool = Field(default=False, description="Create a ServiceMonitor (only if its CRD exists).")
    interval: str = Field(default="30s", description="Scrape interval.", pattern=DURATION_PATTERN, max_length=16)
    labels: dict[str, str] = Field(
        default_factory=dict, description="Extra labels, e.g. what your Prometheus selects.", max_length=32
    )


class MonitoringSpec(Model):
    """Monitoring integrations."""

    service_monitor: ServiceMonitorSpec = _sub(ServiceMonitorSpec, "ServiceMonitor settings.")


# ---------------------------------------------------------------------------------------------- root


class Req1InstanceSpec(Model):
    """Desired state of one req1 installation."""

    model_config = ConfigDict(
        json_schema_extra=_rules(
            _cel(
                "!has(self.restore) || (has(oldSelf.restore) && self.restore == oldSelf.restore)",
                "spec.restore can only be set when the instance is created and cannot be changed afterwards",
                reason="FieldValueForbidden",
            ),
        )
    )

    version: str = Field(
        default=DEFAULT_VERSION,
        description="req1 version; the image tag, and a change runs the migrate Job before the rollout.",
        pattern=SEMVER_PATTERN,
        max_length=64,
    )
    image: str | None = Field(
        default=None,
        description=f"Full API image reference; `{DEFAULT_IMAGE_REPOSITORY}:<version>` when omitted.",
        pattern=IMAGE_PATTERN,
        max_length=512,
    )
    image_pull_policy: Literal["Always", "IfNotPresent", "Never"] = Field(
        default="IfNotPresent", description="Pull policy of every container."
    )
    image_pull_secrets: list[Annotated[str, Field(pattern=DNS_SUBDOMAIN_PATTERN, max_length=253)]] = Field(
        default_factory=list,
        description="Secrets (kubernetes.io/dockerconfigjson) for pulling every image from private registries.",
        max_length=16,
    )
    api: ApiSpec = _sub(ApiSpec, "The API server.")
    ingress: IngressSpec = _sub(IngressSpec, "External access.")
    postgres: PostgresSpec = _sub(PostgresSpec, "The database.")
    redis: RedisSpec = _sub(RedisSpec, "The cache.")
    storage: StorageSpec = _sub(StorageSpec, "Attachment storage.")
    backup: BackupSpec = _sub(BackupSpec, "Backups.")
    restore: RestoreSpec | None = Field(default=None, description="Bootstrap from a backup (creation only).")
    monitoring: MonitoringSpec = _sub(MonitoringSpec, "Monitoring.")
    deletion_policy: Literal["Retain", "Delete"] = Field(
        default="Retain",
        description="What happens to PersistentVolumeClaims when the instance is deleted.",
    )

    @property
    def effective_image(self) -> str:
        return self.image or f"{DEFAULT_IMAGE_REPOSITORY}:{self.version}"

    @property
    def postgres_image(self) -> str:
        """The instance manager ships with req1, so its image follows spec.version (and the PostgreSQL major)."""
        pg = self.postgres
        return pg.image or f"{DEFAULT_POSTGRES_IMAGE_REPOSITORY}:{self.version}-pg{pg.version}"


# ---------------------------------------------------------------------------------------------- status


Phase = Literal["Pending", "Provisioning", "Ready", "Degraded", "Upgrading", "Failed"]


class Condition(Model):
    """A standard Kubernetes condition."""

    model_config = ConfigDict(frozen=False)

    type: str = Field(description="Condition type, e.g. Ready, Progressing, Degraded.", max_length=316)
    status: Literal["True", "False", "Unknown"] = Field(description="Condition status.")
    reason: str = Field(default="", description="CamelCase reason.", max_length=1024)
    message: str = Field(default="", description="Human-readable detail.", max_length=32768)
    last_transition_time: str | None = Field(default=None, description="When status last changed (RFC 3339).")
    observed_generation: int | None = Field(default=None, description="Spec generation this was computed for.")


class ComponentStatus(Model):
    """Readiness of one component."""

    model_config = ConfigDict(frozen=False)

    ready: bool = Field(default=False, description="Whether the component is ready.")
    message: str = Field(default="", description="Why not, if not.")


class ApiStatus(Model):
    """API replica counts; also the `/scale` subresource's status."""

    model_config = ConfigDict(frozen=False)

    replicas: int = Field(default=0, description="Desired API pods.")
    ready_replicas: int = Field(default=0, description="Ready API pods.")
    selector: str = Field(default="", description="Label selector of the API pods (for /scale).")


class PostgresMember(Model):
    """One PostgreSQL pod as its instance manager reports it (annotation `req1.io/instance-status`)."""

    model_config = ConfigDict(frozen=False)

    name: str = Field(description="Pod name.")
    role: str = Field(default="unknown", description="primary, replica, starting, fenced, failed or unknown.")
    ready: bool = Field(default=False, description="The manager's /readyz.")
    timeline: int = Field(default=0, description="PostgreSQL timeline.")
    lsn: str = Field(default="", description="Current (primary) or received (replica) WAL position.")
    lag_bytes: int = Field(default=0, description="Replay lag behind the primary's WAL end (replicas).")
    streaming: bool = Field(default=False, description="The replica's WAL receiver streams.")
    message: str = Field(default="", description="The manager's own words.")


class PostgresStatus(Model):
    """The PostgreSQL members and the replication state, from what the managers report."""

    model_config = ConfigDict(frozen=False)

    timeline: int | None = Field(default=None, description="Timeline of the current primary.")
    replication: str | None = Field(
        default=None, description="Streaming replicas over replicas and the synchronous mode, e.g. `1/1 sync`."
    )
    members: list[PostgresMember] = Field(default_factory=list, description="Every PostgreSQL pod.")
    failing_since: str | None = Field(
        default=None, description="When the operator first saw the target primary unhealthy (RFC 3339)."
    )


class FailoverRecord(Model):
    """The last change of primary the operator made, with its measured recovery time."""

    model_config = ConfigDict(frozen=False, alias_generator=None, populate_by_name=True)

    from_: str | None = Field(default=None, alias="from", description="The previous primary.")
    to: str = Field(description="The new primary.")
    reason: str = Field(description="Failover, Switchover or Bootstrap, with why.")
    decided_at: str | None = Field(default=None, alias="decidedAt", description="When the operator named `to`.")
    detected_at: str | None = Field(default=None, alias="detectedAt", description="When the problem was seen.")
    writes_resumed_at: str | None = Field(
        default=None, alias="writesResumedAt", description="When the new primary reported role primary and ready."
    )
    rto_seconds: float | None = Field(
        default=None, alias="rtoSeconds", description="writesResumedAt minus detectedAt, in seconds."
    )


class BackupRecord(Model):
    """One completed base backup, as its instance manager reported it."""

    model_config = ConfigDict(frozen=False)

    backup_id: str = Field(description="barman's backup id (a time stamp).")
    name: str = Field(default="", description="The request it was taken for; a restore may name it.")
    pod: str = Field(default="", description="The member it was taken on.")
    from_replica: bool = Field(default=False, description="Taken on a streaming replica.")
    begin_time: str = Field(default="", description="Start (RFC 3339).")
    end_time: str = Field(default="", description="End (RFC 3339): the earliest moment it restores to.")
    size_bytes: int = Field(default=0, description="Size in the object store (compressed).")
    duration_seconds: float = Field(default=0, description="Wall time of the backup.")
    timeline: int = Field(default=0, description="PostgreSQL timeline.")
    end_wal: str = Field(default="", description="Last WAL segment it needs.")


class BackupFailure(Model):
    """The last base backup that failed."""

    model_config = ConfigDict(frozen=False)

    request: str = Field(description="The request id.")
    pod: str = Field(default="", description="The member it ran on.")
    error: str = Field(default="", description="What went wrong.", max_length=2048)
    at: str = Field(default="", description="When the operator saw it (RFC 3339).")


class BackupRequestStatus(Model):
    """A base backup asked of a member and not finished yet."""

    model_config = ConfigDict(frozen=False)

    id: str = Field(description="Request id; the backup's name.")
    pod: str = Field(description="The member asked.")
    kind: str = Field(description="scheduled or on-demand.")
    requested_at: str = Field(description="When (RFC 3339).")


class BackupStatus(Model):
    """Backups as observed: where they go, the last one, the next one, continuous archiving."""

    model_config = ConfigDict(frozen=False)

    destination: str = Field(description="Full prefix of this instance's backups (a restore's `source.path`).")
    endpoint: str = Field(default="", description="S3 endpoint of the destination.")
    credentials_secret: str = Field(default="", description="Secret with the destination's keys.")
    next_scheduled_at: str | None = Field(default=None, description="Next scheduled base backup (RFC 3339, UTC).")
    last_backup: BackupRecord | None = Field(default=None, description="The last completed base backup.")
    last_failure: BackupFailure | None = Field(default=None, description="The last failed base backup.")
    pending: BackupRequestStatus | None = Field(default=None, description="A base backup under way.")
    last_on_demand: str | None = Field(default=None, description="The last `spec.backup.request` value handled.")
    last_pre_upgrade: str | None = Field(
        default=None, description="The backup the last upgrade's migrations waited for (`pre-upgrade-<version>`)."
    )
    archiving: str | None = Field(default=None, description="Continuous WAL archiving: ok, failing or waiting.")
    last_archived_wal: str | None = Field(default=None, description="Last WAL segment archived.")
    last_archived_at: str | None = Field(default=None, description="When it was archived (RFC 3339).")


class RestoreStatus(Model):
    """What the bootstrap from a backup restored (`spec.restore`), as the restoring member reported it."""

    model_config = ConfigDict(frozen=False)

    phase: str = Field(description="downloading, recovering, completed or failed.")
    source: str = Field(default="", description="The backups restored from.")
    backup_id: str = Field(default="", description="The base backup used.")
    target_time: str = Field(default="", description="The recovery target, if any.")
    timeline: int = Field(default=0, description="Timeline after the restore.")
    lsn: str = Field(default="", description="WAL position reached.")
    duration_seconds: float = Field(default=0, description="From the start of the download to promotion.")
    completed_at: str = Field(default="", description="When it finished (RFC 3339).")
    error: str = Field(default="", description="Why it failed, if it did.", max_length=2048)


class Req1InstanceStatus(Model):
    """Observed state, written by the operator."""

    model_config = ConfigDict(frozen=False)

    phase: Phase | None = Field(default=None, description="Lifecycle phase.")
    ready_components: str | None = Field(default=None, description="Ready components over total, e.g. `5/5`.")
    api_replicas: str | None = Field(default=None, description="Ready over desired API pods, e.g. `2/2`.")
    api: ApiStatus | None = Field(default=None, description="API replica counts.")
    primary: str | None = Field(default=None, description="Pod name of the current PostgreSQL primary.")
    target_primary: str | None = Field(
        default=None, description="The pod the operator has chosen as PostgreSQL primary; its manager acts on it."
    )
    postgres: PostgresStatus | None = Field(default=None, description="PostgreSQL members and replication.")
    last_failover: FailoverRecord | None = Field(default=None, description="The last failover or switchover.")
    backup: BackupStatus | None = Field(default=None, description="Backups and WAL archiving (`spec.backup`).")
    restore: RestoreStatus | None = Field(default=None, description="The restore this instance was created from.")
    url: str | None = Field(default=None, description="Where req1 is served.")
    version: str | None = Field(default=None, description="req1 version running (migrations applied).")
    observed_generation: int | None = Field(default=None, description="Last spec generation reconciled.")
    conditions: list[Condition] = Field(
        default_factory=list,
        description="Standard conditions.",
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
    )
    components: dict[str, ComponentStatus] = Field(default_factory=dict, description="Per-component readiness.")
    kopf: dict[str, Any] | None = Field(
        default=None,
        description="kopf's handler progress storage.",
        json_schema_extra={"type": "object", "x-kubernetes-preserve-unknown-fields": True},
    )


def parse_spec(raw: dict[str, Any] | None) -> Req1InstanceSpec:
    """Validate a resource's `spec` (camelCase) into the model."""
    return Req1InstanceSpec.model_validate(raw or {})
