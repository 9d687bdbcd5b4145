"""Attachment storage of a Req1Instance: the in-cluster SeaweedFS or an external S3 service."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from req1_operator.spec.base import (
    DNS_SUBDOMAIN_PATTERN,
    IMAGE_PATTERN,
    URL_PATTERN,
    Model,
    Resources,
    SeaweedFSMetaStorage,
    SeaweedFSVolumeStorage,
    _cel,
    _model_rules,
    _sub,
)

# ---------------------------------------------------------------------------------------------- object storage


class SeaweedFSSpec(Model):
    """In-cluster SeaweedFS: masters, volume servers and a filer with the S3 gateway."""

    model_config = _model_rules(
        _cel("self.masters % 2 == 1", "storage.seaweedfs.masters must be odd (1, 3 or 5) for a Raft quorum"),
        _cel(
            "self.volumeServers >= int(self.replication.substring(2, 3)) + 1",
            "storage.seaweedfs.replication needs more volume servers: replication '00N' keeps N extra copies, "
            "so volumeServers must be at least N+1",
        ),
    )

    image: str = Field(
        default="chrislusf/seaweedfs:3.80", description="SeaweedFS image.", pattern=IMAGE_PATTERN, max_length=512
    )
    masters: int = Field(default=1, ge=1, le=5, description="Master servers (odd).")
    volume_servers: int = Field(default=1, ge=1, le=20, description="Volume servers.")
    replication: Literal["000", "001", "002"] = Field(
        default="000", description="Default replication: `00N` = N extra copies on other volume servers."
    )
    storage: SeaweedFSVolumeStorage = _sub(SeaweedFSVolumeStorage, "Volume of each volume server.")
    master_storage: SeaweedFSMetaStorage = _sub(SeaweedFSMetaStorage, "Volume of each master (metadata).")
    filer_storage: SeaweedFSMetaStorage = _sub(SeaweedFSMetaStorage, "Volume of the filer (its metadata store).")
    resources: Resources = _sub(Resources, "Resources of each SeaweedFS container.")



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

    model_config = _model_rules(
        _cel(
            "!(has(self.external) && has(self.seaweedfs))",
            "storage.external and storage.seaweedfs are mutually exclusive: remove seaweedfs sizing when using "
            "external S3",
        ),
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


    @property
    def effective_seaweedfs(self) -> SeaweedFSSpec | None:
        """The SeaweedFS to run, or None with external S3."""
        if self.external is not None:
            return None
        return self.seaweedfs or SeaweedFSSpec()


