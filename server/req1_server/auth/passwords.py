"""Password hashing: argon2id for new hashes, bcrypt from the original req1 server accepted (§2.6).

Hashing is CPU-bound (tens of milliseconds), so it runs in the default thread pool to keep the
event loop answering other requests.
"""

from __future__ import annotations

import asyncio

import bcrypt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

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


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(hash_password_sync, password)


async def verify_password(password: str, hashed: str | None) -> bool:
    return await asyncio.to_thread(verify_password_sync, password, hashed)
