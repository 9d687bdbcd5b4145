"""The Req1Instance resource as pydantic models: the single source of the CRD schema and of the operator's view.

Field names are snake_case in Python and camelCase on the wire (aliases). Cross-field rules live here as CEL
(`x-kubernetes-validations`) so the API server rejects bad resources at apply time; the most important ones are
mirrored as pydantic validators so the operator never acts on a spec the apiserver would have refused.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field

from req1_operator.spec.backup import (
    BackupSpec,
    MonitoringSpec,
    ObjectStoreRef,
    RestoreSpec,
    ServiceMonitorSpec,
)
from req1_operator.spec.base import (
    API_VERSION,
    CRON_PATTERN,
    DEFAULT_IMAGE_REPOSITORY,
    DEFAULT_POSTGRES_IMAGE_REPOSITORY,
    DEFAULT_POSTGRES_VERSION,
    DEFAULT_VERSION,
    DNS_HOST_PATTERN,
    DNS_LABEL_PATTERN,
    DNS_SUBDOMAIN_PATTERN,
    DURATION_PATTERN,
    ENV_NAME_PATTERN,
    GROUP,
    IMAGE_PATTERN,
    KIND,
    MANAGED_ENV,
    MANAGED_PG_PARAMETERS,
    MAX_NAME_LENGTH,
    PLURAL,
    QUANTITY_PATTERN,
    RETENTION_PATTERN,
    RFC3339_PATTERN,
    SEMVER_PATTERN,
    SHORT_NAMES,
    SINGULAR,
    URL_PATTERN,
    VERSION,
    EnvVar,
    Model,
    PostgresMajor,
    PostgresStorage,
    Quantity,
    RedisStorage,
    ResourceList,
    Resources,
    SeaweedFSMetaStorage,
    SeaweedFSVolumeStorage,
    SecretKeyRef,
    VolumeStorage,
    _cel,
    _rules,
    _sub,
)
from req1_operator.spec.components import (
    ApiSpec,
    Autoscaling,
    IngressSpec,
    IngressTLS,
    Issuer,
    PostgresSpec,
    RateLimit,
    RedisSpec,
    SynchronousMode,
)
from req1_operator.spec.status import (
    ApiStatus,
    BackupFailure,
    BackupRecord,
    BackupRequestStatus,
    BackupStatus,
    ComponentStatus,
    Condition,
    FailoverRecord,
    Phase,
    PostgresMember,
    PostgresStatus,
    Req1InstanceStatus,
    RestoreStatus,
)
from req1_operator.spec.storage import (
    ExternalS3,
    SeaweedFSSpec,
    StorageSpec,
)

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


def parse_spec(raw: dict[str, Any] | None) -> Req1InstanceSpec:
    """Validate a resource's `spec` (camelCase) into the model."""
    return Req1InstanceSpec.model_validate(raw or {})


__all__ = [
    "API_VERSION",
    "CRON_PATTERN",
    "DEFAULT_IMAGE_REPOSITORY",
    "DEFAULT_POSTGRES_IMAGE_REPOSITORY",
    "DEFAULT_POSTGRES_VERSION",
    "DEFAULT_VERSION",
    "DNS_HOST_PATTERN",
    "DNS_LABEL_PATTERN",
    "DNS_SUBDOMAIN_PATTERN",
    "DURATION_PATTERN",
    "ENV_NAME_PATTERN",
    "GROUP",
    "IMAGE_PATTERN",
    "KIND",
    "MANAGED_ENV",
    "MANAGED_PG_PARAMETERS",
    "MAX_NAME_LENGTH",
    "PLURAL",
    "QUANTITY_PATTERN",
    "RETENTION_PATTERN",
    "RFC3339_PATTERN",
    "SEMVER_PATTERN",
    "SHORT_NAMES",
    "SINGULAR",
    "URL_PATTERN",
    "VERSION",
    "ApiSpec",
    "ApiStatus",
    "Autoscaling",
    "BackupFailure",
    "BackupRecord",
    "BackupRequestStatus",
    "BackupSpec",
    "BackupStatus",
    "ComponentStatus",
    "Condition",
    "EnvVar",
    "ExternalS3",
    "FailoverRecord",
    "IngressSpec",
    "IngressTLS",
    "Issuer",
    "Model",
    "MonitoringSpec",
    "ObjectStoreRef",
    "Phase",
    "PostgresMajor",
    "PostgresMember",
    "PostgresSpec",
    "PostgresStatus",
    "PostgresStorage",
    "Quantity",
    "RateLimit",
    "RedisSpec",
    "RedisStorage",
    "Req1InstanceSpec",
    "Req1InstanceStatus",
    "ResourceList",
    "Resources",
    "RestoreSpec",
    "RestoreStatus",
    "SeaweedFSMetaStorage",
    "SeaweedFSSpec",
    "SeaweedFSVolumeStorage",
    "SecretKeyRef",
    "ServiceMonitorSpec",
    "StorageSpec",
    "SynchronousMode",
    "VolumeStorage",
    "parse_spec",
]
