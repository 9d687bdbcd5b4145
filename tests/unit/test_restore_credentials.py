"""A restore source with keys of its own (REQ1_RESTORE_AWS_*): the tools and restore_command read the source with
them while AWS_* keep opening the instance's own backups; no secret value is written into the command."""

from __future__ import annotations

import subprocess

from req1_operator.instance import objectstore

ENV = {
    "REQ1_RESTORE_SOURCE": "s3://dr/req1/ns/old",
    "REQ1_RESTORE_AWS_ACCESS_KEY_ID": "source-key",
    "REQ1_RESTORE_AWS_SECRET_ACCESS_KEY": "source-secret",
    "AWS_ACCESS_KEY_ID": "own-key",
}


def test_own_credentials_only_when_given() -> None:
    cfg = objectstore.restore_config(ENV)
    assert cfg is not None and cfg.own_credentials
    assert objectstore.restore_credentials(cfg, ENV) == {
        "AWS_ACCESS_KEY_ID": "source-key", "AWS_SECRET_ACCESS_KEY": "source-secret"}
    plain = objectstore.restore_config({"REQ1_RESTORE_SOURCE": "s3://dr/req1/ns/old"})
    assert plain is not None and not plain.own_credentials
    assert objectstore.restore_credentials(plain, ENV) == {}


def test_restore_command_names_the_keys_and_the_shell_maps_them() -> None:
    cfg = objectstore.restore_config(ENV)
    assert cfg is not None
    command = objectstore.wal_restore_command(cfg.location, cfg.own_credentials)
    assert "source-secret" not in command and '"$REQ1_RESTORE_AWS_SECRET_ACCESS_KEY"' in command
    assert command.endswith(" %f %p")
    prefix = command.split(" ", 3)[:3]  # the three assignments, as PostgreSQL's shell runs them
    echo = """ sh -c 'echo "$AWS_ACCESS_KEY_ID/$AWS_SECRET_ACCESS_KEY"'"""
    shown = subprocess.run(["sh", "-c", " ".join(prefix) + echo], env=ENV, capture_output=True, text=True,
                           check=True).stdout.strip()
    assert shown == "source-key/source-secret"
    assert not objectstore.wal_restore_command(cfg.location).startswith("AWS_")
