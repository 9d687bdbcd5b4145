"""What the manager asks its own PostgreSQL (asyncpg over the local socket, as the superuser).

Every session sets ``synchronous_commit = local``: the manager's own maintenance (roles, slots) must never wait
for a standby, or a primary in ``required`` mode without standbys could not even fix a password.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass

import asyncpg

from req1_operator.instance.settings import Settings

SLOT_PREFIX = "req1_"
SCRAM_ITERATIONS = 4096


@dataclass
class Observation:
    """One look at the running server."""

    in_recovery: bool
    system_identifier: str
    timeline: int
    lsn: str  # primary: current WAL end; replica: last received (or replayed when nothing was received)
    replay_lsn: str
    streaming: bool
    lag_bytes: int
    streaming_standbys: int
    sync_names: str


def scram_verifier(password: str, salt: bytes | None = None, iterations: int = SCRAM_ITERATIONS) -> str:
    """A SCRAM-SHA-256 verifier as PostgreSQL stores it, so the password never travels or logs in clear."""
    salt = salt if salt is not None else os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored = hashlib.sha256(client_key).digest()
    server = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    b64 = base64.b64encode
    return f"SCRAM-SHA-256${iterations}:{b64(salt).decode()}${b64(stored).decode()}:{b64(server).decode()}"


def password_matches(stored: str | None, password: str) -> bool:
    """Whether a stored verifier (SCRAM, or legacy md5/plain) was made from ``password``."""
    if not stored:
        return False
    if stored.startswith("SCRAM-SHA-256$"):
        try:
            head, _keys = stored.split("$", 2)[1:]
            iterations, salt = head.split(":")
            return hmac.compare_digest(scram_verifier(password, base64.b64decode(salt), int(iterations)), stored)
        except ValueError:
            return False
    return False  # md5 or anything else: rewrite as SCRAM


class Local:
    """A lazily (re)opened connection to the local server."""

    def __init__(self, settings: Settings) -> None:
        self.s = settings
        self.conn: asyncpg.Connection | None = None

    async def connect(self) -> asyncpg.Connection:
        if self.conn is None or self.conn.is_closed():
            self.conn = await asyncpg.connect(
                host=self.s.socket_dir,
                port=self.s.pg_port,
                user=self.s.superuser,
                password=self.s.superuser_password,
                database="postgres",
                timeout=3,
                command_timeout=10,
                server_settings={"synchronous_commit": "local", "application_name": "req1-instance-manager"},
            )
        return self.conn

    async def close(self) -> None:
        if self.conn is not None:
            conn, self.conn = self.conn, None
            try:
                await conn.close(timeout=2)
            except Exception:
                conn.terminate()

    async def observe(self) -> Observation:
        conn = await self.connect()
        row = await conn.fetchrow(
            """
            SELECT pg_is_in_recovery() AS recovery,
                   (SELECT system_identifier::text FROM pg_control_system()) AS sysid,
                   (SELECT timeline_id FROM pg_control_checkpoint()) AS checkpoint_tli,
                   current_setting('synchronous_standby_names') AS sync_names,
                   (SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming') AS standbys
            """
        )
        assert row is not None
        if not row["recovery"]:
            cur = await conn.fetchrow(
                "SELECT pg_current_wal_lsn()::text AS lsn,"
                " ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int AS tli"
            )
            assert cur is not None
            return Observation(
                in_recovery=False, system_identifier=row["sysid"], timeline=cur["tli"], lsn=cur["lsn"],
                replay_lsn=cur["lsn"], streaming=False, lag_bytes=0, streaming_standbys=row["standbys"],
                sync_names=row["sync_names"],
            )  # fmt: skip
        rep = await conn.fetchrow(
            """
            SELECT pg_last_wal_receive_lsn()::text AS receive, pg_last_wal_replay_lsn()::text AS replay,
                   w.status, w.received_tli, w.latest_end_lsn::text AS latest_end,
                   greatest(0, pg_wal_lsn_diff(w.latest_end_lsn, pg_last_wal_replay_lsn()))::bigint AS lag
            FROM (SELECT 1) AS one LEFT JOIN pg_stat_wal_receiver AS w ON true
            """
        )
        assert rep is not None
        streaming = rep["status"] == "streaming"
        replay = rep["replay"] or "0/0"
        return Observation(
            in_recovery=True,
            system_identifier=row["sysid"],
            timeline=int(rep["received_tli"] or row["checkpoint_tli"] or 0),
            lsn=rep["receive"] or replay,
            replay_lsn=replay,
            streaming=streaming,
            lag_bytes=int(rep["lag"] or 0) if streaming else 0,
            streaming_standbys=row["standbys"],
            sync_names=row["sync_names"],
        )

    # -- roles (primary only)

    async def ensure_roles(self) -> list[str]:
        """Create missing roles and the app database; reset passwords that differ from the Secrets' env.

        Returns what was changed (role names), for the log."""
        conn = await self.connect()
        s = self.s
        wanted = [
            (s.superuser, s.superuser_password, "SUPERUSER LOGIN"),
            (s.app_user, s.app_password, "LOGIN"),
            (s.replication_user, s.replication_password, "REPLICATION LOGIN"),
        ]
        rows = await conn.fetch(
            "SELECT rolname, rolpassword FROM pg_authid WHERE rolname = ANY($1::text[])", [w[0] for w in wanted]
        )
        stored = {r["rolname"]: r["rolpassword"] for r in rows}
        changed = []
        for name, password, attrs in wanted:
            if name not in stored:
                stmt = await conn.fetchval(
                    f"SELECT format('CREATE ROLE %I WITH {attrs} PASSWORD %L', $1::text, $2::text)",
                    name, scram_verifier(password),
                )  # fmt: skip
            elif not password_matches(stored[name], password):
                stmt = await conn.fetchval(
                    "SELECT format('ALTER ROLE %I PASSWORD %L', $1::text, $2::text)", name, scram_verifier(password)
                )
            else:
                continue
            await conn.execute(stmt)
            changed.append(name)
        if not await conn.fetchval("SELECT true FROM pg_database WHERE datname = $1", s.app_database):
            stmt = await conn.fetchval("SELECT format('CREATE DATABASE %I OWNER %I', $1::text, $2::text)",
                                       s.app_database, s.app_user)  # fmt: skip
            await conn.execute(stmt)
            changed.append(f"database {s.app_database}")
        return changed

    # -- replication slots (primary only)

    async def sync_slots(self, wanted: set[str]) -> tuple[list[str], list[str]]:
        """Create the wanted ``req1_`` slots, drop other inactive ``req1_`` ones; returns (created, dropped)."""
        conn = await self.connect()
        rows = await conn.fetch(
            "SELECT slot_name, active FROM pg_replication_slots WHERE slot_type = 'physical' AND slot_name LIKE $1",
            SLOT_PREFIX.replace("_", "\\_") + "%",
        )
        have = {r["slot_name"]: r["active"] for r in rows}
        created = sorted(wanted - have.keys())
        dropped = sorted(name for name, active in have.items() if name not in wanted and not active)
        for name in created:
            await conn.execute("SELECT pg_create_physical_replication_slot($1, true)", name)
        for name in dropped:
            await conn.execute("SELECT pg_drop_replication_slot($1)", name)
        return created, dropped

    async def promote(self, limit: float = 60.0) -> None:
        """pg_promote(wait => true): returns once the server accepts writes (it polls every 100 ms); no pg_ctl
        process to spawn on a loaded node."""
        conn = await self.connect()
        if not await conn.fetchval("SELECT pg_promote(true, $1::int)", int(limit), timeout=limit + 5):
            raise RuntimeError(f"pg_promote did not finish within {limit:.0f}s")

    async def checkpoint(self, limit: float) -> None:
        conn = await self.connect()
        await conn.execute("CHECKPOINT", timeout=limit)

    async def switch_wal(self, limit: float = 10.0) -> None:
        """Close the current WAL segment, so it is archived (at the latest, during the shutdown that follows)."""
        conn = await self.connect()
        await conn.execute("SELECT pg_switch_wal()", timeout=limit)

    async def accepts_writes(self) -> bool:
        conn = await self.connect()
        return not await conn.fetchval("SELECT pg_is_in_recovery()")

    # -- WAL archiving (primary)

    async def archiver(self) -> dict[str, object]:
        """pg_stat_archiver, with times as RFC 3339 strings (None when never)."""
        conn = await self.connect()
        row = await conn.fetchrow(
            """
            SELECT archived_count, last_archived_wal, failed_count, last_failed_wal,
                   to_char(last_archived_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS archived_at,
                   to_char(last_failed_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS failed_at,
                   coalesce(last_failed_time > last_archived_time
                            OR (last_failed_time IS NOT NULL AND last_archived_time IS NULL), false) AS failing,
                   (SELECT count(*) FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready') AS ready
            FROM pg_stat_archiver
            """
        )
        assert row is not None
        return dict(row)
