"""A plain TCP forwarder: pods reach the API server (on 127.0.0.1) through ``host_ip:6443``.

Why not make the API server listen on host_ip: the control plane starts before the fabric may
exist and its loopback address is what every other component uses. TLS passes through untouched,
so clients verify the API server's own certificate (which names the `kubernetes` ClusterIP).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading

log = logging.getLogger("podnet.forward")
CHUNK = 65536


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (ConnectionError, OSError):
        pass


async def _serve(listen: tuple[str, int], target: tuple[str, int], started: threading.Event) -> None:
    async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            upstream_r, upstream_w = await asyncio.open_connection(*target)
        except OSError as exc:
            log.warning("forward %s:%s -> %s:%s failed: %s", *listen, *target, exc)
            client_w.close()
            return
        try:
            await asyncio.gather(_pipe(client_r, upstream_w), _pipe(upstream_r, client_w))
        finally:
            for w in (client_w, upstream_w):
                with contextlib.suppress(Exception):
                    w.close()

    server = await asyncio.start_server(handle, *listen, reuse_address=True)
    started.set()
    async with server:
        await server.serve_forever()


def start(listen: tuple[str, int], target: tuple[str, int]) -> threading.Thread:
    """Forward connections from ``listen`` to ``target`` in a daemon thread; returns once listening."""
    started = threading.Event()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(_serve(listen, target, started))
        except BaseException as exc:  # surfaced to the caller below
            errors.append(exc)
            started.set()

    thread = threading.Thread(target=run, name="apiserver-forward", daemon=True)
    thread.start()
    started.wait(10)
    if errors:
        raise errors[0]
    return thread
