"""A pod's volumes as host directories, delivered and kept current the way a kubelet does.

Secret, ConfigMap, projected and downward-API volumes are written with the kubelet's atomic layout
(``..data`` → a timestamped directory, each key a symlink through ``..data``), so an update swaps the
whole set at once and reaches containers through their bind mounts without a restart. PVCs are the
provisioner's hostPath directories, emptyDirs live in the pod's directory (``medium: Memory`` as
tmpfs inside the container), and ``fsGroup`` is applied as the kubelet applies it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from req1_testenv.kubelet.api import KubeApi
from req1_testenv.kubelet.podspec import ConfigError, Sources, field_value, resource_value

TOKEN_SECONDS = 3607  # what the ServiceAccount admission plugin asks for in kube-api-access volumes


@dataclass(frozen=True)
class Mount:
    """One mount of a container: a host source (or tmpfs) at a path inside the container."""

    kind: str  # "bind" | "tmpfs"
    source: str
    target: str
    read_only: bool = False
    file: bool = False
    options: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "source": self.source, "target": self.target, "read_only": self.read_only,
                "file": self.file, "options": self.options}


def write_atomic(directory: Path, files: Mapping[str, tuple[bytes, int]], group: int | None) -> bool:
    """Publish ``files`` (relative path → (content, mode)) in ``directory``; False when nothing changed."""
    directory.mkdir(parents=True, exist_ok=True)
    current = directory / "..data"
    if current.exists() and _same(current, files):
        return False
    stamp = directory / f"..{time.strftime('%Y_%m_%d_%H_%M_%S')}.{time.monotonic_ns()}"
    stamp.mkdir()
    os.chmod(stamp, 0o755)  # noqa: S103 (the kubelet's mode: containers run as other users)
    for rel, (content, mode) in files.items():
        path = stamp / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        if group is not None:
            os.chown(path, 0, group)
            mode |= 0o040
        os.chmod(path, mode)
    tmp = directory / "..data_tmp"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(stamp.name)
    old = os.readlink(current) if current.is_symlink() else None
    os.replace(tmp, current)
    tops = {rel.split("/", 1)[0] for rel in files}
    for top in tops:
        link = directory / top
        if not link.is_symlink():
            link.symlink_to(f"..data/{top}")
    for entry in directory.iterdir():
        if not entry.name.startswith("..") and entry.name not in tops:
            entry.unlink()
    if old:
        shutil.rmtree(directory / old, ignore_errors=True)
    return True


def _same(current: Path, files: Mapping[str, tuple[bytes, int]]) -> bool:
    for rel, (content, _mode) in files.items():
        path = current / rel
        if not path.is_file() or path.read_bytes() != content:
            return False
    existing = {str(p.relative_to(current)) for p in current.rglob("*") if p.is_file()}
    return existing == set(files)


def _items(data: Mapping[str, bytes], items: list[dict[str, Any]] | None, default_mode: int,
           what: str, optional: bool) -> dict[str, tuple[bytes, int]]:
    if not items:
        return {k: (v, default_mode) for k, v in data.items()}
    out: dict[str, tuple[bytes, int]] = {}
    for item in items:
        if item["key"] not in data:
            if optional:
                continue
            raise ConfigError(f"{what}: key {item['key']!r} not found")
        out[item["path"]] = (data[item["key"]], item.get("mode", default_mode))
    return out


class PodVolumes:
    """Materialises one pod's volumes under ``pod_dir/volumes`` and refreshes the projected kinds."""

    def __init__(self, api: KubeApi, pod: dict[str, Any], pod_dir: Path) -> None:
        self.api = api
        self.pod = pod
        self.root = pod_dir / "volumes"
        self.namespace = pod["metadata"]["namespace"]
        psc = pod["spec"].get("securityContext") or {}
        self.fs_group: int | None = psc.get("fsGroup")
        self.fs_group_policy: str = psc.get("fsGroupChangePolicy", "Always")
        self.paths: dict[str, Path] = {}
        self.memory: set[str] = set()
        self._token_expiry: dict[str, float] = {}

    async def prepare(self, sources: Sources) -> None:
        """Create or update every volume; raises ConfigError for a missing Secret, ConfigMap or claim."""
        for vol in self.pod["spec"].get("volumes", []):
            name = vol["name"]
            path = self.root / name
            if "persistentVolumeClaim" in vol:
                path = await self._claim_path(vol["persistentVolumeClaim"]["claimName"])
                self._own(path)
            elif "emptyDir" in vol:
                if (vol["emptyDir"] or {}).get("medium") == "Memory":
                    self.memory.add(name)
                path.mkdir(parents=True, exist_ok=True)
                os.chmod(path, 0o777)  # noqa: S103 (an emptyDir is world-writable, as upstream)
                self._own(path)
            elif "hostPath" in vol:
                path = Path(vol["hostPath"]["path"])
                if (vol["hostPath"].get("type") or "") in ("DirectoryOrCreate", ""):
                    path.mkdir(parents=True, exist_ok=True)
            else:
                files = await self._projected_files(vol, sources)
                if files is None:
                    raise ConfigError(f"volume {name!r}: unsupported volume type {sorted(set(vol) - {'name'})}")
                write_atomic(path, files, self.fs_group)
            self.paths[name] = path

    async def refresh(self, sources: Sources) -> None:
        """Re-deliver Secret/ConfigMap/projected/downward-API volumes whose content changed."""
        for vol in self.pod["spec"].get("volumes", []):
            files = await self._projected_files(vol, sources)
            if files is not None:
                with contextlib.suppress(ConfigError):
                    write_atomic(self.root / vol["name"], files, self.fs_group)

    def mounts(self, container: Mapping[str, Any]) -> list[Mount]:
        out: list[Mount] = []
        for vm in container.get("volumeMounts", []):
            name = vm["name"]
            if name in self.memory:
                out.append(Mount("tmpfs", "", vm["mountPath"], options="mode=1777,size=256m"))
                continue
            source = self.paths[name]
            is_file = False
            if vm.get("subPath"):
                source = source / vm["subPath"]
                if not source.exists():
                    source.mkdir(parents=True)
                    self._own(source)
                source = source.resolve()  # a subPath into an atomic volume pins the current file, as upstream
                is_file = source.is_file()
            vol = next(v for v in self.pod["spec"]["volumes"] if v["name"] == name)
            projected = any(k in vol for k in ("secret", "configMap", "projected", "downwardAPI"))
            out.append(Mount("bind", str(source), vm["mountPath"], bool(vm.get("readOnly")) or projected, is_file))
        return out

    # -- sources

    async def _claim_path(self, claim: str) -> Path:
        pvc = await self.api.get_or_none(f"/api/v1/namespaces/{self.namespace}/persistentvolumeclaims/{claim}")
        if pvc is None:
            raise ConfigError(f'persistentvolumeclaim "{claim}" not found')
        volume = (pvc.get("spec") or {}).get("volumeName")
        if not volume or (pvc.get("status") or {}).get("phase") != "Bound":
            raise ConfigError(f'persistentvolumeclaim "{claim}" is not bound yet')
        pv = await self.api.get(f"/api/v1/persistentvolumes/{volume}")
        host = (pv["spec"].get("hostPath") or {}).get("path")
        if not host:
            raise ConfigError(f"persistentvolume {volume} is not a hostPath volume this node can mount")
        path = Path(host)
        await asyncio.to_thread(path.mkdir, parents=True, exist_ok=True)
        return path

    def _own(self, path: Path) -> None:
        """fsGroup: group-own the volume and make it group-writable (only on mismatch with OnRootMismatch)."""
        if self.fs_group is None:
            return
        if self.fs_group_policy == "OnRootMismatch" and path.stat().st_gid == self.fs_group:
            return
        for dirpath, dirnames, filenames in os.walk(path):
            for entry in [dirpath, *(os.path.join(dirpath, n) for n in dirnames + filenames)]:
                with contextlib.suppress(OSError):
                    os.lchown(entry, -1, self.fs_group)
                    if not os.path.islink(entry):
                        mode = os.stat(entry).st_mode
                        extra = 0o2070 if os.path.isdir(entry) else 0o060
                        os.chmod(entry, (mode & 0o7777) | extra)

    async def _projected_files(self, vol: Mapping[str, Any], sources: Sources) -> dict[str, tuple[bytes, int]] | None:
        if "secret" in vol:
            s = vol["secret"]
            return self._from(sources.secrets, s["secretName"], s.get("items"), s.get("defaultMode", 0o644),
                              "secret", bool(s.get("optional")))
        if "configMap" in vol:
            c = vol["configMap"]
            return self._from(sources.configmaps, c["name"], c.get("items"), c.get("defaultMode", 0o644),
                              "configmap", bool(c.get("optional")))
        if "downwardAPI" in vol:
            d = vol["downwardAPI"]
            return self._downward(d.get("items", []), d.get("defaultMode", 0o644))
        if "projected" in vol:
            p = vol["projected"]
            mode = p.get("defaultMode", 0o644)
            files: dict[str, tuple[bytes, int]] = {}
            for src in p.get("sources", []):
                if "secret" in src:
                    files |= self._from(sources.secrets, src["secret"]["name"], src["secret"].get("items"), mode,
                                        "secret", bool(src["secret"].get("optional")))
                elif "configMap" in src:
                    files |= self._from(sources.configmaps, src["configMap"]["name"], src["configMap"].get("items"),
                                        mode, "configmap", bool(src["configMap"].get("optional")))
                elif "downwardAPI" in src:
                    files |= self._downward(src["downwardAPI"].get("items", []), mode)
                elif "serviceAccountToken" in src:
                    t = src["serviceAccountToken"]
                    files[t["path"]] = (await self._token(vol["name"], t), mode)
            return files
        return None

    @staticmethod
    def _from(table: Mapping[str, dict[str, str] | None], name: str, items: list[dict[str, Any]] | None,
              mode: int, kind: str, optional: bool) -> dict[str, tuple[bytes, int]]:
        data = table.get(name)
        if data is None:
            if optional:
                return {}
            raise ConfigError(f'{kind} "{name}" not found')
        raw = {k: v.encode(errors="surrogateescape") for k, v in data.items()}
        return _items(raw, items, mode, f'{kind} "{name}"', optional)

    def _downward(self, items: list[dict[str, Any]], mode: int) -> dict[str, tuple[bytes, int]]:
        out: dict[str, tuple[bytes, int]] = {}
        for item in items:
            if "fieldRef" in item:
                value = field_value(self.pod, item["fieldRef"]["fieldPath"])
            else:
                ref = item["resourceFieldRef"]
                container = next(c for c in self.pod["spec"]["containers"] if c["name"] == ref["containerName"])
                value = resource_value(container, ref)
            out[item["path"]] = (value.encode(), item.get("mode", mode))
        return out

    async def _token(self, volume: str, src: Mapping[str, Any]) -> bytes:
        """A TokenRequest bound to this pod, renewed after 80% of its lifetime (as the kubelet does)."""
        key = f"{volume}/{src['path']}"
        target = self.root / volume / src["path"]
        if target.exists() and time.time() < self._token_expiry.get(key, 0):
            return target.read_bytes()
        meta = self.pod["metadata"]
        seconds = int(src.get("expirationSeconds", TOKEN_SECONDS))
        body = {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "spec": {
                "audiences": [src["audience"]] if src.get("audience") else [],
                "expirationSeconds": seconds,
                "boundObjectRef": {"apiVersion": "v1", "kind": "Pod", "name": meta["name"], "uid": meta["uid"]},
            },
        }
        sa = self.pod["spec"].get("serviceAccountName", "default")
        answer = await self.api.create(f"/api/v1/namespaces/{self.namespace}/serviceaccounts/{sa}/token", body)
        self._token_expiry[key] = time.time() + 0.8 * seconds
        return str(answer["status"]["token"]).encode()

