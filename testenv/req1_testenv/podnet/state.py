"""Files that hold a fabric's state, and the locks that make them safe to share between processes.

Why files: the test process, one node agent per node and the network agent all act on one fabric,
each from its own process. Writers hold ``<workdir>/fabric.lock`` for a few milliseconds; files
are replaced atomically, so readers (the network agent polls them) never need the lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from req1_testenv.podnet.addressing import SLOTS, FabricConfig

SLOTS_DIR = Path("/run/req1-podnet")  # tmpfs: forgotten on reboot, like the namespaces themselves


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """An exclusive advisory lock on ``path`` (created if needed), released on exit."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def read_json(path: Path, default: Any) -> Any:
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return default


def write_json(path: Path, data: Any) -> None:
    """Write through a temporary file and rename, so readers see the old or the new file whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True))
    tmp.replace(path)


class FabricState:
    """The paths of one fabric's workdir and typed accessors over them."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = Path(workdir)

    @property
    def fabric_file(self) -> Path:
        return self.workdir / "fabric.json"

    @property
    def faults_file(self) -> Path:
        return self.workdir / "faults.json"

    @property
    def services_file(self) -> Path:
        """The last Service ruleset the agent rendered (applied to nodes added later, too)."""
        return self.workdir / "services.nft"

    def node_file(self, node: str) -> Path:
        return self.workdir / "nodes" / f"{node}.json"

    def lock(self) -> contextlib.AbstractContextManager[None]:
        return locked(self.workdir / "fabric.lock")

    # -- fabric.json: {"slot": int, "nodes": {name: index}}

    def slot(self) -> int | None:
        slot = read_json(self.fabric_file, {}).get("slot")
        return int(slot) if slot is not None else None

    def nodes(self) -> dict[str, int]:
        return {str(k): int(v) for k, v in read_json(self.fabric_file, {}).get("nodes", {}).items()}

    def write_fabric(self, slot: int, nodes: dict[str, int]) -> None:
        config = FabricConfig.for_slot(slot)
        write_json(self.fabric_file, {"slot": slot, "nodes": nodes, "config": config.__dict__})

    # -- nodes/<node>.json: {"pods": {key: host}}

    def pods(self, node: str) -> dict[str, int]:
        return {str(k): int(v) for k, v in read_json(self.node_file(node), {}).get("pods", {}).items()}

    def write_pods(self, node: str, pods: dict[str, int]) -> None:
        write_json(self.node_file(node), {"pods": pods})

    # -- faults.json: {"cut_nodes": [node], "cut_pods": [[node, key]], "isolated_pods": [[node, key]]}

    def faults(self) -> dict[str, list[Any]]:
        data = read_json(self.faults_file, {})
        return {k: list(data.get(k, [])) for k in ("cut_nodes", "cut_pods", "isolated_pods")}

    def write_faults(self, faults: dict[str, list[Any]]) -> None:
        write_json(self.faults_file, faults)


# ------------------------------------------------------------------------------ machine-wide slots


def _claim_file(slot: int) -> Path:
    return SLOTS_DIR / f"slot-{slot}.json"


def slot_owner(slot: int) -> Path | None:
    """The workdir holding ``slot``, or None when the claim is absent or stale.

    A claim is stale when its workdir no longer records that slot (deleted temp dir, finished
    ``down``): the fabric that made it is gone, whatever it left behind may be removed by name.
    """
    owner = read_json(_claim_file(slot), {}).get("workdir")
    if not owner:
        return None
    if FabricState(Path(owner)).slot() != slot:
        return None
    return Path(owner)


def claim_slot(workdir: Path, wanted: int | None = None) -> tuple[int, bool]:
    """Claim a free slot for ``workdir`` (``wanted`` or the lowest free one).

    Returns the slot and whether it was stale (so the caller clears leftovers first). The claim
    and the workdir's own record are written under one machine-wide lock, so a concurrent claimer
    never sees a half-claimed slot as stale.
    """
    with locked(SLOTS_DIR / "slots.lock"):
        candidates = [wanted] if wanted is not None else list(range(SLOTS))
        for slot in candidates:
            owner = slot_owner(slot)
            if owner is not None and owner.resolve() != workdir.resolve():
                continue
            stale = owner is None and _claim_file(slot).exists()
            write_json(_claim_file(slot), {"workdir": str(workdir.resolve()), "pid": os.getpid()})
            FabricState(workdir).write_fabric(slot, {})
            return slot, stale
        held = {s: str(slot_owner(s)) for s in candidates}
        raise RuntimeError(f"no free pod-network slot: held by {held}")


def release_slot(workdir: Path, slot: int) -> None:
    with locked(SLOTS_DIR / "slots.lock"):
        owner = read_json(_claim_file(slot), {}).get("workdir")
        if owner == str(workdir.resolve()):
            _claim_file(slot).unlink(missing_ok=True)
