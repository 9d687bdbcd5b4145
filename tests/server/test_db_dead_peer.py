"""Pooled PostgreSQL connections fail fast when their peer vanishes without a FIN (a failed-over primary's node
died or was cut off): keepalive and TCP_USER_TIMEOUT are set on every pooled TCP socket."""

from __future__ import annotations

import socket

from req1_server.db import create_pool


async def test_pooled_tcp_connections_have_keepalive_and_a_user_timeout(pg_dsn: str) -> None:
    pool = await create_pool(pg_dsn, 2)
    try:
        async with pool.acquire() as conn:
            sock = conn._transport.get_extra_info("socket")  # type: ignore[attr-defined]
            assert sock.family == socket.AF_INET
            assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == 5
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT) == 8000
    finally:
        await pool.close()
