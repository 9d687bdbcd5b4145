"""Where an instance's backups go and come from, as the PostgreSQL container's environment (docs/backups.md).

`spec.backup.destination` when given (production: an S3 service outside the instance's failure domain); else the
instance's own object storage (its SeaweedFS, or the external S3 of `spec.storage`) under the prefix `backups`.
The instance manager appends `/<namespace>/<instance>`, so instances sharing a bucket never mix their WAL.
`spec.restore` (creation only) points an empty PGDATA at another instance's backups, with its own credentials.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from req1_operator.render import config, names, pod
from req1_operator.render.types import RenderInput

OWN_PREFIX = "backups"
_DAYS = {"d": 1, "w": 7, "m": 30}


@dataclass(frozen=True)
class BackupTarget:
    """An S3 location with the Secret (keys `accessKey`, `secretKey`) that opens it."""

    url: str  # s3://bucket[/prefix]
    endpoint: str
    secret_name: str
    region: str
    in_cluster: bool  # the instance's own SeaweedFS: it shares the instance's failure domain

    def instance_url(self, namespace: str, instance: str) -> str:
        """The full prefix of one instance's backups, as a restore names it."""
        return f"{self.url}/{namespace}/{instance}"


def retention_days(retention: str) -> int:
    """`7d`, `2w`, `1m` (30 days) as whole days (the CRD's pattern guarantees the shape)."""
    return int(retention[:-1]) * _DAYS[retention[-1]]


def target(inp: RenderInput) -> BackupTarget | None:
    spec = inp.spec
    if not spec.backup.enabled:
        return None
    dest = spec.backup.destination
    if dest is not None:
        path = dest.path.strip("/")
        url = f"s3://{dest.bucket}" + (f"/{path}" if path else "")
        return BackupTarget(url, dest.endpoint, dest.secret_name, dest.region, in_cluster=False)
    ext = spec.storage.external
    if ext is not None:
        return BackupTarget(f"s3://{ext.bucket}/{OWN_PREFIX}", ext.endpoint, ext.secret_name, ext.region, False)
    return BackupTarget(
        f"s3://{spec.storage.bucket}/{OWN_PREFIX}", config.s3_endpoint(inp),
        names.seaweedfs_s3_secret(inp.name), "us-east-1", in_cluster=True,
    )


def env(inp: RenderInput) -> list[dict[str, Any]]:
    """`REQ1_BACKUP_*` and `REQ1_RESTORE_*` for the instance manager; nothing when neither is asked for."""
    out: list[dict[str, Any]] = []
    t = target(inp)
    if t is not None:
        out += [
            {"name": "REQ1_BACKUP_DESTINATION", "value": t.url},
            {"name": "REQ1_BACKUP_ENDPOINT_URL", "value": t.endpoint},
            {"name": "REQ1_BACKUP_RETENTION_DAYS", "value": str(retention_days(inp.spec.backup.retention))},
            pod.secret_env("AWS_ACCESS_KEY_ID", t.secret_name, "accessKey"),
            pod.secret_env("AWS_SECRET_ACCESS_KEY", t.secret_name, "secretKey"),
            {"name": "AWS_DEFAULT_REGION", "value": t.region},
        ]
    restore = inp.spec.restore
    if restore is not None:
        src = restore.source
        path = src.path.strip("/")
        out += [
            {"name": "REQ1_RESTORE_SOURCE", "value": f"s3://{src.bucket}" + (f"/{path}" if path else "")},
            {"name": "REQ1_RESTORE_ENDPOINT_URL", "value": src.endpoint},
            {"name": "REQ1_RESTORE_BACKUP_ID", "value": restore.backup_id or "latest"},
            pod.secret_env("REQ1_RESTORE_AWS_ACCESS_KEY_ID", src.secret_name, "accessKey"),
            pod.secret_env("REQ1_RESTORE_AWS_SECRET_ACCESS_KEY", src.secret_name, "secretKey"),
            {"name": "REQ1_RESTORE_AWS_DEFAULT_REGION", "value": src.region},
        ]
        if restore.target_time:
            out.append({"name": "REQ1_RESTORE_TARGET_TIME", "value": restore.target_time})
    return out


