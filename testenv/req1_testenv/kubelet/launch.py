"""Start one container: a copy-on-write root, the pod's volumes at their mount paths, then exec.

Run as root by the node agent inside the pod's network namespace and a new mount and UTS namespace
(``nsenter --net=… unshare --mount --uts -- python -m req1_testenv.kubelet.launch SPEC``). It

1. mounts an overlay whose lower layer is this machine's root file system (the host stands in for the
   image) and whose upper layer is the container's own directory, so nothing the container writes
   reaches the host, and the image's accounts (/etc/passwd) and DNS settings are written there;
2. mounts /proc, /dev, /sys, a fresh /run and /tmp, and every volume at its mount path, all *inside*
   the new root, so a symlink in a mount path (``/var/run`` → ``/run``) resolves as in a container;
3. makes the root read-only when ``readOnlyRootFilesystem`` asks for it, sets the pod's hostname,
   drops to the pod's user and groups and execs the command with exactly the container's environment.

The spec is a JSON file written by :mod:`req1_testenv.kubelet.container`.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import json
import os
import sys
from pathlib import Path
from typing import Any

MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_REMOUNT = 0x20
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 1 << 18

_libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)


def _mount(source: str, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    rc = _libc.mount(
        source.encode(), target.encode(), fstype.encode() if fstype else None, ctypes.c_ulong(flags),
        data.encode() if data else None,
    )
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {source} on {target} ({fstype or 'bind'}): {os.strerror(err)}")


def _sethostname(name: str) -> None:
    raw = name.encode()[:64]
    if _libc.sethostname(raw, len(raw)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"sethostname: {os.strerror(err)}")


def _write_accounts(accounts: list[dict[str, Any]]) -> None:
    """Replace same-named host entries in /etc/passwd and /etc/group with the image's own."""
    if not accounts:
        return
    names = {a["name"] for a in accounts}
    uids = {a["uid"] for a in accounts}
    passwd = [
        line for line in Path("/etc/passwd").read_text().splitlines()
        if line and line.split(":", 1)[0] not in names and _field(line, 2) not in uids
    ]
    passwd += [f"{a['name']}:x:{a['uid']}:{a['gid']}::{a['home']}:/bin/sh" for a in accounts]
    gids = {a["gid"] for a in accounts}
    group = [
        line for line in Path("/etc/group").read_text().splitlines()
        if line and line.split(":", 1)[0] not in names and _field(line, 2) not in gids
    ]
    group += [f"{a['name']}:x:{a['gid']}:" for a in accounts]
    _replace("/etc/passwd", "\n".join(passwd) + "\n", 0o644)
    _replace("/etc/group", "\n".join(group) + "\n", 0o644)


def _field(line: str, index: int) -> int | None:
    parts = line.split(":")
    try:
        return int(parts[index])
    except (IndexError, ValueError):
        return None


def _replace(path: str, content: str, mode: int) -> None:
    """Write a file in the new root, replacing a symlink (e.g. resolv.conf → /run/…) rather than following it."""
    if os.path.islink(path) or os.path.exists(path):
        os.unlink(path)
    with open(path, "w") as fh:
        fh.write(content)
    os.chmod(path, mode)


def _open_paths(paths: list[str]) -> None:
    """Let every user traverse to these paths, in the container's copy of the root only (an image would)."""
    for path in paths:
        current = Path(path)
        for directory in [*reversed(current.parents), current]:
            with contextlib.suppress(OSError):
                mode = directory.stat().st_mode
                if not mode & 0o001:
                    os.chmod(directory, (mode & 0o7777) | 0o001)


def _ensure_target(path: str, is_file: bool) -> None:
    if is_file:
        os.makedirs(os.path.dirname(path) or "/", exist_ok=True)
        if not os.path.exists(path):
            Path(path).touch()
    else:
        os.makedirs(path, exist_ok=True)


def _restore_image_paths(image_fds: dict[str, int], targets: list[str]) -> None:
    """An image's files never sit below its volumes, but here they are host paths (e.g. a clone under /tmp) that a
    mount (the container's own /tmp, an emptyDir) can hide: bind them back, read-only, where the image has them."""
    for path, fd in image_fds.items():
        if any(path == t or path.startswith(t.rstrip("/") + "/") for t in targets):
            _ensure_target(path, False)
            _mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC)
            _mount("none", path, None, MS_BIND | MS_REMOUNT | MS_RDONLY)


def main(spec_path: str) -> None:
    spec = json.loads(Path(spec_path).read_text())
    root = spec["root"]
    _mount("none", "/", None, MS_REC | MS_PRIVATE)  # nothing below propagates back to the host
    os.makedirs(root["merged"], exist_ok=True)
    _mount(
        "overlay", root["merged"], "overlay", 0,
        f"lowerdir=/,upperdir={root['upper']},workdir={root['work']}",
    )
    # Bind sources are host paths: hold them open, so they can be reached after the chroot.
    fds: dict[str, int] = {}
    for src in ["/dev", "/sys", *[m["source"] for m in spec["mounts"] if m["kind"] == "bind"]]:
        if src not in fds:
            fds[src] = os.open(src, os.O_PATH)
    image_fds = {p: os.open(p, os.O_PATH) for p in spec.get("image_paths", []) if os.path.isdir(p)}
    os.chroot(root["merged"])
    os.chdir("/")
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV)
    _mount(f"/proc/self/fd/{fds['/dev']}", "/dev", None, MS_BIND | MS_REC)
    _mount(f"/proc/self/fd/{fds['/sys']}", "/sys", None, MS_BIND | MS_REC)
    _mount(f"/proc/self/fd/{fds['/sys']}", "/sys", None, MS_BIND | MS_REMOUNT | MS_RDONLY)
    _mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755")
    _mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777")

    _open_paths(spec.get("readable", []))
    _write_accounts(spec["accounts"])
    for path, content in spec["etc_files"].items():
        _replace(path, content, 0o644)
    os.makedirs(spec["workdir"], exist_ok=True)

    for m in spec["mounts"]:
        target = m["target"]
        if m["kind"] == "tmpfs":
            _ensure_target(target, False)
            _mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, m.get("options") or "mode=1777")
            continue
        _ensure_target(target, m.get("file", False))
        _mount(f"/proc/self/fd/{fds[m['source']]}", target, None, MS_BIND | MS_REC)
        if m.get("read_only"):
            _mount("none", target, None, MS_BIND | MS_REMOUNT | MS_RDONLY)
    _restore_image_paths(image_fds, ["/tmp", "/run", *[m["target"] for m in spec["mounts"]]])
    for fd in [*fds.values(), *image_fds.values()]:
        os.close(fd)

    if spec["read_only_root"]:
        _mount("none", "/", None, MS_BIND | MS_REMOUNT | MS_RDONLY)
    _sethostname(spec["hostname"])
    os.chdir(spec["workdir"])
    uid, gid = spec["uid"], spec["gid"]
    os.setgroups(spec["groups"])
    os.setgid(gid)
    os.setuid(uid)
    argv, env = spec["argv"], spec["env"]
    try:
        os.execvpe(argv[0], argv, env)  # noqa: S606 (the container command, as its image would run it)
    except OSError as exc:
        print(f"req1 test bed: cannot run {argv[0]!r} in the container: {exc}", file=sys.stderr)
        sys.exit(127)


if __name__ == "__main__":
    main(sys.argv[1])
