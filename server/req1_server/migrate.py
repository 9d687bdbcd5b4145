"""Schema migrations and seeds under one PostgreSQL advisory lock (spec §7.3, §2.6).

Files ``migrations/NNNN_<name>.sql`` are applied in order, each in its own transaction, and recorded in
``schema_migrations`` with a SHA-256 checksum; an applied file that was edited afterwards stops startup.
The lock is held on a dedicated connection while migrating and seeding, so several server replicas (or
a Kubernetes Job and a server) can start at once: one applies, the others wait and find nothing to do.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import importlib.util
import logging
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from req1_server.auth.passwords import hash_password
from req1_server.config import DEFAULT_ADMIN_PASSWORD, Settings
from req1_server.db import init_connection

log = logging.getLogger("req1.migrate")

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
LOCK_KEY = 0x7265_7131  # "req1"
ADMIN_ID = uuid.UUID("00000000-0000-0000-0000-000000000002")
FILE_PATTERN = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
DEMO_MODULE = "req1_server.seed_demo"


class MigrationError(RuntimeError):
    """Migrations cannot proceed (edited applied file, bad file name, failing SQL, unsafe seed)."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode("utf-8")).hexdigest()

    @property
    def filename(self) -> str:
        return f"{self.version:04d}_{self.name}.sql"


@dataclass
class MigrationReport:
    applied: list[str] = dataclasses.field(default_factory=list)
    admin_seeded: bool = False
    demo_seeded: bool = False


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """The migration files in version order; a malformed name or duplicate version is an error."""
    found: dict[int, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        match = FILE_PATTERN.match(path.name)
        if match is None:
            raise MigrationError(f"migration file {path.name!r} must be named NNNN_name.sql")
        version = int(match.group(1))
        if version in found:
            raise MigrationError(f"two migration files share version {version:04d}")
        found[version] = Migration(version, match.group(2), path.read_text(encoding="utf-8"))
    return [found[v] for v in sorted(found)]


async def ensure_table(conn: asyncpg.Connection) -> None:
    await conn.execute(
        """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version    integer PRIMARY KEY,
            name       text NOT NULL,
            checksum   text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )


async def apply_pending(conn: asyncpg.Connection, migrations: list[Migration]) -> list[str]:
    """Apply what is not yet recorded; refuse if an applied file changed."""
    await ensure_table(conn)
    rows = await conn.fetch("SELECT version, name, checksum FROM schema_migrations")
    applied = {r["version"]: r for r in rows}
    by_version = {m.version: m for m in migrations}
    for version, row in applied.items():
        migration = by_version.get(version)
        if migration is None:
            log.warning("database has migration %04d_%s that this server does not know", version, row["name"])
        elif migration.checksum != row["checksum"]:
            raise MigrationError(
                f"migration {migration.filename} was edited after it was applied (checksum mismatch); "
                "add a new migration instead"
            )
    done = []
    for migration in migrations:
        if migration.version in applied:
            continue
        try:
            async with conn.transaction():
                await conn.execute(migration.sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                    migration.version, migration.name, migration.checksum,
                )
        except asyncpg.PostgresError as err:
            raise MigrationError(f"migration {migration.filename} failed: {err}") from err
        log.info("applied migration %s", migration.filename)
        done.append(migration.filename)
    return done


async def seed_admin(conn: asyncpg.Connection, settings: Settings) -> bool:
    """Create the initial admin when ``app_user`` is empty; never touch existing accounts."""
    if await conn.fetchval("SELECT EXISTS (SELECT 1 FROM app_user)"):
        return False
    password = settings.admin_password
    if password is None:
        if not settings.builtin_secrets_allowed:
            raise MigrationError("ADMIN_PASSWORD must be set to seed the initial admin "
                                 "(the built-in password needs APP_ENV=development)")
        log.warning("ADMIN_PASSWORD is unset: the initial admin %s gets the development password", settings.admin_email)
        password = DEFAULT_ADMIN_PASSWORD
    await conn.execute(
        """
        INSERT INTO app_user (id, email, display_name, role, active, password_hash)
        VALUES ($1, $2, 'Administrator', 'admin', true, $3)
        ON CONFLICT DO NOTHING
        """,
        ADMIN_ID, settings.admin_email, await hash_password(password),
    )
    log.info("seeded the initial admin %s", settings.admin_email)
    return True


async def seed_demo(conn: asyncpg.Connection, settings: Settings) -> bool:
    """Demo content from the domain's ``seed_demo.seed(conn, settings)``, when it exists."""
    if importlib.util.find_spec(DEMO_MODULE) is None:
        log.info("SEED_DEMO_DATA is set but %s does not exist yet; skipping demo data", DEMO_MODULE)
        return False
    module = importlib.import_module(DEMO_MODULE)
    return bool(await module.seed(conn, settings))


async def migrate(dsn: str, settings: Settings, directory: Path = MIGRATIONS_DIR) -> MigrationReport:
    """Apply migrations and seeds while holding the advisory lock on a dedicated connection."""
    migrations = discover(directory)
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        await init_connection(conn)
        await conn.execute("SELECT pg_advisory_lock($1)", LOCK_KEY)
        try:
            report = MigrationReport(applied=await apply_pending(conn, migrations))
            report.admin_seeded = await seed_admin(conn, settings)
            if settings.seed_demo_data:
                report.demo_seeded = await seed_demo(conn, settings)
            return report
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", LOCK_KEY)
    finally:
        await conn.close()