# ---------------------------------------------------------------------------------------------- attachments

#: How often the attachment objects are copied to the backup destination (a copy never deletes anything).
ATTACHMENTS_SCHEDULE = "*/10 * * * *"
ATTACHMENTS = "attachments-backup"
UID = 1000  # the server image's user


def _sync_pod(inp: RenderInput, mode: str, env: list[dict[str, Any]]) -> dict[str, Any]:
    """`python -m req1_server.attachments_sync <mode>` in the server image, with the app's S3 settings."""
    ext = inp.spec.storage.external
    app_keys = ext.secret_name if ext is not None else names.seaweedfs_s3_secret(inp.name)
    container = {
        "name": f"attachments-{mode}",
        "image": inp.spec.effective_image,
        "imagePullPolicy": inp.spec.image_pull_policy,
        "command": ["python", "-m", "req1_server.attachments_sync", mode],
        "envFrom": [{"configMapRef": {"name": names.api_config(inp.name)}}],  # S3_ENDPOINT, S3_BUCKET, S3_REGION
        "env": [pod.secret_env("S3_ACCESS_KEY", app_keys, "accessKey"),
                pod.secret_env("S3_SECRET_KEY", app_keys, "secretKey"), *env],
        "resources": {"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"memory": "512Mi"}},
        "securityContext": pod.container_security(),
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }
    return {
        "metadata": {"labels": {**names.labels(inp, ATTACHMENTS), names.LABEL_DB_CLIENT: "true"}},
        "spec": {**pod.base(inp), "restartPolicy": "OnFailure", "securityContext": pod.pod_security(UID),
                 "containers": [container], "volumes": [pod.tmp_volume()]},
    }


def _side_env(side: str, url: str, endpoint: str, secret: str, region: str) -> list[dict[str, Any]]:
    return [
        {"name": f"REQ1_{side}_URL", "value": url},
        {"name": f"REQ1_{side}_ENDPOINT_URL", "value": endpoint},
        {"name": f"REQ1_{side}_REGION", "value": region},
        pod.secret_env(f"REQ1_{side}_ACCESS_KEY", secret, "accessKey"),
        pod.secret_env(f"REQ1_{side}_SECRET_KEY", secret, "secretKey"),
    ]


def render_attachments(inp: RenderInput) -> list[dict[str, Any]]:
    """A CronJob copying new attachment objects next to the instance's WAL and base backups; with `spec.restore`,
    a Job copying the source's attachments into this instance's bucket once."""
    out: list[dict[str, Any]] = []
    t = target(inp)
    if t is not None:
        env = _side_env("BACKUP", t.instance_url(inp.namespace, inp.name), t.endpoint, t.secret_name, t.region)
        out.append({
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": names.metadata(inp, f"{inp.name}-{ATTACHMENTS}", ATTACHMENTS),
            "spec": {
                "schedule": ATTACHMENTS_SCHEDULE,
                "concurrencyPolicy": "Forbid",
                "successfulJobsHistoryLimit": 1,
                "failedJobsHistoryLimit": 3,
                "jobTemplate": {"spec": {"backoffLimit": 2, "activeDeadlineSeconds": 3600,
                                         "template": _sync_pod(inp, "backup", env)}},
            },
        })
    restore = inp.spec.restore
    if restore is not None:
        src = restore.source
        path = src.path.strip("/")
        url = f"s3://{src.bucket}" + (f"/{path}" if path else "")
        env = _side_env("RESTORE", url, src.endpoint, src.secret_name, src.region)
        out.append({
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": names.metadata(inp, f"{inp.name}-attachments-restore", ATTACHMENTS),
            "spec": {"backoffLimit": 6, "activeDeadlineSeconds": 6 * 3600,
                     "template": _sync_pod(inp, "restore", env)},
        })
    return out



# ---------------------------------------------------------------------------------------------- restore drills

DRILL = "restore-drill"
DRILL_SCRATCH = "/scratch"
PG_UID = 999  # the postgres user of the PostgreSQL image


def drill_env(inp: RenderInput) -> list[dict[str, Any]]:
    """The drill's environment: this instance's backups (never a restore source), the app database's name."""
    t = target(inp)
    assert t is not None
    n = inp.name
    return [
        pod.field_env("POD_NAME", "metadata.name"),
        pod.field_env("POD_NAMESPACE", "metadata.namespace"),
        {"name": "REQ1_INSTANCE", "value": n},
        {"name": "REQ1_BACKUP_DESTINATION", "value": t.url},
        {"name": "REQ1_BACKUP_ENDPOINT_URL", "value": t.endpoint},
        pod.secret_env("AWS_ACCESS_KEY_ID", t.secret_name, "accessKey"),
        pod.secret_env("AWS_SECRET_ACCESS_KEY", t.secret_name, "secretKey"),
        {"name": "AWS_DEFAULT_REGION", "value": t.region},
        pod.secret_env("POSTGRES_USER", names.postgres_superuser_secret(n), "username"),
        pod.secret_env("REQ1_APP_DATABASE", names.postgres_app_secret(n), "database"),
        {"name": "REQ1_DRILL_SCRATCH", "value": DRILL_SCRATCH},
        {"name": "REQ1_DRILL_ATTACHMENT_SAMPLE", "value": str(inp.spec.backup.drill.attachment_sample)},
    ]


def drill_job_spec(inp: RenderInput) -> dict[str, Any]:
    """One drill: `python -m req1_operator.instance.drill` in the PostgreSQL image, never retried (a failed drill is a
    result, not a glitch). It reports on its own pod, so it runs as the managers' ServiceAccount (get/patch pods)."""
    labels = {**names.labels(inp, DRILL), names.LABEL_DB_CLIENT: "true"}  # db-client: SeaweedFS lets it in
    container = {
        "name": "drill",
        "image": inp.spec.postgres_image,
        "imagePullPolicy": inp.spec.image_pull_policy,
        "command": ["python3", "-m", "req1_operator.instance.drill"],
        "env": drill_env(inp),
        "resources": pod.resources(inp.spec.postgres.resources),
        "securityContext": pod.container_security(),
        "terminationMessagePolicy": "FallbackToLogsOnError",
        "volumeMounts": [{"name": "scratch", "mountPath": DRILL_SCRATCH}, {"name": "tmp", "mountPath": "/tmp"}],
    }
    return {
        "backoffLimit": 0,
        "activeDeadlineSeconds": 12 * 3600,
        "template": {
            "metadata": {"labels": labels},
            "spec": {
                **pod.base(inp),
                "serviceAccountName": names.postgres(inp.name),
                "automountServiceAccountToken": True,
                "restartPolicy": "Never",
                "securityContext": pod.pod_security(PG_UID),
                "containers": [container],
                # the restored copy needs as much room as the database: the node's disk, deleted with the pod
                "volumes": [{"name": "scratch", "emptyDir": {}}, pod.tmp_volume()],
            },
        },
    }


def render_drill(inp: RenderInput) -> list[dict[str, Any]]:
    """A CronJob `<name>-restore-drill` on `backup.drill.schedule` in `backup.timeZone`, while backups are on."""
    if target(inp) is None or not inp.spec.backup.drill.enabled:
        return []
    return [{
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": names.metadata(inp, f"{inp.name}-{DRILL}", DRILL),
        "spec": {
            "schedule": inp.spec.backup.drill.schedule,
            "timeZone": inp.spec.backup.time_zone,
            "concurrencyPolicy": "Forbid",
            "startingDeadlineSeconds": 3600,
            "successfulJobsHistoryLimit": 1,
            "failedJobsHistoryLimit": 1,
            "jobTemplate": {"metadata": {"labels": names.labels(inp, DRILL)}, "spec": drill_job_spec(inp)},
        },
    }]  # fmt: skip
