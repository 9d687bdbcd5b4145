"""Webhook delivery rules as pure functions: the signature, which destinations are allowed, when to retry."""

from __future__ import annotations

import hashlib
import hmac
import random

import pytest

from req1_server.config import ConfigError, Settings
from req1_server.webhooks import destinations, signing
from req1_server.webhooks.dispatcher import retry_delay, retryable
from req1_server.webhooks.settings import DEFAULT_RETRY_DELAYS


def test_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    body = b'{"event":"object.created"}'
    expected = hmac.new(b"key", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert signing.signature("key", 1_700_000_000, body) == "sha256=" + expected
    headers = signing.headers("object.created", "d1", body, "key", 1_700_000_000)
    assert headers["X-Webhook-Signature"] == "sha256=" + expected and headers["X-Webhook-Timestamp"] == "1700000000"
    assert "X-Webhook-Secret" not in headers
    assert signing.headers("e", "d", body, "key", 1, legacy_secret_header=True)["X-Webhook-Secret"] == "key"
    unsigned = signing.headers("e", "d", body, None, 1)
    assert "X-Webhook-Signature" not in unsigned and unsigned["User-Agent"] == "req1-webhooks/1"


def test_receivers_refuse_stale_altered_or_forged_deliveries() -> None:
    body, now = b"{}", 1_700_000_000
    sig = signing.signature("key", now, body)
    assert signing.verify("key", str(now), body, sig, now + 299)
    assert not signing.verify("key", str(now), body, sig, now + 301)  # replayed later
    assert not signing.verify("key", str(now), b"{ }", sig, now)  # body altered
    assert not signing.verify("key", str(now + 1), body, sig, now)  # timestamp altered
    assert not signing.verify("key", "soon", body, sig, now)


@pytest.mark.parametrize(
    ("address", "allowed"),
    [("93.184.216.34", True), ("2606:4700::1111", True), ("127.0.0.1", False), ("10.0.0.5", False),
     ("172.16.3.4", False), ("192.168.1.1", False), ("169.254.169.254", False), ("::1", False),
     ("fe80::1", False), ("fd00::1", False), ("224.0.0.1", False), ("0.0.0.0", False), ("::ffff:127.0.0.1", False),
     ("not-an-address", False)],
)
def test_addresses_inside_the_network_are_not_allowed(address: str, allowed: bool) -> None:
    assert destinations.address_allowed(address) is allowed


def test_literal_destinations_are_checked_without_dns() -> None:
    assert destinations.literal_refused("http://127.0.0.1:8080/x")
    assert destinations.literal_refused("http://LOCALHOST/x") and destinations.literal_refused("http://a.localhost/")
    assert destinations.literal_refused("http://[::1]/x")
    assert not destinations.literal_refused("https://hooks.example.com/x")  # names: checked when resolved
    assert not destinations.literal_refused("https://93.184.216.34/x")


def test_retries_follow_the_delays_with_jitter_then_stop() -> None:
    rng = random.Random(1)
    for attempt, base in enumerate(DEFAULT_RETRY_DELAYS, start=1):
        delay = retry_delay(attempt, DEFAULT_RETRY_DELAYS, rng)
        assert delay is not None and 0.8 * base <= delay <= 1.2 * base
    assert retry_delay(len(DEFAULT_RETRY_DELAYS) + 1, DEFAULT_RETRY_DELAYS, rng) is None
    assert [retryable(s) for s in (None, 429, 500, 503, 400, 404, 410)] == [True] * 4 + [False] * 3


def test_webhook_settings_from_the_environment() -> None:
    base = {"DATABASE_URL": "postgresql://u@h/db"}
    default = Settings.from_env(base).webhooks
    assert default.retry_delays == DEFAULT_RETRY_DELAYS and not default.allow_private and default.enabled
    custom = Settings.from_env({**base, "WEBHOOK_RETRY_DELAYS": "1, 2.5", "WEBHOOK_ALLOW_PRIVATE": "true",
                                "WEBHOOK_TIMEOUT_SECONDS": "3", "WEBHOOK_DISPATCH": "off"}).webhooks
    assert custom.retry_delays == (1.0, 2.5) and custom.allow_private and custom.timeout_seconds == 3.0
    assert not custom.enabled
    with pytest.raises(ConfigError, match="WEBHOOK_RETRY_DELAYS"):
        Settings.from_env({**base, "WEBHOOK_RETRY_DELAYS": "soon"})
