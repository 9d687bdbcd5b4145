"""``login``, ``logout``, ``whoami``: the stored token's life cycle (contract §14 Δ)."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from req1_server.client import credentials
from req1_server.client.api import Api, ApiError
from req1_server.client.credentials import Credentials, UsageError
from req1_server.client.output import Out


def read_password(given: str | None) -> str:
    """``--password``, else a prompt on the terminal, else one line of stdin (for scripts)."""
    if given is not None:
        return given
    if sys.stdin.isatty():
        try:
            return getpass.getpass("Password: ")
        except EOFError:
            raise UsageError("no password given") from None
    line = sys.stdin.readline()
    if not line:
        raise UsageError("no password given: use --password or pipe it on stdin")
    return line.rstrip("\r\n")


async def login(api: Api, args: argparse.Namespace, path: Path) -> Out:
    password = read_password(args.password)
    resp = await api.send("POST", "/auth/login", json_body={"email": args.email, "password": password}, auth=False)
    body = resp.json()
    if not isinstance(body, dict) or not isinstance(body.get("token"), str):
        raise ApiError(f"{api.url} answered the login without a token: is it a req1 server?")
    credentials.save(path, Credentials(url=api.url, token=body["token"], refresh_token=body.get("refresh_token")))
    user = body.get("user") or {}
    data = {"url": api.url, "user": user, "expires_at": body.get("expires_at"), "credentials": str(path)}
    return Out(data, f"logged in to {api.url} as {user.get('email')} ({user.get('role')}); token saved in {path}")


async def logout(api: Api, args: argparse.Namespace, path: Path) -> Out:
    """Revoke the session on the server when possible; the local token goes in any case."""
    revoked = False
    if api.token:
        try:
            await api.send("POST", "/auth/logout")
            revoked = True
        except ApiError as err:
            if err.exit_code != 2:  # an already expired session is as good as revoked
                print(f"req1: warning: the server did not end the session: {err.message}", file=sys.stderr)
    mine = api.stored is not None or getattr(args, "broken_credentials", False)
    removed = credentials.remove(path) if mine else False
    text = "logged out" if revoked or removed else "not logged in"
    return Out({"revoked": revoked, "removed_credentials": removed}, text)


async def whoami(api: Api, args: argparse.Namespace, path: Path) -> Out:
    me = await api.get("/auth/me")
    return Out({**me, "url": api.url}, f"{me.get('email')} ({me.get('role')}) on {api.url}")
