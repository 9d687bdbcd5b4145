"""Password hashing: argon2id for new hashes, bcrypt from the original req1 server accepted (§2.6).

Hashing is CPU-bound (tens of milliseconds) and argon2id takes 64 MiB per hash, so it runs in its own
small thread pool (``PASSWORD_HASH_CONCURRENCY`` threads, default 2: at most 128 MiB at once) with a short
queue in front (4 per thread). A caller beyond that gets 503 with ``Retry-After: 1`` at once, so a burst of
unauthenticated logins can neither exhaust a pod's memory nor make every login wait for all the others.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import bcrypt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from req1_server.errors import api_error

HASHER = PasswordHasher()  # argon2id with the library's (RFC 9106 low-memory) defaults
BCRYPT_PREFIXES = ("$2a$", "$2b$", "$2y$")
MIN_LENGTH = 8
MAX_LENGTH = 1024
# A real hash of a random password: unknown emails still pay for one verification (no timing oracle).
_DUMMY_HASH = HASHER.hash("req1-dummy-password-for-timing")


def password_problem(password: object) -> str | None:
    """The 400 message for an unacceptable password, or None."""
    if not isinstance(password, str):
        return "password must be a string"
    if len(password) < MIN_LENGTH:
        return f"password must be at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"password must be at most {MAX_LENGTH} characters"
    return None


def hash_password_sync(password: str) -> str:
    return HASHER.hash(password)


def verify_password_sync(password: str, hashed: str | None) -> bool:
    """True when ``password`` matches ``hashed`` (argon2id or bcrypt); None costs a dummy check."""
    if not hashed:
        _verify_argon2(password, _DUMMY_HASH)
        return False
    if hashed.startswith(BCRYPT_PREFIXES):
        try:
            # $2y$ is PHP's name for $2b$; the bcrypt library only knows the latter
            normalized = "$2b$" + hashed[4:] if hashed.startswith("$2y$") else hashed
            return bcrypt.checkpw(password.encode()[:72], normalized.encode())
        except ValueError:
            return False
    return _verify_argon2(password, hashed)


def _verify_argon2(password: str, hashed: str) -> bool:
    try:
        return HASHER.verify(hashed, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(hashed: str) -> bool:
    """bcrypt hashes, and argon2 hashes with weaker parameters than ours, are replaced at login."""
    if hashed.startswith(BCRYPT_PREFIXES):
        return True
    try:
        return HASHER.check_needs_rehash(hashed)
    except InvalidHashError:
        return True


T = TypeVar("T")
DEFAULT_HASH_CONCURRENCY = 2
QUEUE_PER_THREAD = 4
BUSY = "too many password checks at once, retry shortly"


class HashPool:
    """A fixed number of hashing threads and a bounded number of callers waiting for them (process-wide:
    the memory it protects is the process's)."""

    def __init__(self, threads: int = DEFAULT_HASH_CONCURRENCY) -> None:
        self._lock = threading.Lock()
        self.threads = 0
        self.limit = 0
        self.pending = 0
        self._executor: ThreadPoolExecutor | None = None
        self.configure(threads)

    def configure(self, threads: int) -> None:
        with self._lock:
            if threads == self.threads:
                return
            old, self._executor = self._executor, ThreadPoolExecutor(threads, thread_name_prefix="password-hash")
            self.threads, self.limit = threads, threads * (1 + QUEUE_PER_THREAD)
        if old is not None:
            old.shutdown(wait=False)

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        with self._lock:
            if self.pending >= self.limit:
                raise api_error(503, BUSY, {"Retry-After": "1"})
            self.pending += 1
            executor = self._executor
        try:
            return await asyncio.get_running_loop().run_in_executor(executor, fn, *args)
        finally:
            with self._lock:
                self.pending -= 1


POOL = HashPool()


async def hash_password(password: str) -> str:
    return await POOL.run(hash_password_sync, password)


async def verify_password(password: str, hashed: str | None) -> bool:
    return await POOL.run(verify_password_sync, password, hashed)
