"""The Req1Instance model's foundations: API identity, patterns, the Model base with camelCase aliases, CEL
rule helpers, and the shared pieces (resources, storage, env) the component specs use."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
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
    """A field's CEL rules (its `json_schema_extra`)."""
    return {"x-kubernetes-validations": list(rules)}


def _model_rules(*rules: dict[str, Any]) -> ConfigDict:
    """A model's CEL rules: they land in the CRD and `parse_spec` evaluates them (spec/cel.py)."""
    return ConfigDict(json_schema_extra=_rules(*rules))


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


def _size(default_size: str) -> Any:
    """A volume size field; each storage class below has its own default."""
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


class VolumeStorage(Model):
    """A PersistentVolumeClaim's size and class (fixed at creation: StatefulSet claim templates are immutable)."""

    model_config = _model_rules(
        _cel(
            "self == oldSelf",
            "storage size and storageClassName cannot be changed after creation (StatefulSet volume claim "
            "templates are immutable); expand the PersistentVolumeClaims directly instead",
            reason="FieldValueForbidden",
        ),
    )

    size: str = _size("1Gi")
    storage_class_name: str | None = Field(
        default=None,
        description="StorageClass of the claim; the cluster default when omitted.",
        pattern=DNS_SUBDOMAIN_PATTERN,
        max_length=253,
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


class SecretKeyRef(Model):
    """A key in a Secret of the instance's namespace."""

    name: str = Field(description="Secret name.", pattern=DNS_SUBDOMAIN_PATTERN, max_length=253)
    key: str = Field(description="Key inside the Secret.", min_length=1, max_length=253)


class EnvVar(Model):
    """An extra environment variable for the API containers: a literal value or a Secret key."""

    model_config = _model_rules(
        _cel("has(self.value) != has(self.secretKeyRef)", "set exactly one of value or secretKeyRef"),
        _cel(
            "!(self.name in " + repr(list(MANAGED_ENV)) + ")",
            "api.extraEnv cannot set variables the operator manages: " + ", ".join(MANAGED_ENV),
            messageExpression="'api.extraEnv cannot set ' + self.name + ': the operator manages it'",
        ),
    )

    name: str = Field(description="Variable name.", pattern=ENV_NAME_PATTERN, max_length=128)
    value: str | None = Field(default=None, description="Literal value.", max_length=4096)
    secret_key_ref: SecretKeyRef | None = Field(default=None, description="Take the value from a Secret key.")


