"""Backup and restore throughput for a database of about 1 GB (pgbench scale 70), with the tools and command lines
the instance manager uses (barman-cloud to a local SeaweedFS), and the small-team pg_dump strategy beside them.

Run: .venv/bin/python bench/backup/bench_backup.py [--scale 70] [--wal-mb 320]
Not part of `make test` (several minutes). Figures: docs/benchmarks.md, "Backups".

Measured, in order: pgbench -i; barman-cloud-backup (stored size, MB/s of database); WAL archiving of a burst of
writes (segments, seconds until the archive has caught up); barman-cloud-restore of the base backup; WAL replay
from the archive to the end (barman-cloud-wal-restore as restore_command) until the server promotes; pg_dump -Fc
and pg_restore into an empty database.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from req1_operator.instance import objectstore
from req1_testenv.postgres import PostgresServer, chown_tree, pg_bin, run_as_user
from req1_testenv.scratch import remove_tree, scratch_dir
from req1_testenv.seaweedfs import SeaweedS3

#: the postgres account cannot run the venv's interpreter (it lives under root's home here): the system one, with
#: PYTHONPATH, as in the test bed
PYTHON = shutil.which("python3.11", path="/usr/bin") or "python3"
MB = 1024 * 1024


def barman(argv: list[str]) -> list[str]:
    return [PYTHON, *argv[1:]]


def as_postgres(argv: list[str], env: dict[str, str], timeout: float = 3600) -> str:
    user = run_as_user()
    res = subprocess.run(argv, env={**os.environ, **env}, user=user, group=user, cwd="/", capture_output=True,
                         text=True, timeout=timeout, check=False)  # fmt: skip
    if res.returncode != 0:
        raise RuntimeError(f"{argv[:4]} exited {res.returncode}: {res.stderr[-2000:]}")
    return res.stdout + res.stderr


def psql(pg: PostgresServer, sql: str, db: str = "postgres") -> str:
    argv = [pg_bin("psql"), "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(pg.port),
            "-U", "postgres", "-d", db, "-c", sql]  # fmt: skip
    res = subprocess.run(argv, env={**os.environ, "PGPASSWORD": pg.password}, capture_output=True, text=True,
                         check=True)  # fmt: skip
    return res.stdout.strip()


def timed(fn: Any) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def wait(cond: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if cond():
                return
        except subprocess.CalledProcessError:
            pass  # not answering yet
        time.sleep(0.5)
    raise RuntimeError(f"timed out: {what}")


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())  # fmt: skip
    mem = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal"))) // (1024 * 1024)  # fmt: skip
    return f"{os.cpu_count()} cores ({cpu}), {mem} GiB, load {os.getloadavg()[0]:.1f} at start"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=int, default=70)
    parser.add_argument("--wal-mb", type=int, default=320, help="size of the WAL burst to archive and replay")
    args = parser.parse_args()
    root = scratch_dir("bench-backup")
    results: dict[str, Any] = {"machine": machine(), "scale": args.scale}
    s3 = SeaweedS3(root / "s3", bucket="backups", name="seaweedfs-bench")
    pg: PostgresServer | None = None
    restored: PostgresServer | None = None
    try:
        s3.start()
        loc = objectstore.Location("s3://backups/bench", "demo", s3.endpoint)
        tool_env = {"AWS_ACCESS_KEY_ID": s3.access_key, "AWS_SECRET_ACCESS_KEY": s3.secret_key,
                    "AWS_DEFAULT_REGION": s3.region, **objectstore.child_env()}  # fmt: skip
        os.environ.update(tool_env)  # the postmasters (archive_command, restore_command) inherit these
        state = root / "state"
        state.mkdir()
        archive = objectstore.wal_archive_argv(loc, "%p")
        archive_cmd = " ".join(shlex.quote(a) for a in [PYTHON, "-m", "req1_operator.instance.walarchive",
                                                         str(state / "archive-failure.json")])  # fmt: skip
        archive_cmd += " %f " + " ".join(shlex.quote(a) for a in archive[3:-1]) + " %p"
        pg = PostgresServer(root / "pg", conf={"archive_mode": "on", "archive_command": "'" + archive_cmd.replace(
            "'", "''") + "'", "max_wal_size": "'2GB'", "shared_buffers": "'256MB'"})  # fmt: skip
        chown_tree(root, run_as_user())
        pg.start()
        chown_tree(state, run_as_user())

        t, _ = timed(lambda: subprocess.run([pg_bin("pgbench"), "-i", "-q", "-s", str(args.scale), "-h", "127.0.0.1",
                                             "-p", str(pg.port), "-U", "postgres", "postgres"],
                                            env={**os.environ, "PGPASSWORD": pg.password}, check=True,
                                            capture_output=True))  # fmt: skip
        db_bytes = int(psql(pg, "SELECT pg_database_size('postgres')"))
        cluster_bytes = int(psql(pg, "SELECT sum(pg_database_size(datname)) FROM pg_database"))
        results["pgbench_init_s"] = round(t, 1)
        results["database_MB"] = round(db_bytes / MB)
        results["cluster_MB"] = round(cluster_bytes / MB)
        psql(pg, "CHECKPOINT")
        # archiving of the init's WAL settles first, so the backup is measured alone
        wait(lambda: psql(pg, "SELECT count(*) FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready'") == "0",
             1800, "archiving of the initial load")  # fmt: skip

        # 1. base backup
        argv = barman(objectstore.backup_argv(loc, host=str(pg.workdir), port=pg.port, user="postgres", name="bench"))
        t, _ = timed(lambda: as_postgres(argv, {"PGPASSWORD": pg.password}))
        stored = objectstore.stored_bytes(loc, "base/")
        results["backup_s"] = round(t, 1)
        results["backup_stored_MB"] = round(stored / MB)
        results["backup_MBps_of_cluster"] = round(cluster_bytes / MB / t, 1)

        # 2. WAL archiving of a burst: about --wal-mb of WAL written as fast as the server can, archived one
        # segment at a time (one archive_command per segment), measured until nothing is left to archive
        before = int(psql(pg, "SELECT archived_count FROM pg_stat_archiver"))
        lsn0 = psql(pg, "SELECT pg_current_wal_lsn()")
        started = time.perf_counter()
        rows = args.wal_mb * 9000  # ~115 bytes of WAL per row
        psql(pg, f"CREATE TABLE walburst AS SELECT g, md5(g::text) AS h FROM generate_series(1, {rows}) g")
        written = time.perf_counter() - started
        wal_bytes = int(psql(pg, f"SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '{lsn0}')"))
        psql(pg, "SELECT pg_switch_wal()")
        wait(lambda: psql(pg, "SELECT count(*) FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready'") == "0",
             1800, "archiving to catch up")  # fmt: skip
        total = time.perf_counter() - started
        segments = int(psql(pg, "SELECT archived_count FROM pg_stat_archiver")) - before
        results["wal_burst_MB"] = round(wal_bytes / MB)
        results["wal_burst_written_s"] = round(written, 1)
        results["wal_segments_archived"] = segments
        results["wal_archive_done_s"] = round(total, 1)
        results["wal_archive_s_per_segment"] = round(total / max(segments, 1), 2)
        results["wal_archive_MBps"] = round(segments * 16 / total, 1)
        end_lsn = psql(pg, "SELECT pg_current_wal_lsn()")

        # 3. restore: download the base backup, then replay the archive to its end
        restored = PostgresServer(root / "restored", password=pg.password, conf={"shared_buffers": "'256MB'"})
        restored.prepare_workdir()
        target = restored.data_dir
        target.mkdir(mode=0o700)
        chown_tree(restored.workdir, run_as_user())
        cfg = objectstore.RestoreConfig(loc, "bench")
        t_restore, _ = timed(lambda: as_postgres(barman(objectstore.restore_argv(cfg, target)), {}))
        results["restore_download_s"] = round(t_restore, 1)
        results["restore_download_MBps_of_cluster"] = round(cluster_bytes / MB / t_restore, 1)
        (target / "postgresql.auto.conf").write_text(
            "restore_command = '" + " ".join(shlex.quote(a) for a in barman(objectstore.wal_restore_command(
                loc).split(" ")[:-2])).replace("'", "''") + " %f %p'\narchive_mode = 'off'\n"
        )  # fmt: skip
        (target / "recovery.signal").touch()
        chown_tree(restored.workdir, run_as_user())
        t0 = time.perf_counter()
        restored.start()
        server = restored
        wait(lambda: psql(server, "SELECT NOT pg_is_in_recovery()") == "t", 3600, "recovery to finish")
        t_replay = time.perf_counter() - t0
        reached = psql(restored, "SELECT pg_current_wal_lsn()")
        results["restore_replay_s"] = round(t_replay, 1)
        results["restore_total_s"] = round(t_restore + t_replay, 1)
        results["restore_reached_end"] = int(psql(restored, f"SELECT pg_wal_lsn_diff('{reached}', '{end_lsn}')")) >= 0
        results["restored_rows_match"] = psql(restored, "SELECT count(*) FROM pgbench_accounts") == psql(
            pg, "SELECT count(*) FROM pgbench_accounts")  # fmt: skip
        restored.stop()

        # 4. the small-team strategy: pg_dump -Fc and pg_restore into an empty database
        dump = root / "bench.dump"
        env = {**os.environ, "PGHOST": "127.0.0.1", "PGPORT": str(pg.port), "PGUSER": "postgres",
               "PGPASSWORD": pg.password}  # fmt: skip
        t, _ = timed(lambda: subprocess.run([pg_bin("pg_dump"), "-Fc", "-d", "postgres", "-f", str(dump)], env=env,
                                            check=True))  # fmt: skip
        results["pg_dump_s"] = round(t, 1)
        results["pg_dump_MB"] = round(dump.stat().st_size / MB)
        psql(pg, "CREATE DATABASE copy")
        t, _ = timed(lambda: subprocess.run([pg_bin("pg_restore"), "--single-transaction", "-d", "copy", str(dump)],
                                            env=env, check=True))  # fmt: skip
        results["pg_restore_s"] = round(t, 1)
    finally:
        for server in (restored, pg):
            if server is not None:
                server.stop()
        s3.stop()
        remove_tree(root)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
