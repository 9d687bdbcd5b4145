"""The client IP: the socket peer, or the proxy's X-Forwarded-For entry with TRUST_PROXY (§6.5)."""

from __future__ import annotations

from aiohttp import web


def client_ip(request: web.BaseRequest, trust_proxy: bool) -> str:
    if trust_proxy:
        forwarded = request.headers.get("X-Forwarded-For", "")
        # the last entry is the one our own proxy appended; earlier ones are client-controlled
        entries = [e.strip() for e in forwarded.split(",") if e.strip()]
        if entries:
            return entries[-1][:64]
    return request.remote or "unknown"


def scheme(request: web.BaseRequest, trust_proxy: bool) -> str:
    if trust_proxy:
        proto = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
        if proto in ("http", "https"):
            return proto
    return request.scheme
