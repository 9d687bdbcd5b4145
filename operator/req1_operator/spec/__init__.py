"""The Req1Instance resource as pydantic models: the single source of the CRD schema and of the operator's view.

Field names are snake_case in Python and camelCase on the wire (aliases). Cross-field rules are written once, as
CEL (`x-kubernetes-validations`) on the models: the API server enforces them from the generated CRD at apply time,
and `parse_spec` evaluates the same rules (spec/cel.py), so the operator never acts on a spec the API server would
have refused and reports it with the API server's message.
"""

from __future__ import annotations

import functools
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from req1_operator.spec import cel
from req1_operator.spec.backup import (
    BackupSpec,
    InPlaceRestoreSpec,
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
    _model_rules,
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
    InPlaceRestoreStatus,
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

    model_config = _model_rules(
        _cel(
            "!has(self.restore) || (has(oldSelf.restore) && self.restore == oldSelf.restore)",
            "spec.restore can only be set when the instance is created and cannot be changed afterwards",
            reason="FieldValueForbidden",
        ),
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


@functools.cache
def _crd_schema() -> dict[str, Any]:
    # The structural schema the CRD carries for `spec`, rules included; crd.py builds on this package, hence the
    # import on first use.
    from req1_operator.crd import model_schema

    return model_schema(Req1InstanceSpec)


def parse_spec(raw: dict[str, Any] | None) -> Req1InstanceSpec:
    """Validate a resource's `spec` (camelCase) into the model: field types and patterns by pydantic, then the
    CRD's CEL rules on the defaulted wire form, as the API server sees it. Either failure is a ValidationError."""
    spec = Req1InstanceSpec.model_validate(raw or {})
    wire = spec.model_dump(by_alias=True, exclude_none=True, mode="json")
    broken = list(cel.violations(_crd_schema(), wire))
    if broken:
        raise ValidationError.from_exception_data(
            Req1InstanceSpec.__name__,
            [
                InitErrorDetails(
                    type=PydanticCustomError("cel_rule", "{message}", {"message": v.message}), loc=v.loc, input=raw
                )
                for v in broken
            ],
        )
    return spec


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
    "InPlaceRestoreSpec",
    "InPlaceRestoreStatus",
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
