"""``req1-instance-manager``: PID 1 of the PostgreSQL container.

Arguments, when given, are extra ``postgres`` server options (e.g. ``-c fsync=off`` in tests). SIGTERM and SIGINT
stop PostgreSQL (fast for a primary, smart for a replica) and then the manager; the exit code is 0 after a clean
stop and 1 when PostgreSQL could not be kept running.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys

from req1_operator.instance import probes, settings
from req1_operator.instance.kube import Kube, load_credentials
from req1_operator.instance.manager import Exit, Manager

log = logging.getLogger("req1_operator.instance")


async def amain(argv: list[str]) -> int:
    s = settings.load(argv=tuple(argv))
    kube = Kube(load_credentials(), s.namespace)
    manager = Manager(s, kube)
    runner = await probes.serve(manager, s.manager_port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    background: list[asyncio.Task[object]] = [
        asyncio.create_task(manager.watch_instance(), name="watch"),
        asyncio.create_task(manager.renew_loop(), name="renew"),
        asyncio.create_task(manager.fence.watch(lambda: manager.fence_now("lease not renewed")), name="fence"),
    ]
    main: asyncio.Task[object] = asyncio.create_task(manager.run(), name="main")
    stopper: asyncio.Task[object] = asyncio.create_task(stop.wait(), name="signal")
    log.info("instance manager for %s/%s (instance %s) started", s.namespace, s.pod_name, s.instance)
    code = 0
    try:
        done, _ = await asyncio.wait({main, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if main in done and main.exception() is not None:
            exc = main.exception()
            log.error("giving up: %s", exc, exc_info=not isinstance(exc, Exit))
            code = 1
        else:
            log.info("signal received: stopping")
    finally:
        main.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await main
        for task in background:
            task.cancel()
        await manager.shutdown()
        for task in (*background, stopper):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await runner.cleanup()
        await kube.close()
    return code


def main() -> None:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        sys.exit(asyncio.run(amain(sys.argv[1:])))
    except settings.SettingsError as exc:
        print(f"req1-instance-manager: {exc}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
