"""``req1-server serve | migrate``: the process entry point.

``serve`` runs the app with its own signal handling so SIGTERM/SIGINT flip readiness to 503 at once,
stop accepting, drain in-flight requests for up to SHUTDOWN_TIMEOUT_SECONDS (then cancel the rest),
close the pools, and exit 0. ``migrate`` applies migrations and seeds, for a Kubernetes Job before a
rollout, and exits. With more than one worker (``WEB_WORKERS``, else the pod's CPU quota) ``serve`` is a
supervisor that migrates once and runs that many worker processes on a shared port (``workers.py``); each
worker is this same ``serve`` on an inherited socket.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from req1_server.config import ConfigError, Settings, load_settings
from req1_server.db import wait_for_postgres
from req1_server.logs import configure
from req1_server.migrate import MigrationError, migrate
from req1_server.workers import LISTEN_FD, WORKER_INDEX, Supervisor, workers_for

log = logging.getLogger("req1.server")


async def serve(settings: Settings, sock: socket.socket | None = None) -> int:
    """Serve until SIGTERM/SIGINT: on ``settings``' address, or on ``sock`` inherited from the supervisor."""
    from aiohttp import web  # here, so that a supervisor never loads the app (about 25 MiB less)

    from req1_server.app import create_app
    from req1_server.appkeys import RUNTIME
    from req1_server.runner import Req1Runner

    app = create_app(settings)
    runner = Req1Runner(app, handle_signals=False, access_log=None,
                           shutdown_timeout=settings.shutdown_timeout_seconds)
    await runner.setup()
    site: web.BaseSite
    if sock is None:
        site = web.TCPSite(runner, settings.listen_host, settings.listen_port, reuse_address=True)
    else:
        site = web.SockSite(runner, sock)
    await site.start()
    if sock is None:
        log.info("req1 server listening on http://%s:%d", settings.listen_host, settings.listen_port,
                 extra={"build_sha": settings.build_sha})
    else:
        log.info("worker %s serving", os.environ.get(WORKER_INDEX, "?"))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_signal(signame: str) -> None:
        if not stop.is_set():
            log.info("received %s: draining for up to %.0fs", signame, settings.shutdown_timeout_seconds)
            app[RUNTIME].shutting_down = True
            stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal, sig.name)
    orphan_watch = asyncio.create_task(watch_parent(on_signal)) if sock is not None else None
    await stop.wait()
    if orphan_watch is not None:
        orphan_watch.cancel()
    await runner.cleanup()  # stop listening, close idle keep-alives, drain, cancel, close backends
    log.info("req1 server stopped")
    return 0


async def watch_parent(on_signal: Callable[[str], None]) -> None:
    """A worker whose supervisor is gone (killed with SIGKILL) drains and exits rather than live on."""
    parent = os.getppid()
    while os.getppid() == parent:  # noqa: ASYNC110 - nothing to wait on: the parent's death sends no event
        await asyncio.sleep(1.0)
    on_signal("the supervisor's exit")


def run_loop(settings: Settings, main: Coroutine[Any, Any, int]) -> int:
    """Run ``main`` on asyncio's own loop, or on uvloop with EVENT_LOOP=uvloop."""
    if settings.event_loop == "uvloop":
        import uvloop

        return uvloop.run(main)
    return asyncio.run(main)


def run_serve(settings: Settings) -> int:
    """One process, a worker on an inherited socket, or the supervisor of several workers."""
    inherited = os.environ.get(LISTEN_FD)
    if inherited:
        return run_loop(settings, serve(settings, socket.socket(fileno=int(inherited))))
    count = workers_for(settings)
    if count == 1:
        return run_loop(settings, serve(settings))
    if settings.run_migrations:
        asyncio.run(run_migrate(settings))
    return Supervisor(settings, count).run()


async def run_migrate(settings: Settings) -> int:
    await wait_for_postgres(settings.database_url)
    report = await migrate(settings.database_url, settings)
    log.info("migrations done", extra={"applied": report.applied, "admin_seeded": report.admin_seeded,
                                       "demo_seeded": report.demo_seeded})
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="req1-server", description="req1 API server")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="run the HTTP server (migrates first unless RUN_MIGRATIONS=false)")
    sub.add_parser("migrate", help="apply migrations and seeds, then exit")
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as err:
        print(f"req1-server: configuration error: {err}", file=sys.stderr)
        return 2
    refusal = settings.startup_refusal() if args.command == "serve" else None
    if refusal is not None:
        print(f"req1-server: configuration error: {refusal}", file=sys.stderr)
        return 2
    configure(settings.log_format, settings.log_level)
    if not os.environ.get(LISTEN_FD):  # a worker's supervisor said it already
        for warning in settings.warnings:
            log.warning(warning)
    try:
        if args.command == "migrate":
            return asyncio.run(run_migrate(settings))
        return run_serve(settings)
    except MigrationError as err:
        log.error("migration failed: %s", err)
        return 3
    except (OSError, ConnectionError) as err:
        log.error("startup failed: %s", err)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
