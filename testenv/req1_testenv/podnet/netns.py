"""Thin wrappers over ``ip`` and ``nft`` that run inside one network namespace.

Why subprocesses: the Python 3.11 standard library cannot enter a namespace (``os.setns`` is 3.12),
and iproute2/nftables are what a person debugging the test bed would type anyway; every command
here can be copied from the log and run by hand.
"""

from __future__ import annotations

import asyncio
import ctypes
import json
import os
import shutil
import socket
import subprocess
from collections.abc import Sequence
from pathlib import Path

NETNS_DIR = Path("/run/netns")


class FabricError(RuntimeError):
    """The fabric could not be built or changed; the message names the failing command."""


def run(argv: Sequence[str], *, stdin: str | None = None, check: bool = True) -> str:
    """Run one command; on failure raise :class:`FabricError` with its stderr."""
    proc = subprocess.run(list(argv), input=stdin, capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise FabricError(f"`{' '.join(argv)}` failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc.stdout


def require_tools() -> None:
    """Root plus iproute2, nsenter and nft, or an error that says what is missing."""
    if os.geteuid() != 0:
        raise FabricError("the pod network needs root (network namespaces, veth pairs, nftables)")
    missing = [tool for tool in ("ip", "nsenter", "nft") if shutil.which(tool) is None]
    if missing:
        raise FabricError(
            f"missing tools for the pod network: {', '.join(missing)} "
            "(Debian packages iproute2, util-linux, nftables; `make apt-deps` installs them)"
        )


def netns_path(name: str) -> Path:
    return NETNS_DIR / name


def netns_exists(name: str) -> bool:
    return netns_path(name).exists()


def netns_list() -> list[str]:
    with_dir = NETNS_DIR.is_dir()
    return sorted(p.name for p in NETNS_DIR.iterdir()) if with_dir else []


def netns_add(name: str) -> None:
    """Create a namespace with loopback up; a clear error when the kernel refuses."""
    try:
        run(["ip", "netns", "add", name])
    except FabricError as exc:
        raise FabricError(f"cannot create network namespace {name} (netns support?): {exc}") from exc
    run(["ip", "-n", name, "link", "set", "lo", "up"])


def netns_delete(name: str) -> None:
    if netns_exists(name):
        run(["ip", "netns", "delete", name], check=False)


def ip_batch(netns: str | None, commands: Sequence[str]) -> None:
    """Several ``ip`` commands in one process, in ``netns`` (or the root namespace when None)."""
    argv = ["ip"] + (["-n", netns] if netns else []) + ["-batch", "-"]
    run(argv, stdin="\n".join(commands) + "\n")


def in_netns(netns: str, argv: Sequence[str]) -> list[str]:
    """``argv`` prefixed to run inside ``netns`` (without remounting /sys like ``ip netns exec``)."""
    return ["nsenter", f"--net={netns_path(netns)}", "--", *argv]


def sysctl(netns: str, settings: dict[str, str]) -> None:
    """Write sysctls of ``netns`` (``/proc/sys/net`` follows the writer's network namespace)."""
    args = [f"{key}={value}" for key, value in settings.items()]
    run(in_netns(netns, ["sysctl", "-q", "-w", *args]))


def nft_apply(netns: str, ruleset: str) -> None:
    """Load an nft script atomically (one transaction) inside ``netns``."""
    run(in_netns(netns, ["nft", "-f", "-"]), stdin=ruleset)


def link_exists(name: str, netns: str | None = None) -> bool:
    argv = ["ip"] + (["-n", netns] if netns else []) + ["link", "show", "dev", name]
    return subprocess.run(argv, capture_output=True, check=False).returncode == 0


def route_get(ip: str) -> dict[str, object]:
    """``ip route get`` in the root namespace, parsed (first route)."""
    out = run(["ip", "-j", "route", "get", ip])
    routes = json.loads(out or "[]")
    return dict(routes[0]) if routes else {}


_CLONE_NEWNET = 0x40000000


def socket_in(netns: str, family: int = socket.AF_INET, kind: int = socket.SOCK_STREAM) -> socket.socket:
    """A socket that lives in ``netns`` (e.g. a node's, for probes), made without a subprocess.

    A socket keeps the namespace it was created in; only the calling thread enters ``netns`` and it
    returns to its own namespace before this returns, so other threads are never affected.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    with open("/proc/thread-self/ns/net", "rb") as home, netns_path(netns).open("rb") as target:
        if libc.setns(target.fileno(), _CLONE_NEWNET) != 0:
            raise FabricError(f"setns into {netns}: {os.strerror(ctypes.get_errno())}")
        try:
            return socket.socket(family, kind)
        finally:
            if libc.setns(home.fileno(), _CLONE_NEWNET) != 0:  # pragma: no cover - would leave the thread moved
                raise FabricError(f"setns back from {netns}: {os.strerror(ctypes.get_errno())}")


async def open_connection_in(netns: str, host: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """``asyncio.open_connection`` from inside ``netns``: a kubelet's probe from its node's namespace.

    Bound it with ``asyncio.timeout``. Probing from the node rather than the root namespace keeps a
    probe's packets inside the test bed whatever ``host`` it names, and probes keep working while
    the node is cut off, as a real kubelet's would.
    """
    sock = socket_in(netns)
    sock.setblocking(False)
    try:
        await asyncio.get_running_loop().sock_connect(sock, (host, port))
        return await asyncio.open_connection(sock=sock)
    except BaseException:
        sock.close()
        raise
