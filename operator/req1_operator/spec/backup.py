"""Backups, restore and monitoring specs of a Req1Instance."""

from __future__ import annotations

from typing import Annotated, Any

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

#: A request value (`backup.request`, `backup.restoreInPlace.request`): it becomes part of a backup's name.
REQUEST_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


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


def _backup_id_field() -> Any:
    return Field(
        default=None,
        description="A specific base backup (its id or its name); the latest when omitted.",
        pattern=r"^[A-Za-z0-9_.-]+$",
        max_length=128,
    )


def _target_time_field(where: str) -> Any:
    """`targetTime` of a restore; `where` names the field in the API server's message (`restore`, ...)."""
    return Field(
        default=None,
        description="Point in time to recover to, RFC 3339 with zone, e.g. `2026-01-02T03:04:05Z`.",
        max_length=64,
        json_schema_extra=_rules(
            _cel(
                "self.matches('" + RFC3339_PATTERN.replace("\\", "\\\\") + "')",
                f"{where}.targetTime must be an RFC 3339 timestamp with a zone, e.g. 2026-01-02T03:04:05Z",
            )
        ),
    )


def _one_target(where: str) -> dict[str, Any]:
    return _cel(
        "!(has(self.targetTime) && has(self.backupId))",
        f"{where}.targetTime and {where}.backupId are mutually exclusive",
    )


class RestoreSpec(Model):
    """Create the instance from a backup (read only at creation)."""

    model_config = _model_rules(_one_target("restore"))

    source: ObjectStoreRef = Field(description="Backup location to restore from.")
    backup_id: str | None = _backup_id_field()
    target_time: str | None = _target_time_field("restore")


class InPlaceRestoreSpec(Model):
    """Restore this very instance from its own backups: a deliberate act, confirmed by the instance's name.

    The operator first takes a base backup of the current state, stops the API, lets the instance managers restore,
    then starts the API again (docs/backups.md, "In-place restore")."""

    model_config = _model_rules(_one_target("backup.restoreInPlace"))

    request: str = Field(
        description=(
            "Each new value runs one in-place restore (a value already handled, completed or failed, never runs "
            "again: a retry takes a new value). The pre-restore backup is named `pre-restore-<value>`."
        ),
        pattern=REQUEST_PATTERN,
        max_length=48,
    )
    backup_id: str | None = _backup_id_field()
    target_time: str | None = _target_time_field("backup.restoreInPlace")
    confirm: str = Field(
        description=(
            "Must equal the instance's `metadata.name`: a restore in place replaces the data the API serves. "
            "Anything else is refused (condition InPlaceRestore=False, reason NotConfirmed)."
        ),
        max_length=253,
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
        pattern=REQUEST_PATTERN,
        max_length=48,
    )
    drill: DrillSpec = _sub(DrillSpec, "Restore drills of the latest backup.")
    restore_in_place: InPlaceRestoreSpec | None = Field(
        default=None,
        description=(
            "Restore this instance in place from its own backups: a backup of the current state first, the API "
            "stopped while the data is replaced, then started again. Needs `enabled`."
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


