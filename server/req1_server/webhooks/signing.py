"""The headers of one delivery, including its signature.

With a secret, the receiver gets ``X-Webhook-Timestamp: <unix seconds>`` and ``X-Webhook-Signature:
sha256=<hex>``, the HMAC-SHA256 of ``"<timestamp>." + raw body`` under the secret: binding the time into the MAC
lets receivers refuse replays (older than 5 minutes) and the body is signed exactly as sent.
"""

from __future__ import annotations

import hashlib
import hmac

USER_AGENT = "req1-webhooks/1"
REPLAY_WINDOW_SECONDS = 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def headers(event: str, delivery_id: str, body: bytes, secret: str | None, timestamp: int,
            legacy_secret_header: bool = False) -> dict[str, str]:
    out = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Webhook-Event": event,
        "X-Webhook-Delivery": delivery_id,
    }
    if secret:
        out["X-Webhook-Timestamp"] = str(timestamp)
        out["X-Webhook-Signature"] = signature(secret, timestamp, body)
        if legacy_secret_header:
            out["X-Webhook-Secret"] = secret
    return out


def verify(secret: str, timestamp: str, body: bytes, signature_header: str, now: float) -> bool:
    """What a receiver does (and what the tests do): constant-time compare, and a fresh timestamp."""
    try:
        ts = int(timestamp)
    except ValueError:
        return False
    if abs(now - ts) > REPLAY_WINDOW_SECONDS:
        return False
    return hmac.compare_digest(signature(secret, ts, body), signature_header)
