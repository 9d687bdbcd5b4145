"""``archive_command``: barman-cloud-wal-archive, run in this process, remembering why the last attempt failed.

PostgreSQL keeps a segment until this exits 0, so a failure (S3 down, bad credentials) costs local disk, never
WAL. pg_stat_archiver says *that* an attempt failed but not *why*; the reason is written to a small JSON file next
to the data directory, which the manager puts in its status report. Only the standard library and barman are
imported: this runs once per WAL segment.

Usage: ``python -m req1_operator.instance.walarchive STATE_FILE WAL_NAME BARMAN_ARGS…``
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sys
from pathlib import Path


class _LastError(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.message = ""

    def emit(self, record: logging.LogRecord) -> None:
        self.message = record.getMessage()


def record_failure(state: Path, wal: str, error: str) -> None:
    doc = {"wal": wal, "error": error[-500:], "at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    tmp = state.with_name(state.name + ".tmp")
    try:
        state.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(doc))
        os.replace(tmp, state)
    except OSError as exc:  # the report is a courtesy; the exit code is what keeps the WAL
        print(f"walarchive: could not record the failure: {exc}", file=sys.stderr)


def run(argv: list[str]) -> int:
    state, wal, barman_args = Path(argv[0]), argv[1], argv[2:]
    catcher = _LastError()
    logging.getLogger().addHandler(catcher)
    try:
        from barman.clients import cloud_walarchive

        cloud_walarchive.main(barman_args)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except Exception as exc:
        catcher.message = catcher.message or f"{type(exc).__name__}: {exc}"
        code = 1
    if code != 0:
        record_failure(state, wal, catcher.message or f"barman-cloud-wal-archive exited {code}")
    return code


def main() -> None:
    if len(sys.argv) < 4:
        print("usage: walarchive STATE_FILE WAL_NAME BARMAN_ARGS...", file=sys.stderr)
        sys.exit(2)
    sys.exit(run(sys.argv[1:]))


if __name__ == "__main__":
    main()
