"""The rendered redis.conf runs on a real Redis 7 with the rendered command line: password required, AOF on
when persistence is on and off otherwise, and the readiness probe's command answers."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from req1_operator.render import RenderInput, config, redis
from req1_operator.spec import parse_spec
from req1_testenv.process import ManagedProcess, free_port
from req1_testenv.scratch import remove_tree, scratch_dir

pytestmark = pytest.mark.dataplane
PASSWORD = "RedisPassw0rd"


def cli(port: int, *args: str, password: str | None = PASSWORD) -> str:
    env = {k: v for k, v in os.environ.items() if k != "REDISCLI_AUTH"}
    if password:
        env["REDISCLI_AUTH"] = password
    out = subprocess.run(["redis-cli", "-p", str(port), *args], env=env, capture_output=True, text=True, timeout=30)
    return (out.stdout + out.stderr).strip()


@pytest.fixture
def workdir() -> Iterator[Path]:
    path = scratch_dir("redis-render")
    yield path
    remove_tree(path)


@pytest.mark.parametrize("persistence", [True, False])
def test_rendered_redis_runs(workdir: Path, persistence: bool) -> None:
    inp = RenderInput(name="demo", namespace="ns", uid="u", spec=parse_spec({"redis": {"persistence": persistence}}))
    conf = workdir / "redis.conf"
    data = workdir / "data"
    data.mkdir()
    conf.write_text(config.redis_conf(inp).replace("dir /data", f"dir {data}"))
    (container,) = redis.render_statefulset(inp)["spec"]["template"]["spec"]["containers"]
    argv = [shutil.which("redis-server") or "redis-server"]
    argv += [a.replace("/etc/redis/redis.conf", str(conf)).replace("$(REDIS_PASSWORD)", PASSWORD)
             for a in container["command"][1:]]  # fmt: skip
    port = free_port()
    argv += ["--port", str(port)]
    probe = container["readinessProbe"]["exec"]["command"][2].replace("-p 6379", f"-p {port}")

    def ready() -> bool:
        return subprocess.run(["sh", "-c", probe], env={**os.environ, "REDIS_PASSWORD": PASSWORD}).returncode == 0

    proc = ManagedProcess("redis", argv, workdir, ready=ready, timeout=30).start()
    try:
        assert "NOAUTH" in cli(port, "SET", "k", "v", password=None)
        assert cli(port, "SET", "k", "v") == "OK"
        assert cli(port, "CONFIG", "GET", "appendonly").splitlines()[-1] == ("yes" if persistence else "no")
        assert cli(port, "CONFIG", "GET", "maxmemory-policy").splitlines()[-1] == "noeviction"
    finally:
        proc.stop()
