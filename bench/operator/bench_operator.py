"""Operator figures under KWOK: apply -> all children created, apply -> Ready, API requests per reconcile
pass and per idle minute, and the operator's CPU and memory with many instances.

Run: .venv/bin/python bench/operator/bench_operator.py [--instances 100] [--idle 60]
Uses REQ1_KUBE_DIR if a cluster is already up (`python -m req1_testenv.kube up --nodes 12`), else starts one
with 12 fake nodes: 100 instances run about 900 pods and a KWOK node takes 110.
The operator runs as a subprocess with the chart's ServiceAccount token, exactly as in the tests.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "operator"))

from operator_harness import (  # noqa: E402
    OPERATOR_NAMESPACE,
    OPERATOR_SA,
    Kubectl,
    Operator,
    install_rbac_and_crd,
)

from req1_operator.render import RenderInput, render_all  # noqa: E402
from req1_operator.spec import parse_spec  # noqa: E402
from req1_testenv.kube import KubeCluster  # noqa: E402
from req1_testenv.scratch import remove_tree, scratch_dir  # noqa: E402

CHILD_KINDS = "secrets,configmaps,services,statefulsets,deployments,jobs,pdb,networkpolicies"


def instance(name: str) -> dict[str, Any]:
    return {"apiVersion": "req1.io/v1alpha1", "kind": "Req1Instance", "metadata": {"name": name}, "spec": {}}


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def phases(admin: Kubectl, namespace: str | None = None) -> dict[str, str]:
    scope = ["-n", namespace] if namespace else ["-A"]
    items = json.loads(admin.run("get", "req1", *scope, "-o", "json").stdout)["items"]
    return {
        f"{i['metadata']['namespace']}/{i['metadata']['name']}": (i.get("status") or {}).get("phase", "") for i in items
    }


def single(admin: Kubectl, op: Operator, ns: str, runs: int) -> dict[str, Any]:
    """Apply one minimal instance `runs` times (fresh name each), timing children and Ready."""
    want_n = len(render_all(RenderInput("x", ns, "u", parse_spec({}))))
    created, ready, reqs_create = [], [], []
    for i in range(runs):
        name = f"one{i}"
        before = op.requests()
        began = time.perf_counter()
        admin.apply(instance(name), ns)
        sel = f"app.kubernetes.io/instance={name}"
        while len(admin.list(CHILD_KINDS, ns, sel)) < want_n:
            time.sleep(0.02)
        created.append(time.perf_counter() - began)
        while phases(admin, ns).get(f"{ns}/{name}") != "Ready":
            time.sleep(0.05)
        ready.append(time.perf_counter() - began)
        time.sleep(2)
        reqs_create.append(op.requests() - before)
    return {
        "children": want_n,
        "apply_to_children_s": statistics.median(created),
        "apply_to_ready_s": statistics.median(ready),
        "requests_create_to_ready": statistics.median(reqs_create),
    }


def steady(op: Operator, seconds: float) -> dict[str, float]:
    """Requests and timer passes while nothing changes."""
    r0, w0 = op.requests(), op.writes()
    p0 = op.sum_metric("req1_operator_reconcile_total")
    time.sleep(seconds)
    passes = op.sum_metric("req1_operator_reconcile_total") - p0
    return {"seconds": seconds, "passes": passes, "requests": op.requests() - r0, "writes": op.writes() - w0}


def run_many(admin: Kubectl, kubeconfig: Path, ns: str, args: argparse.Namespace, operator: Any) -> None:
    """Many instances: CPU and memory of the operator process while creating and when idle."""
    many_ns = [f"{ns}-m{i}" for i in range(10)]
    for m in many_ns:
        admin.run("create", "namespace", m)
    time.sleep(1)
    op = operator(kubeconfig, "op3", [], 60)
    assert op.proc is not None and op.proc.pid is not None
    pid = op.proc.pid
    cpu0, t0 = cpu_seconds(pid), time.perf_counter()
    docs = [(many_ns[i % len(many_ns)], instance(f"m{i}")) for i in range(args.instances)]
    for m in many_ns:
        admin.apply("\n---\n".join(yaml.safe_dump(d) for n, d in docs if n == m), m)
    peak = 0.0
    while True:
        ph = phases(admin)
        n_ready = sum(1 for k, v in ph.items() if v == "Ready" and k.split("/")[0] in many_ns)
        peak = max(peak, rss_mib(pid))
        if n_ready >= args.instances:
            break
        if time.perf_counter() - t0 > 1800:
            raise SystemExit(f"only {n_ready}/{args.instances} Ready after 30 min")
        time.sleep(1)
    all_ready_s = time.perf_counter() - t0
    cpu_create = cpu_seconds(pid) - cpu0
    time.sleep(10)
    cpu1 = cpu_seconds(pid)
    idle_many = steady(op, args.idle)
    cpu_idle = (cpu_seconds(pid) - cpu1) / args.idle
    many = {
        "instances": args.instances,
        "all_ready_s": all_ready_s,
        "cpu_seconds_to_all_ready": cpu_create,
        "rss_peak_mib": peak,
        "rss_idle_mib": rss_mib(pid),
        "cpu_idle_cores": cpu_idle,
        "idle": idle_many,
    }
    op.stop()
    print(json.dumps({"many": many}, indent=2), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--instances", type=int, default=100)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--idle", type=float, default=60.0)
    ap.add_argument("--only-many", action="store_true", help="skip the single-instance and idle figures")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the cleanup below on SIGTERM too

    reuse = os.environ.get("REQ1_KUBE_DIR")
    root = scratch_dir("bench-operator")
    cluster = KubeCluster.attach(Path(reuse)) if reuse else KubeCluster(root / "kube", nodes=12).start()
    ops: list[Operator] = []

    def operator(kubeconfig: Path, name: str, namespaces: list[str], resync: float) -> Operator:
        ops.append(Operator(kubeconfig, root / name, namespaces, resync=resync).start())
        return ops[-1]

    try:
        admin = Kubectl(Path(cluster.kubeconfig))
        install_rbac_and_crd(admin)
        kubeconfig = Path(cluster.service_account_kubeconfig(OPERATOR_NAMESPACE, OPERATOR_SA, create=False))
        ns = f"bench-{int(time.time())}"
        admin.run("create", "namespace", ns)
        time.sleep(1)

        if args.only_many:
            run_many(admin, kubeconfig, ns, args, operator)
            return
        # 1. One instance at a time, with timer passes every 10 s to count requests per no-op pass.
        op = operator(kubeconfig, "op1", [ns], 10)
        one = single(admin, op, ns, args.runs)
        per_pass = steady(op, 30)
        op.stop()
        print(json.dumps({"single": one, "noop_passes_30s": per_pass}, indent=2), flush=True)

        # 2. Idle minute with the default resync (60 s), all namespaces.
        op = operator(kubeconfig, "op2", [], 60)
        time.sleep(5)
        idle = steady(op, args.idle)
        op.stop()
        print(json.dumps({"idle": idle}, indent=2), flush=True)

        run_many(admin, kubeconfig, ns, args, operator)
    finally:
        for o in ops:
            o.stop()
        if not reuse:
            cluster.stop()
        remove_tree(root)


if __name__ == "__main__":
    main()
