"""What the PostgreSQL HA benchmarks share: the local control plane with process nodes, the operator as a host
process with the chart's ServiceAccount, one Req1Instance under a logged-in API client, and small status probes."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "operator"))

from live_harness import AppClient, secret_value, service_ip  # noqa: E402
from operator_harness import OPERATOR_NAMESPACE, OPERATOR_SA, Kubectl, Operator, install_rbac_and_crd  # noqa: E402
from test_live_failover import NAME  # noqa: E402

from req1_testenv.kube import NODE_SELECTOR_ANNOTATION, PROCESS_NODE_SELECTOR, KubeCluster  # noqa: E402

#: The API's own rate limit (600 requests a minute per user, fixed windows) is off: the one client writes back to
#: back, and its 429s until the next minute were once measured as the failover (the 34-49 s rounds).
API = {"replicas": 1, "extraEnv": [{"name": "RATE_LIMIT_ENABLED", "value": "false"}]}


def bed_arguments(parser: argparse.ArgumentParser, name: str, replicas: int) -> None:
    """The options both HA benchmarks take: synchronous mode, replicas, work directory, report file."""
    parser.add_argument("--mode", choices=["off", "preferred", "required"], default="required")
    parser.add_argument("--replicas", type=int, default=replicas, help="PostgreSQL replicas (members = replicas + 1)")
    parser.add_argument("--dir", type=Path, default=ROOT / ".run" / f"bench-{name}")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks" / f"{name}.md")


def wait(what: str, probe: Any, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = probe()
        if got:
            return got
        time.sleep(0.2)
    raise SystemExit(f"timed out after {timeout:.0f} s waiting for {what}")


def status(admin: Kubectl, ns: str) -> dict[str, Any]:
    return dict((admin.get("req1", NAME, ns) or {}).get("status") or {})


def streaming(st: dict[str, Any]) -> int:
    return sum(1 for m in (st.get("postgres") or {}).get("members") or []
               if m.get("role") == "replica" and m.get("streaming"))  # fmt: skip


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@contextmanager
def operated_instance(workdir: Path, replicas: int, mode: str,
                      ns: str = "failover") -> Iterator[tuple[KubeCluster, Kubectl, str, AppClient]]:
    """A Ready instance (1 API pod, a primary and ``replicas`` replicas) and an admin client of its API."""
    cluster = KubeCluster(workdir, nodes=0, process_nodes=3)
    cluster.start()
    op: Operator | None = None
    try:
        admin = Kubectl(Path(cluster.kubeconfig))
        install_rbac_and_crd(admin)
        kubeconfig = Path(cluster.service_account_kubeconfig(OPERATOR_NAMESPACE, OPERATOR_SA, create=False))
        admin.apply({"apiVersion": "v1", "kind": "Namespace",
                     "metadata": {"name": ns, "annotations": {NODE_SELECTOR_ANNOTATION: PROCESS_NODE_SELECTOR}}})
        wait("default ServiceAccount", lambda: admin.get("serviceaccount", "default", ns), 60)
        op = Operator(kubeconfig, workdir / "operator", [ns]).start()
        admin.apply({"apiVersion": "req1.io/v1alpha1", "kind": "Req1Instance", "metadata": {"name": NAME},
                     "spec": {"api": API, "postgres": {"replicas": replicas, "synchronousMode": mode}}},
                    ns)  # fmt: skip
        wait("phase Ready", lambda: status(admin, ns).get("phase") == "Ready", 600)
        password = secret_value(admin, ns, f"{NAME}-api", "admin-password")
        app = AppClient(f"http://{service_ip(admin, cluster, ns, f'{NAME}-api')}")
        app.login("admin@localhost", password)
        yield cluster, admin, ns, app
    finally:
        if op is not None:
            op.stop()
        cluster.stop()
