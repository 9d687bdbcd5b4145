"""The stored login: ``$XDG_CONFIG_HOME/req1/credentials.json`` (else ``~/.config``), readable by its owner only.

It holds ``{url, token, refresh_token}`` for one server. The token is only sent to the URL it was issued by,
so ``--url`` pointing elsewhere never leaks it.
"""

from __future__ import annotations

import fcntl
import json
import os
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_URL = "http://localhost:8080"
FILE_MODE = 0o600


class UsageError(Exception):
    """A mistake by the user (bad URL, unreadable file…): one line on stderr, exit 1."""


@dataclass(frozen=True)
class Credentials:
    url: str
    token: str
    refresh_token: str | None = None


def config_dir(env: dict[str, str] | os._Environ[str] = os.environ) -> Path:
    """XDG base directory rules: a relative ``XDG_CONFIG_HOME`` is ignored."""
    xdg = env.get("XDG_CONFIG_HOME", "")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path(env.get("HOME") or Path.home()) / ".config"
    return base / "req1"


def credentials_path(env: dict[str, str] | os._Environ[str] = os.environ) -> Path:
    return config_dir(env) / "credentials.json"


def normalize_url(raw: str) -> str:
    """``http(s)://host[:port][/prefix]`` without a trailing slash or ``/api/v1``; anything else is refused."""
    url = raw.strip().rstrip("/")
    if url.endswith("/api/v1"):
        url = url[: -len("/api/v1")]
    try:
        parts = urlsplit(url)
        valid = (parts.scheme in ("http", "https") and bool(parts.hostname) and not parts.query
                 and not parts.fragment and not any(c.isspace() for c in url))
        _ = parts.port  # out of range or not a number: ValueError
    except ValueError:
        valid = False
    if not valid:
        raise UsageError(f"invalid URL {raw!r}: expected http(s)://host[:port]")
    return url


def load(path: Path) -> Credentials | None:
    """The stored login, or None when there is none; a file others can read is narrowed to 0600 first."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return None
    if mode & 0o077:
        os.chmod(path, FILE_MODE)
        print(f"req1: warning: {path} was readable by others; its mode is now 0600", file=sys.stderr)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Credentials(url=normalize_url(data["url"]), token=str(data["token"]),
                           refresh_token=data.get("refresh_token") or None)
    except (OSError, ValueError, KeyError, TypeError, UsageError) as err:
        raise UsageError(f"cannot read {path}: {err}; run 'req1 login' again") from err


def save(path: Path, creds: Credentials) -> None:
    """Write atomically, created 0600 from the start (never briefly world-readable), directory 0700."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(asdict(creds), out, indent=2)
            out.write("\n")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def remove(path: Path) -> bool:
    """Forget the stored login; False when there was none."""
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Serialize refreshes across ``req1`` processes: a refresh token works once, a replay ends the session."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, FILE_MODE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def is_private(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) == FILE_MODE


def resolve_url(flag: str | None, env_url: str | None, stored: Credentials | None) -> str:
    """``--url`` > ``REQ1_URL`` > the URL of the stored login > the default."""
    for candidate in (flag, env_url):
        if candidate:
            return normalize_url(candidate)
    return stored.url if stored else DEFAULT_URL


def resolve_token(url: str, flag: str | None, env_token: str | None,
                  stored: Credentials | None) -> tuple[str | None, Credentials | None]:
    """(token to send, stored login that may refresh it): ``--token`` > ``REQ1_TOKEN`` > the file for this URL."""
    if flag:
        return flag, None
    if env_token:
        return env_token, None
    if stored and stored.url == url:
        return stored.token, stored
    return None, None
