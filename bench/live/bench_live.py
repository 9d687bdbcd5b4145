"""The stack on process nodes: apply -> Ready with real processes, and what one running instance costs.

Run: .venv/bin/python bench/live/bench_live.py [--instances 2] [--dir .run/bench-live]
Brings the production shape up the way `make cluster-live` does (process nodes only, the operator from
its chart as a real pod), then applies the minimal example into ``--instances`` namespaces one after
the other and measures, per instance: seconds from `kubectl apply` to phase Ready, the number of
processes its pods run and their summed resident memory (each container's process tree, from /proc).
Prints a Markdown table for docs/benchmarks.md. Needs root (network namespaces and mounts).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from req1_testenv.kube import KubeCluster
from req1_testenv.kubelet import faults
from req1_testenv.live import EXAMPLE, INSTANCE, Live


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def process_tree(pid: int) -> list[int]:
    tree, todo = [], [pid]
    while todo:
        p = todo.pop()
        tree.append(p)
        todo += children(p)
    return tree


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def namespace_cost(cluster: KubeCluster, namespace: str) -> tuple[int, float, dict[str, float]]:
    """Processes and MiB of RSS of every running container of the namespace's pods, and MiB per pod."""
    per_pod: dict[str, float] = {}
    count, total = 0, 0
    for pod_dir in (cluster.workdir / "nodes").glob(f"*/pods/{namespace}_*"):
        pod = pod_dir.name.split("_")[1]
        for c in faults.containers(cluster.workdir, namespace, pod):
            if c.pid is None or not Path(f"/proc/{c.pid}").exists():
                continue
            tree = process_tree(c.pid)
            kib = sum(rss_kib(p) for p in tree)
            count += len(tree)
            total += kib
            per_pod[pod] = per_pod.get(pod, 0.0) + kib / 1024
    return count, total / 1024, per_pod


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instances", type=int, default=2)
    parser.add_argument("--dir", type=Path, default=Path(".run/bench-live"))
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args()
    directory = args.dir.resolve()
    began = time.monotonic()
    cluster = KubeCluster(directory, nodes=0, process_nodes=3)
    cluster.start()
    try:
        started = time.monotonic() - began
        live = Live(cluster)
        t = time.monotonic()
        live.install_operator()
        operator_ready = time.monotonic() - t
        times, costs = [], []
        for i in range(args.instances):
            ns = f"bench-{i}"
            live.kubectl("create", "namespace", ns)
            t = time.monotonic()
            live.kubectl("apply", "-n", ns, "-f", str(EXAMPLE))
            while (((live.get("req1", INSTANCE, ns) or {}).get("status") or {}).get("phase")) != "Ready":
                if time.monotonic() - t > args.timeout:
                    raise SystemExit(f"{ns}/{INSTANCE} not Ready after {args.timeout:.0f}s")
                time.sleep(1)
            times.append(time.monotonic() - t)
            time.sleep(20)  # let the one-shot Jobs finish and the servers settle before measuring memory
            costs.append(namespace_cost(cluster, ns))
        load = os.getloadavg()[0]
        print(f"control plane with 3 process nodes up in {started:.1f} s; operator chart installed and its pod "
              f"Ready in {operator_ready:.1f} s; load average {load:.2f}\n")
        print("| instance | apply → Ready | processes | RSS (MiB) |\n|---|---|---|---|")
        for i, (secs, (procs, mib, _)) in enumerate(zip(times, costs, strict=True)):
            print(f"| bench-{i} | {secs:.1f} s | {procs} | {mib:.0f} |")
        print(f"\nmedian apply → Ready {statistics.median(times):.1f} s")
        print("\nper pod (MiB), first instance:")
        for pod, mib in sorted(costs[0][2].items()):
            print(f"  {pod:40} {mib:7.1f}")
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
