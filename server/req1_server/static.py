"""The built web UI from STATIC_DIR with SPA fallback, caching headers, ETag and gzip (§6.3).

It only answers requests no route matched, so the API always wins. Reserved prefixes (``/api/``,
``/health/``, ``/metrics``) and missing ``/assets/*`` stay JSON 404s; other GET/HEAD paths without a
file get ``index.html`` so client-side routes load; other methods on non-API paths are JSON 405s.
Files are read once and kept in memory with their gzip form (the UI bundle is small), refreshed when
the file's size or mtime changes.
"""

from __future__ import annotations

import gzip
import mimetypes
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path

from aiohttp import web

from req1_server.config import SETTINGS
from req1_server.errors import method_not_allowed, not_found_message

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
RESERVED = ("/api/", "/health/")
RESERVED_EXACT = ("/api", "/health", "/metrics")
COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml", "application/xml",
                "application/manifest+json", "application/wasm")
MAX_CACHED_BYTES = 8 * 1024 * 1024
IMMUTABLE = "public, max-age=31536000, immutable"
SPA_RESPONSE: web.RequestKey[bool] = web.RequestKey("req1.spa", bool)


@dataclass(frozen=True)
class Entry:
    stamp: tuple[int, int]
    body: bytes
    gz: bytes | None
    etag: str
    last_modified: str
    content_type: str


class StaticFiles:
    def __init__(self, root: Path, spa_csp: str) -> None:
        self.root = root.resolve()
        self.spa_csp = spa_csp
        self.cache: dict[Path, Entry] = {}

    def locate(self, url_path: str) -> Path | None:
        """The file for a URL path inside root, or None (no traversal, no directories, no dotfiles)."""
        rel = url_path.lstrip("/")
        if not rel or any(part.startswith(".") for part in rel.split("/")):
            return None
        candidate = (self.root / rel).resolve()
        if not candidate.is_relative_to(self.root) or not candidate.is_file():
            return None
        return candidate

    def load(self, path: Path) -> Entry:
        stat = path.stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
        entry = self.cache.get(path)
        if entry is not None and entry.stamp == stamp:
            return entry
        body = path.read_bytes()
        ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if ctype.startswith("text/") or ctype in ("application/javascript", "application/json"):
            ctype += "; charset=utf-8"
        gz = None
        if ctype.startswith(COMPRESSIBLE) and len(body) > 512:
            gz = gzip.compress(body, compresslevel=6, mtime=0)
        entry = Entry(stamp, body, gz, f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"',
                      formatdate(stat.st_mtime, usegmt=True), ctype)
        if stat.st_size <= MAX_CACHED_BYTES:
            self.cache[path] = entry
        return entry

    def respond(self, request: web.Request, path: Path, cache_control: str, html: bool) -> web.StreamResponse:
        if path.stat().st_size > MAX_CACHED_BYTES:
            large = web.FileResponse(path, headers={"Cache-Control": cache_control})
            return large
        entry = self.load(path)
        use_gz = entry.gz is not None and "gzip" in request.headers.get("Accept-Encoding", "").lower()
        etag = entry.etag[:-1] + '-gz"' if use_gz else entry.etag
        headers = {
            "ETag": etag,
            "Last-Modified": entry.last_modified,
            "Cache-Control": cache_control,
        }
        if entry.gz is not None:
            headers["Vary"] = "Accept-Encoding"
        if html:
            headers["Content-Security-Policy"] = self.spa_csp
        inm = request.headers.get("If-None-Match")
        if inm is not None and (inm.strip() == "*" or etag in [t.strip() for t in inm.split(",")]):
            return web.Response(status=304, headers=headers)
        if inm is None and request.headers.get("If-Modified-Since") == entry.last_modified:
            return web.Response(status=304, headers=headers)
        body = entry.gz if use_gz and entry.gz is not None else entry.body
        if use_gz:
            headers["Content-Encoding"] = "gzip"
        response = web.Response(body=body, headers=headers)  # aiohttp omits the body for HEAD
        response.content_type = entry.content_type.split(";")[0]
        if "charset=" in entry.content_type:
            response.charset = "utf-8"
        return response

    def handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if request.method not in ("GET", "HEAD"):
            raise method_not_allowed(request.method, path, {"GET", "HEAD"})
        request[SPA_RESPONSE] = True
        if path.startswith("/assets/"):
            found = self.locate(path)
            if found is None:
                raise not_found_message(f"no file {path}")
            return self.respond(request, found, IMMUTABLE, html=False)
        found = self.locate(path) if path != "/" else None
        if found is not None and found.name != "index.html":
            return self.respond(request, found, "no-cache", html=found.suffix in (".html", ".htm"))
        index = self.root / "index.html"
        if not index.is_file():
            raise not_found_message(f"no route for {request.method} {path}")
        return self.respond(request, index, "no-cache", html=True)


def reserved(path: str) -> bool:
    return path.startswith(RESERVED) or path in RESERVED_EXACT or path.startswith("/metrics/")


def static_middleware_for(files: StaticFiles | None) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    """Serve the UI for requests no route matched (inside the error middleware, so errors are JSON)."""

    @web.middleware
    async def static_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        exc = request.match_info.http_exception
        if files is None or exc is None or exc.status != 404 or reserved(request.path):
            return await handler(request)
        return files.handle(request)

    return static_middleware


def static_files(app: web.Application) -> StaticFiles | None:
    settings = app[SETTINGS]
    if settings.static_dir is None or not settings.static_dir.is_dir():
        return None
    return StaticFiles(settings.static_dir, settings.content_security_policy)
