"""Test harness for req1-operator against the local control plane: kubectl as admin, the operator as a
subprocess authenticated with the chart's ServiceAccount token, and polling helpers.

Waits poll the real state with a generous deadline; they never assert on how long something took.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml

from req1_testenv.process import ManagedProcess, free_port

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "req1-operator"
HELM = ROOT / ".cache" / "bin" / "helm"
OPERATOR_NAMESPACE = "req1-system"
OPERATOR_SA = "req1-operator"
EXAMPLES = ROOT / "manifests" / "examples"
WAIT = 120.0

T = TypeVar("T")


class Kubectl:
    """kubectl with a fixed kubeconfig (the admin's unless told otherwise)."""

    def __init__(self, kubeconfig: Path) -> None:
        self.kubeconfig = kubeconfig

    def run(self, *args: str, input: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            ["kubectl", f"--kubeconfig={self.kubeconfig}", *args],
            input=input,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed: {proc.stderr.strip()}")
        return proc

    def apply(self, manifest: str | dict[str, Any], namespace: str | None = None) -> None:
        text = manifest if isinstance(manifest, str) else yaml.safe_dump(manifest)
        ns = [f"--namespace={namespace}"] if namespace else []
        self.run("apply", "--server-side", "--field-manager=test", "--force-conflicts", *ns, "-f", "-", input=text)

    def get(self, kind: str, name: str, namespace: str | None) -> dict[str, Any] | None:
        ns = [f"--namespace={namespace}"] if namespace else []
        proc = self.run("get", kind, name, *ns, "-o", "json", "--show-managed-fields", check=False)
        if proc.returncode != 0:
            if "NotFound" in proc.stderr:
                return None
            raise AssertionError(proc.stderr)
        out: dict[str, Any] = json.loads(proc.stdout)
        return out

    def list(self, kinds: str, namespace: str, selector: str | None = None) -> list[dict[str, Any]]:
        sel = [f"--selector={selector}"] if selector else []
        items: list[dict[str, Any]] = json.loads(
            self.run("get", kinds, "-n", namespace, *sel, "-o", "json", "--show-managed-fields").stdout
        )["items"]
        return items

    def patch(self, kind: str, name: str, namespace: str, patch: dict[str, Any], *extra: str) -> None:
        self.run("patch", kind, name, "-n", namespace, "--type=merge", "-p", json.dumps(patch), *extra)


def wait_for(what: str, probe: Callable[[], T | None], timeout: float = WAIT, interval: float = 0.25) -> T:
    """Poll `probe` until it returns something truthy; fail with `what` and the last value otherwise."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = probe()
        except AssertionError as e:
            last = e
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}; last seen: {last!r}")


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as r:  # noqa: S310 (loopback http only)
            return bool(r.status == 200)
    except OSError:
        return False


def chart_objects(
    *args: str, release: str = "req1-operator", namespace: str = OPERATOR_NAMESPACE
) -> list[dict[str, Any]]:
    """`helm template` of the chart (with CRDs), as objects."""
    out = subprocess.run(
        [
            str(HELM),
            "template",
            release,
            str(CHART),
            "--namespace",
            namespace,
            "--include-crds",
            *args,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [d for d in yaml.safe_load_all(out) if d]


def install_rbac_and_crd(kubectl: Kubectl) -> None:
    """The CRD, the ServiceAccount and the ClusterRole(+Binding) exactly as the chart renders them."""
    kubectl.run("create", "namespace", OPERATOR_NAMESPACE, check=False)
    wanted = {"CustomResourceDefinition", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"}
    docs = [d for d in chart_objects() if d["kind"] in wanted]
    kubectl.apply("\n---\n".join(yaml.safe_dump(d) for d in docs))
    kubectl.run("wait", "--for=condition=Established", "crd/req1instances.req1.io", "--timeout=60s")


class Operator:
    """`req1-operator run` as a subprocess with the ServiceAccount kubeconfig."""

    def __init__(
        self, kubeconfig: Path, workdir: Path, namespaces: list[str], resync: float = 5.0, extra: tuple[str, ...] = ()
    ) -> None:
        self.kubeconfig = kubeconfig
        self.extra = list(extra)
        self.workdir = workdir
        self.namespaces = namespaces
        self.resync = resync
        self.metrics_port = free_port()
        self.health_port = free_port()
        self.proc: ManagedProcess | None = None
        self.starts = 0

    def start(self) -> Operator:
        self.starts += 1
        argv = [
            str(ROOT / ".venv" / "bin" / "req1-operator"),
            "run",
            *[f"--namespace={ns}" for ns in self.namespaces],
            "--standalone",
            f"--liveness=http://127.0.0.1:{self.health_port}/healthz",
            "--metrics-host=127.0.0.1",
            f"--metrics-port={self.metrics_port}",
            f"--resync-interval={self.resync}",
            *self.extra,
        ]
        self.proc = ManagedProcess(
            f"operator-{self.starts}",
            argv,
            self.workdir,
            env={"KUBECONFIG": str(self.kubeconfig)},
            ready=lambda: http_ok(f"http://127.0.0.1:{self.health_port}/healthz"),
            timeout=60,
        ).start()
        return self

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()
            self.proc = None

    def kill(self) -> None:
        """Stop abruptly (SIGKILL), as a crash or a node loss would."""
        import signal

        from req1_testenv.process import stop_pid

        if self.proc is not None and self.proc.pid is not None:
            stop_pid(self.proc.pid, timeout=5, sig=signal.SIGKILL)
            self.proc = None

    def log(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.workdir.glob("operator-*.log")))

    def metrics(self) -> dict[str, float]:
        """Every sample of /metrics as `name{labels}` -> value."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5) as r:
            text = r.read().decode()
        out: dict[str, float] = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                key, _, value = line.rpartition(" ")
                out[key] = float(value)
        return out

    def sum_metric(self, name: str, **labels: str) -> float:
        total = 0.0
        for key, value in self.metrics().items():
            m = re.fullmatch(rf"{re.escape(name)}(\{{(.*)\}})?", key)
            if not m:
                continue
            got = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2) or ""))
            if all(got.get(k) == v for k, v in labels.items()):
                total += value
        return total

    def writes(self) -> float:
        """Every write the process sent to the API server (kopf's and the operator's own)."""
        return sum(
            self.sum_metric("req1_operator_kube_requests_total", verb=v) for v in ("POST", "PUT", "PATCH", "DELETE")
        )

    def requests(self) -> float:
        return self.sum_metric("req1_operator_kube_requests_total")


def instance_status(kubectl: Kubectl, name: str, namespace: str) -> dict[str, Any]:
    obj = kubectl.get("req1", name, namespace) or {}
    status: dict[str, Any] = obj.get("status") or {}
    return status


def wait_phase(kubectl: Kubectl, name: str, namespace: str, phase: str, timeout: float = WAIT) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        obj = kubectl.get("req1", name, namespace) or {}
        st = obj.get("status") or {}
        gen = (obj.get("metadata") or {}).get("generation")
        return st if st.get("phase") == phase and st.get("observedGeneration") == gen else None

    return wait_for(f"{namespace}/{name} phase {phase}", probe, timeout)


def condition(status: dict[str, Any], type_: str) -> dict[str, Any]:
    for c in status.get("conditions") or []:
        if c.get("type") == type_:
            return dict(c)
    raise AssertionError(f"no condition {type_} in {status.get('conditions')}")


def events_for(kubectl: Kubectl, name: str, namespace: str) -> list[dict[str, Any]]:
    items = kubectl.list("events", namespace)
    return [
        e
        for e in items
        if (e.get("involvedObject") or {}).get("name") == name and e["involvedObject"].get("kind") == "Req1Instance"
    ]


def load_example(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((EXAMPLES / name).read_text())
    return doc
