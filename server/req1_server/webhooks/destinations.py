"""Where deliveries may go: by default nowhere inside the network the server runs in.

A webhook URL is chosen by a user, and the server sends requests to it from inside the cluster; without a check
that is a way to reach the cloud metadata endpoint, the database or anything else on a private address.
Loopback, private, link-local, multicast, reserved and unspecified addresses are refused (`"destination not
allowed"`) unless ``WEBHOOK_ALLOW_PRIVATE`` is set. Literal addresses are checked when the webhook is saved and
when it is sent; names are checked on every send by the resolver the HTTP client connects with, so a name that
resolves to a private address later (DNS rebinding) is refused too.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

NOT_ALLOWED = "destination not allowed"


class DestinationNotAllowed(OSError):
    """The URL's host is, or resolves to, an address webhooks may not reach."""

    def __init__(self) -> None:
        super().__init__(NOT_ALLOWED)


def address_allowed(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_multicast or ip.is_reserved
                or ip.is_unspecified)


def literal_refused(url: str) -> bool:
    """The URL names a literal address (or localhost) that webhooks may not reach."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return not address_allowed(host)


class GuardedResolver(AbstractResolver):
    """Resolves like aiohttp's default resolver, then refuses the whole name if any address is not allowed."""

    def __init__(self) -> None:
        self.inner = DefaultResolver()

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
                      ) -> list[ResolveResult]:
        results = await self.inner.resolve(host, port, family)
        if not results or not all(address_allowed(r["host"]) for r in results):
            raise DestinationNotAllowed()
        return results

    async def close(self) -> None:
        await self.inner.close()


def connector_options(allow_private: bool) -> dict[str, Any]:
    """Options for ``aiohttp.TCPConnector``: the guarded resolver unless private targets are allowed."""
    return {} if allow_private else {"resolver": GuardedResolver()}
