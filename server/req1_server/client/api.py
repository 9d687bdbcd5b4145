"""The HTTP side of the CLI: one aiohttp session, the bearer token, one refresh on 401, errors as exceptions.

Every failure a user can cause or meet (API error envelope, no login, server unreachable, a non-JSON answer
from a proxy) becomes an ``ApiError`` carrying the exit code, so ``main`` never shows a traceback for them.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from req1_server.client import credentials
from req1_server.client.credentials import Credentials, UsageError

NOT_LOGGED_IN = "not logged in or session expired: run 'req1 login'"
PAGE = 1000


class ApiError(Exception):
    """What went wrong, for a person (``message``) and a program (``status``, ``code``, ``exit_code``)."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None,
                 exit_code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.exit_code = exit_code

    def as_json(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "status": self.status}}


def error_from(status: int, body: bytes) -> ApiError:
    """The API's ``error.message`` when the body is the contract's envelope, else the status and a short excerpt."""
    try:
        err = json.loads(body)["error"]
        return ApiError(str(err["message"]), status=status, code=str(err.get("code") or "") or None)
    except (ValueError, KeyError, TypeError):
        text = body.decode("utf-8", "replace").strip().replace("\n", " ")
        return ApiError(f"HTTP {status}" + (f": {text[:200]}" if text else ""), status=status)


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str

    def json(self) -> Any:
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            raise ApiError(f"the server's answer is not JSON ({self.content_type or 'no content type'}): "
                           "is the URL that of a req1 server?", status=self.status) from None


@dataclass
class Api:
    """A logged-in (or not) client of one server; ``stored`` (the login in ``store``) may refresh ``token``."""

    url: str
    token: str | None
    stored: Credentials | None = None
    store: Path | None = None
    timeout: float = 300.0
    _session: aiohttp.ClientSession | None = field(default=None, repr=False)

    async def __aenter__(self) -> Api:
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.timeout, sock_connect=15),
            headers={"User-Agent": "req1-cli"})
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()

    async def send(self, method: str, path: str, *, params: dict[str, Any] | None = None, json_body: Any = None,
                   data: Any = None, headers: dict[str, str] | None = None, auth: bool = True) -> Response:
        """One call; on 401 with a stored refresh token, refresh once and retry; errors raise ``ApiError``.

        ``data`` may be a factory (a multipart form can be sent only once, and the retry needs a new one).
        """
        if auth and not self.token:
            raise ApiError(NOT_LOGGED_IN, status=401, code="UNAUTHORIZED", exit_code=2)
        resp = await self._raw(method, path, params, json_body, data() if callable(data) else data, headers, auth)
        if resp.status == 401 and auth:
            if not await self._refresh():
                raise ApiError(NOT_LOGGED_IN, status=401, code="UNAUTHORIZED", exit_code=2)
            resp = await self._raw(method, path, params, json_body, data() if callable(data) else data, headers,
                                   auth)
            if resp.status == 401:
                raise ApiError(NOT_LOGGED_IN, status=401, code="UNAUTHORIZED", exit_code=2)
        if resp.status >= 400:
            raise error_from(resp.status, resp.body)
        return resp

    async def get(self, path: str, **params: Any) -> Any:
        return (await self.send("GET", path, params=params or None)).json()

    async def post(self, path: str, body: Any = None) -> Any:
        return (await self.send("POST", path, json_body=body if body is not None else {})).json()

    async def patch(self, path: str, body: Any) -> Any:
        return (await self.send("PATCH", path, json_body=body)).json()

    async def delete(self, path: str) -> None:
        await self.send("DELETE", path)

    async def pages(self, path: str, **params: Any) -> AsyncIterator[dict[str, Any]]:
        """Every item of an enveloped list, page by page through ``total`` (``limit=1000``)."""
        offset = 0
        while True:
            page = await self.get(path, **params, limit=PAGE, offset=offset)
            items = page.get("items") or []
            for item in items:
                yield item
            offset += len(items)
            if not items or offset >= int(page.get("total", 0)):
                return

    async def all(self, path: str, **params: Any) -> list[dict[str, Any]]:
        return [item async for item in self.pages(path, **params)]

    async def _refresh(self) -> bool:
        """Exchange the refresh token once, under a lock shared by every ``req1`` process of this user.

        If another process refreshed meanwhile, its saved token is taken instead of replaying the old refresh
        token (a replay revokes the whole session).
        """
        if self.stored is None or not self.stored.refresh_token or self.store is None:
            return False
        with credentials.locked(self.store):
            try:
                current = credentials.load(self.store)
            except UsageError:
                current = None
            if current is not None and current.url == self.stored.url and current.token != self.token:
                self.stored, self.token = current, current.token
                return True
            resp = await self._raw("POST", "/auth/refresh", None, {"refresh_token": self.stored.refresh_token},
                                   None, None, False)
            if resp.status != 200:
                return False
            body = resp.json()
            if not isinstance(body, dict) or not body.get("token"):
                return False
            self.stored = Credentials(self.stored.url, str(body["token"]), body.get("refresh_token") or None)
            self.token = self.stored.token
            credentials.save(self.store, self.stored)
        return True

    async def _raw(self, method: str, path: str, params: dict[str, Any] | None, json_body: Any, data: Any,
                   headers: dict[str, str] | None, auth: bool) -> Response:
        assert self._session is not None, "use 'async with Api(...)'"
        all_headers = dict(headers or {})
        if auth and self.token:
            all_headers["Authorization"] = f"Bearer {self.token}"
        query = {k: _query_value(v) for k, v in (params or {}).items() if v is not None}
        try:
            async with self._session.request(method, f"{self.url}/api/v1{path}", params=query, json=json_body,
                                             data=data, headers=all_headers) as resp:
                return Response(resp.status, await resp.read(), resp.headers.get("Content-Type", ""))
        except aiohttp.InvalidURL as err:
            raise ApiError(f"invalid URL {self.url!r}: {err}") from err
        except TimeoutError as err:
            raise ApiError(f"the req1 server at {self.url} did not answer within {self.timeout:.0f} s") from err
        except (aiohttp.ClientError, OSError) as err:
            raise ApiError(f"cannot reach the req1 server at {self.url}: {err or type(err).__name__}") from err


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
