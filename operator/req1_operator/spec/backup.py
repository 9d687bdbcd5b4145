"""Backups, restore and monitoring specs of a Req1Instance."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from req1_operator.spec.base import (
    CRON_PATTERN,
    DNS_SUBDOMAIN_PATTERN,
    DURATION_PATTERN,
    RETENTION_PATTERN,
    RFC3339_PATTERN,
    URL_PATTERN,
    Model,
    _cel,
    _model_rules,
    _rules,
    _sub,
)

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


class DrillSpec(Model):
    """Restore drills: the latest base backup restored into a scratch pod and checked (docs/backups.md)."""

    enabled: bool = Field(
        default=True, description="Run restore drills while backups are enabled (on by default: daily)."
    )
    schedule: str = Field(
        default="0 5 * * *",
        description=(
            "Cron schedule of drills, read in `backup.timeZone` (default daily at 05:00, two hours after the "
            "default backup). A CronJob `<name>-restore-drill` runs them."
        ),
        pattern=CRON_PATTERN,
        max_length=128,
    )
    attachment_sample: int = Field(
        default=20,
        ge=0,
        le=1000,
        description="How many attachments (chosen at random) are read back from the backup and checked by SHA-256.",
    )


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
    drill: DrillSpec = _sub(DrillSpec, "Restore drills of the latest backup.")


class RestoreSpec(Model):
    """Create the instance from a backup (read only at creation)."""

    model_config = _model_rules(
        _cel(
            "!(has(self.targetTime) && has(self.backupId))",
            "restore.targetTime and restore.backupId are mutually exclusive",
        ),
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


