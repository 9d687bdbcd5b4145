"""Webhook delivery settings, read from the environment with the server's other settings (config.py)."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_RETRY_DELAYS = (30.0, 120.0, 600.0, 3600.0, 21600.0)  # after the 1st…5th failed attempt (contract)


@dataclass(frozen=True)
class WebhookSettings:
    timeout_seconds: float = 10.0  # WEBHOOK_TIMEOUT_SECONDS: one POST, connect to last byte
    allow_private: bool = False  # WEBHOOK_ALLOW_PRIVATE: loopback/private/link-local targets allowed
    legacy_secret_header: bool = False  # WEBHOOK_LEGACY_SECRET_HEADER: also send X-Webhook-Secret (the original's)
    retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS  # WEBHOOK_RETRY_DELAYS: seconds, comma-separated
    retention_days: int = 30  # WEBHOOK_DELIVERY_RETENTION_DAYS: finished deliveries older than this are purged
    enabled: bool = True  # WEBHOOK_DISPATCH: this process sends deliveries (off: only queues them)


def parse_delays(raw: str) -> tuple[float, ...]:
    """``"30,120,600"`` → seconds; raises ValueError on anything but non-negative numbers."""
    values = tuple(float(part) for part in raw.split(",") if part.strip())
    if not values or any(v < 0 or v != v for v in values):
        raise ValueError(raw)
    return values
