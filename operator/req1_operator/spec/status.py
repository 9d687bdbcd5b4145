"""The status a Req1Instance reports (written by the operator; computed from what it observes)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field

from req1_operator.spec.base import Model

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


class DrillRecord(Model):
    """The last restore drill: the latest backup restored into a scratch pod and checked."""

    model_config = ConfigDict(frozen=False)

    result: Literal["Passed", "Failed"] = Field(description="Passed or Failed.")
    reason: str = Field(default="", description="What was checked, or why it failed.", max_length=4096)
    backup_id: str = Field(default="", description="The base backup restored.")
    started_at: str = Field(default="", description="When the drill started (RFC 3339).")
    finished_at: str = Field(default="", description="When it finished (RFC 3339).")
    duration_seconds: float = Field(default=0, description="Wall time of the drill.")
    job: str = Field(default="", description="The Job that ran it.")


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
    last_pre_restore: str | None = Field(
        default=None, description="The last backup an in-place restore took first (`pre-restore-<request>`)."
    )
    archiving: str | None = Field(default=None, description="Continuous WAL archiving: ok, failing or waiting.")
    last_archived_wal: str | None = Field(default=None, description="Last WAL segment archived.")
    last_archived_at: str | None = Field(default=None, description="When it was archived (RFC 3339).")
    first_recoverable_point: str | None = Field(
        default=None, description="The earliest moment a restore can reach: begin of the oldest retained backup."
    )
    last_recoverable_point: str | None = Field(
        default=None, description="The latest: the last archived WAL's time, or the last backup's end if later."
    )
    retained_backups: int | None = Field(default=None, description="Base backups kept in the destination.")
    last_drill: DrillRecord | None = Field(default=None, description="The last restore drill.")


class InPlaceRestoreStatus(Model):
    """An in-place restore (`spec.backup.restoreInPlace`), as the operator walks it; the instance managers act while
    `phase` is `restoring` and read what to restore from here."""

    model_config = ConfigDict(frozen=False)

    request: str = Field(description="The `spec.backup.restoreInPlace.request` value this record is for.")
    phase: Literal["backing-up", "api-stopped", "restoring", "completed", "failed"] = Field(
        description="backing-up, api-stopped, restoring, then completed or failed."
    )
    backup_id: str = Field(
        default="", description="The base backup asked for (empty: the latest before the target); at the end, the "
        "one restored."
    )
    target_time: str = Field(default="", description="The recovery target (empty: the end of the archive).")
    pre_restore_backup: str = Field(default="", description="The backup of the state before (its name).")
    pre_restore_backup_id: str = Field(default="", description="That backup's id, once taken.")
    timeline: int = Field(default=0, description="Timeline after the restore.")
    lsn: str = Field(default="", description="WAL position reached.")
    started_at: str = Field(default="", description="When the operator took the request (RFC 3339).")
    primary_completed_at: str = Field(
        default="", description="When the target primary reported its restore done (replicas then catch up)."
    )
    completed_at: str = Field(default="", description="When it completed or failed (RFC 3339).")
    duration_seconds: float = Field(default=0, description="From startedAt to completedAt: backup, restore, API back.")
    restore_seconds: float = Field(default=0, description="The primary's restore alone, as its manager measured it.")
    attempts: int = Field(
        default=1, description="Requests run for this target in a row (a retry after a failure adds one)."
    )
    error: str = Field(default="", description="Why it failed, if it did.", max_length=2048)


class RestoreStatus(Model):
    """What the bootstrap from a backup restored (`spec.restore`), as the restoring member reported it, and the last
    in-place restore (`inPlace`)."""

    model_config = ConfigDict(frozen=False)

    phase: str | None = Field(default=None, description="downloading, recovering, completed or failed.")
    source: str | None = Field(default=None, description="The backups restored from.")
    backup_id: str | None = Field(default=None, description="The base backup used.")
    target_time: str | None = Field(default=None, description="The recovery target, if any.")
    timeline: int | None = Field(default=None, description="Timeline after the restore.")
    lsn: str | None = Field(default=None, description="WAL position reached.")
    duration_seconds: float | None = Field(default=None, description="From the start of the download to promotion.")
    completed_at: str | None = Field(default=None, description="When it finished (RFC 3339).")
    error: str | None = Field(default=None, description="Why it failed, if it did.", max_length=2048)
    in_place: InPlaceRestoreStatus | None = Field(default=None, description="The last in-place restore.")


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
    restore: RestoreStatus | None = Field(
        default=None, description="The restore this instance was created from, and the last in-place restore."
    )
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


