"""Verified access tokens are remembered (PyJWT's checks are most of an authenticated request's CPU), but never
past their expiry and never for another secret."""

from __future__ import annotations

import uuid

import pytest

from req1_server.auth import tokens

SECRET = "s" * 40


def test_a_verified_token_is_remembered_until_it_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    token, exp = tokens.issue(SECRET, uuid.uuid4(), "a@b.c", "viewer", "sid-1", 3600)
    first = tokens.verify(SECRET, token)
    assert tokens.verify(SECRET, token) is first  # not decoded again
    with pytest.raises(tokens.TokenError):
        tokens.verify("t" * 40, token)  # another secret: decoded, and refused
    now = tokens.time.time
    monkeypatch.setattr(tokens.time, "time", lambda: exp + tokens.LEEWAY_SECONDS + 1)
    with pytest.raises(tokens.TokenError):
        tokens.verify(SECRET, token)
    monkeypatch.setattr(tokens.time, "time", now)
    assert (SECRET, token) not in tokens._verified


def test_refused_tokens_are_not_remembered() -> None:
    with pytest.raises(tokens.TokenError):
        tokens.verify(SECRET, "not.a.token")
    assert (SECRET, "not.a.token") not in tokens._verified
