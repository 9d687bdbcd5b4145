"""Signed relative download URLs (``?expires=&uid=&signature=``) for routes registered with query_token.

The signature is an HMAC-SHA256 with ``JWT_SECRET`` over the path, the expiry and the user, so a URL
works only for that path, until it expires, and is attributed to the user who asked for it.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from urllib.parse import urlencode

from req1_server.config import CURRENT_SETTINGS

NIL_USER = uuid.UUID(int=0)


def _mac(secret: str, path: str, expires: int, uid: str) -> str:
    message = f"{path}\n{expires}\n{uid}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(secret: str, path: str, ttl: int, user_id: uuid.UUID | None = None) -> str:
    expires = int(time.time()) + ttl
    uid = str(user_id or NIL_USER)
    query = urlencode({"expires": expires, "uid": uid, "signature": _mac(secret, path, expires, uid)})
    return f"{path}?{query}"


def sign_download(path: str, ttl: int | None = None, user_id: uuid.UUID | None = None) -> str:
    """A relative URL for ``path`` valid for ``ttl`` seconds (default DOWNLOAD_URL_TTL_SECONDS).

    Call it while handling a request: the secret comes from that request's app settings. Pass the
    caller's ``user_id`` so the download is attributed to them.
    """
    settings = CURRENT_SETTINGS.get()
    return sign(settings.jwt_secret, path, ttl or settings.download_url_ttl_seconds, user_id)


def verify(secret: str, path: str, expires: str, uid: str, signature: str) -> uuid.UUID | None:
    """The signing user (NIL_USER when none) if the signature is valid and unexpired, else None."""
    try:
        exp = int(expires)
        user = uuid.UUID(uid)
    except ValueError:
        return None
    if exp < time.time():
        return None
    if not hmac.compare_digest(_mac(secret, path, exp, str(user)), signature):
        return None
    return user
