"""The CLI's stored login: where it lives, its 0600 mode, which URL and token a command uses."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from req1_server.client import credentials
from req1_server.client.credentials import DEFAULT_URL, Credentials, UsageError


def test_config_dir_follows_xdg_and_ignores_a_relative_one(tmp_path: Path) -> None:
    assert credentials.config_dir({"XDG_CONFIG_HOME": str(tmp_path), "HOME": "/nowhere"}) == tmp_path / "req1"
    assert credentials.config_dir({"XDG_CONFIG_HOME": "rel", "HOME": str(tmp_path)}) == tmp_path / ".config/req1"
    assert credentials.credentials_path({"HOME": str(tmp_path)}) == tmp_path / ".config/req1/credentials.json"


@pytest.mark.parametrize(("raw", "url"), [
    ("http://localhost:8080", "http://localhost:8080"),
    ("https://req1.example.com/", "https://req1.example.com"),
    ("http://h:1/api/v1/", "http://h:1"),
    (" http://h/prefix ", "http://h/prefix"),
])
def test_normalize_url(raw: str, url: str) -> None:
    assert credentials.normalize_url(raw) == url


@pytest.mark.parametrize("raw", ["localhost:8080", "ftp://h", "http://", "http://h?x=1", "", "http://h:99999",
                                 "http://[::1", "http://a b", "http://:80"])
def test_normalize_url_refuses_what_is_not_an_http_url(raw: str) -> None:
    with pytest.raises(UsageError, match="invalid URL"):
        credentials.normalize_url(raw)


def test_url_precedence_flag_env_stored_default() -> None:
    stored = Credentials("http://stored:1", "t")
    assert credentials.resolve_url("http://flag:1", "http://env:1", stored) == "http://flag:1"
    assert credentials.resolve_url(None, "http://env:1", stored) == "http://env:1"
    assert credentials.resolve_url(None, None, stored) == "http://stored:1"
    assert credentials.resolve_url(None, None, None) == DEFAULT_URL == "http://localhost:8080"


def test_stored_token_is_only_sent_to_its_own_server() -> None:
    stored = Credentials("http://a:1", "stored-token", "r")
    assert credentials.resolve_token("http://a:1", None, None, stored) == ("stored-token", stored)
    assert credentials.resolve_token("http://b:1", None, None, stored) == (None, None)
    assert credentials.resolve_token("http://a:1", "flag", "env", stored) == ("flag", None)
    assert credentials.resolve_token("http://a:1", None, "env", stored) == ("env", None)


def test_save_creates_a_private_file_and_load_reads_it_back(tmp_path: Path) -> None:
    path = tmp_path / "cfg" / "req1" / "credentials.json"
    creds = Credentials("http://h:1", "tok", "refresh")
    old = os.umask(0)  # even with a permissive umask
    try:
        credentials.save(path, creds)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert credentials.load(path) == creds
    assert list(path.parent.iterdir()) == [path]  # no temp file left behind


def test_load_narrows_a_readable_file_and_warns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "credentials.json"
    credentials.save(path, Credentials("http://h:1", "tok"))
    path.chmod(0o644)
    assert credentials.load(path) == Credentials("http://h:1", "tok", None)
    assert credentials.is_private(path)
    assert "0600" in capsys.readouterr().err


def test_load_of_a_missing_or_broken_file(tmp_path: Path) -> None:
    path = tmp_path / "credentials.json"
    assert credentials.load(path) is None
    path.write_text("{not json")
    path.chmod(0o600)
    with pytest.raises(UsageError, match="req1 login"):
        credentials.load(path)
    assert credentials.remove(path) is True
    assert credentials.remove(path) is False
