"""PostgreSQL control: the postmaster as a supervised child, and the tools run around it (subprocesses only).

The postmaster is started directly (not through ``pg_ctl start``) so the manager is its parent: it learns of its
death at once and signals it without a PID file. Secrets are passed to tools through ``PGPASSWORD``, never argv,
and are removed from the postmaster's environment.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import tempfile
from dataclasses import dataclass
from pathlib import Path

from req1_operator.instance import objectstore, pgconf
from req1_operator.instance.settings import Settings

log = logging.getLogger(__name__)

SECRET_ENV = ("POSTGRES_PASSWORD", "REQ1_APP_PASSWORD", "REQ1_REPLICATION_PASSWORD", "PGPASSWORD")
STOP_SIGNALS = {"smart": signal.SIGTERM, "fast": signal.SIGINT, "immediate": signal.SIGQUIT}


class ToolError(RuntimeError):
    """A PostgreSQL tool exited non-zero; the message carries the tail of its output."""


def binary(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise ToolError(f"{name} not found on PATH ({os.environ.get('PATH', '')})")
    return found


@dataclass
class ControlData:
    system_identifier: str
    timeline: int
    state: str  # "in production", "shut down", "in archive recovery", "shut down in recovery", ...


def _clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SECRET_ENV}
    env.update(objectstore.child_env())  # archive_command and the barman tools import what the manager imports
    env.update(extra or {})
    return env


class Postgres:
    """One data directory and at most one postmaster running on it."""

    def __init__(self, settings: Settings) -> None:
        self.s = settings
        self.proc: asyncio.subprocess.Process | None = None
        self.exit_code: int | None = None

    # -- data directory

    @property
    def pgdata(self) -> Path:
        return self.s.pgdata

    def has_data(self) -> bool:
        return (self.pgdata / "PG_VERSION").is_file()

    def standby_signal(self) -> bool:
        return (self.pgdata / "standby.signal").exists()

    def set_standby_signal(self, on: bool) -> None:
        path = self.pgdata / "standby.signal"
        if on:
            path.touch(mode=0o600)
        else:
            path.unlink(missing_ok=True)

    def wipe(self) -> None:
        """Empty PGDATA (a partial clone or initdb, or data that must be re-cloned)."""
        if self.pgdata.exists():
            shutil.rmtree(self.pgdata)
        self.pgdata.mkdir(mode=0o700, parents=True)

    async def tool(
        self, argv: list[str], *, password: str | None = None, limit: float = 600, env: dict[str, str] | None = None,
    ) -> str:
        """Run one tool to completion; its output is logged, and raised with on failure."""
        env = _clean_env({**(env or {}), **({"PGPASSWORD": password} if password is not None else {})})
        proc = await asyncio.create_subprocess_exec(
            binary(argv[0]), *argv[1:], env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), limit)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise ToolError(f"{argv[0]} timed out after {limit:.0f}s") from None
        except asyncio.CancelledError:  # e.g. a backup cancelled by shutdown: leave no orphan behind
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
            raise
        text = out.decode(errors="replace")
        for line in text.splitlines()[-20:]:
            log.info("%s: %s", argv[0], line)
        if proc.returncode != 0:
            raise ToolError(f"{argv[0]} exited {proc.returncode}: {text.strip()[-600:]}")
        return text

    async def controldata(self) -> ControlData | None:
        if not self.has_data():
            return None
        try:
            text = await self.tool(["pg_controldata", "-D", str(self.pgdata)], limit=30)
        except ToolError as exc:
            log.warning("pg_controldata: %s", exc)
            return None
        fields = {}
        for line in text.splitlines():
            key, sep, value = line.partition(":")
            if sep:
                fields[key.strip()] = value.strip()
        return ControlData(
            system_identifier=fields.get("Database system identifier", ""),
            timeline=int(fields.get("Latest checkpoint's TimeLineID", "0") or 0),
            state=fields.get("Database cluster state", ""),
        )

    # -- bootstrap

    async def initdb(self) -> None:
        self.wipe()
        with tempfile.NamedTemporaryFile("w", prefix="pwfile", delete=False) as pw:
            pw.write(self.s.superuser_password + "\n")
        try:
            await self.tool(
                [
                    "initdb", "-D", str(self.pgdata), f"--username={self.s.superuser}", f"--pwfile={pw.name}",
                    "--auth-local=trust", "--auth-host=scram-sha-256", "--encoding=UTF8", "--locale=C.UTF-8",
                    "--data-checksums",
                ],
                limit=300,
            )  # fmt: skip
        finally:
            os.unlink(pw.name)

    async def basebackup(self) -> None:
        """Clone the current primary (through REQ1_PRIMARY_SERVICE) into an emptied PGDATA, as a standby."""
        self.wipe()
        await self.tool(
            [
                "pg_basebackup", "-h", self.s.primary_host, "-p", str(self.s.primary_port),
                "-U", self.s.replication_user, "-D", str(self.pgdata), "-X", "stream", "-R",
                "--checkpoint=fast", "--no-password",
            ],
            password=self.s.replication_password,
        )  # fmt: skip

    async def rewind(self) -> None:
        """Make a former primary's data a descendant of the new primary's timeline (needs wal_log_hints=on)."""
        source = (
            f"host={pgconf.conninfo_quote(self.s.primary_host)} port={self.s.primary_port} "
            f"user={pgconf.conninfo_quote(self.s.superuser)} dbname=postgres connect_timeout=5"
        )
        await self.tool(
            ["pg_rewind", "-D", str(self.pgdata), f"--source-server={source}", "--no-sync"],
            password=self.s.superuser_password,
        )

    # -- the postmaster

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.running and self.proc is not None else None

    def argv(self) -> list[str]:
        return [
            binary("postgres"), "-D", str(self.pgdata),
            "-c", f"config_file={self.s.config_dir}/postgresql.conf",
            "-c", f"cluster_name={self.s.pod_name}",
            "-p", str(self.s.pg_port), "-k", self.s.socket_dir,
            *self.s.extra_args,
        ]  # fmt: skip

    async def start(self) -> None:
        """Spawn the postmaster (returns at once; readiness is observed by connecting)."""
        if self.running:
            return
        self.exit_code = None
        log.info("starting postgres (%s)", "standby" if self.standby_signal() else "primary")
        self.proc = await asyncio.create_subprocess_exec(*self.argv(), env=_clean_env(), start_new_session=False)

    async def wait_exit(self, seconds: float) -> bool:
        if self.proc is None:
            return True
        try:
            self.exit_code = await asyncio.wait_for(self.proc.wait(), seconds)
            return True
        except TimeoutError:
            return False

    async def stop(self, mode: str = "fast", grace: float = 30.0) -> None:
        """Stop the postmaster in ``mode``, escalating to immediate and then SIGKILL when it takes too long."""
        if not self.running or self.proc is None:
            return
        log.info("stopping postgres (%s)", mode)
        modes = ["smart", "fast", "immediate"]
        for m in modes[modes.index(mode) :]:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(STOP_SIGNALS[m])
            if await self.wait_exit(grace if m != "immediate" else 5.0):
                return
            log.warning("postgres did not stop in %s mode within %.0fs", m, grace)
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()
        await self.wait_exit(10.0)

    def walreceiver_pid(self) -> int | None:
        """The postmaster's walreceiver child, found by its process title in /proc (Linux).

        pg_stat_wal_receiver shows no row until a connection is established, which is exactly when a walreceiver
        stuck connecting to a vanished primary must be found."""
        parent = self.pid
        if parent is None:
            return None
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                if stat.rsplit(")", 1)[-1].split()[1] != str(parent):
                    continue
                title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except (OSError, IndexError):
                continue
            if ": walreceiver" in title:
                return int(entry.name)
        return None

    def reload(self) -> None:
        if self.running and self.proc is not None:
            self.proc.send_signal(signal.SIGHUP)

    async def promote(self) -> None:
        await self.tool(["pg_ctl", "promote", "-D", str(self.pgdata), "-w", "-t", "60"], limit=90)
