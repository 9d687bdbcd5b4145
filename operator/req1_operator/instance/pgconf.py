"""The settings the manager owns, kept in ``postgresql.auto.conf`` of the data directory.

The operator renders postgresql.conf (read-only in the pod); what depends on the pod's role or on the moment —
where to stream from, which slot, synchronous standbys, WAL archiving — is written here, because
postgresql.auto.conf is read after the main file and wins. pg_basebackup and pg_rewind copy the primary's copy of
this file, so it is rewritten after each of them. Other lines (``ALTER SYSTEM``) are kept.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from req1_operator.instance import objectstore
from req1_operator.instance.objectstore import RestoreConfig
from req1_operator.instance.settings import Settings

AUTO_CONF = "postgresql.auto.conf"
HEADER = "# Managed by req1-instance-manager: lines for the keys below are rewritten on every role change."
STANDBY_KEYS = ("primary_conninfo", "primary_slot_name", "recovery_target_timeline", "wal_retrieve_retry_interval")
RECOVERY_KEYS = ("restore_command", "recovery_target_time", "recovery_target_action")
MANAGED_KEYS = (*STANDBY_KEYS, *RECOVERY_KEYS, "synchronous_standby_names", "archive_command")
ARCHIVE_FAILURE_FILE = "archive-failure.json"

SYNC_ANY_ONE = "ANY 1 (*)"


def quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def conninfo_quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def archive_command(s: Settings) -> str:
    """The one place the archive_command is decided.

    With a backup destination: barman-cloud-wal-archive through ``walarchive`` (non-zero on failure, so PostgreSQL
    keeps the segment and retries). Without one, the rendered hook, which says that nothing is archived."""
    if s.backup is None:
        return f"{s.config_dir}/archive-wal.sh %p %f"
    state = s.state_dir / ARCHIVE_FAILURE_FILE
    argv = objectstore.wal_archive_argv(s.backup.location, "%p")[:-1]
    python, m = argv[:2]
    head = [python, m, "req1_operator.instance.walarchive", str(state)]
    return " ".join(shlex.quote(a) for a in head) + " %f " + " ".join(shlex.quote(a) for a in argv[3:]) + " %p"


def recovery_settings(s: Settings, cfg: RestoreConfig | None = None) -> dict[str, str]:
    """restore_command and the target of a restore (kept until the restored server has promoted). ``cfg``: the
    restore under way (default: the bootstrap's; an in-place restore reads the instance's own backups)."""
    cfg = cfg if cfg is not None else s.restore
    assert cfg is not None
    values = {"restore_command": objectstore.wal_restore_command(cfg.location, cfg.own_credentials)}
    if cfg.target_time:
        values["recovery_target_time"] = cfg.target_time
        values["recovery_target_action"] = "promote"
    return values


#: TCP settings of the standby's connection. A primary that vanished with its node sends no RST: without these a
#: walreceiver's connect (libpq's asynchronous connect ignores ``connect_timeout``) waits for the kernel's SYN
#: retries (about two minutes), and an established connection for the retransmission limit. ``tcp_user_timeout``
#: bounds both, unacknowledged data and SYNs, to 5 s; keepalives find a silent peer on an idle connection.
TCP_SETTINGS = {
    "keepalives": "1",
    "keepalives_idle": "2",
    "keepalives_interval": "1",
    "keepalives_count": "3",
    "tcp_user_timeout": "5000",
}


def primary_conninfo(s: Settings) -> str:
    parts = {
        "host": s.primary_host,
        "port": str(s.primary_port),
        "user": s.replication_user,
        "password": s.replication_password,
        "application_name": s.pod_name,
        "sslmode": "prefer",
        "connect_timeout": "5",
        **TCP_SETTINGS,
    }
    return " ".join(f"{k}={conninfo_quote(v)}" for k, v in parts.items())


def standby_settings(s: Settings) -> dict[str, str]:
    return {
        "primary_conninfo": primary_conninfo(s),
        "primary_slot_name": s.slot_name,
        "recovery_target_timeline": "latest",
        # A new primary creates our slot a moment after its promotion: retry every second, not every five.
        "wal_retrieve_retry_interval": "1s",
    }


def managed_settings(s: Settings, *, standby: bool, sync_names: str,
                     recovering: RestoreConfig | None = None) -> dict[str, str]:  # fmt: skip
    """``recovering``: the restore whose recovery runs (its restore_command and target), None otherwise."""
    values = {"synchronous_standby_names": sync_names, "archive_command": archive_command(s)}
    if standby:
        values.update(standby_settings(s))
    elif recovering is not None:
        values.update(recovery_settings(s, recovering))
    return values


def render(existing: str, values: dict[str, str]) -> str:
    """``existing`` with every managed key removed, then ``values`` appended (pure, for tests and diffs)."""
    kept = []
    for line in existing.splitlines():
        key = line.split("=", 1)[0].strip().lower()
        if key in MANAGED_KEYS or line.strip() == HEADER:
            continue
        kept.append(line)
    lines = [*kept, HEADER, *(f"{k} = {quote(v)}" for k, v in sorted(values.items()))]
    return "\n".join(lines) + "\n"


def write(pgdata: Path, values: dict[str, str]) -> bool:
    """Rewrite postgresql.auto.conf atomically; True when its content changed (a reload is then due)."""
    path = pgdata / AUTO_CONF
    old = path.read_text() if path.exists() else ""
    new = render(old, values)
    if new == old:
        return False
    tmp = path.with_suffix(".tmp")
    tmp.write_text(new)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return True


def current(pgdata: Path, key: str) -> str | None:
    """The value this file sets for ``key`` (unquoted), if any."""
    path = pgdata / AUTO_CONF
    if not path.exists():
        return None
    found = None
    for line in path.read_text().splitlines():
        k, sep, v = line.partition("=")
        if sep and k.strip().lower() == key:
            v = v.strip()
            found = v[1:-1].replace("''", "'") if v.startswith("'") and v.endswith("'") else v
    return found
