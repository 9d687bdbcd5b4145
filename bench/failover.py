"""PostgreSQL failover under load: kill the primary's processes without grace, N times, and measure.

Run: make bench-failover   (or .venv/bin/python bench/failover.py [--kills 20] [--mode required])
Starts the local control plane with 3 process nodes (every pod runs for real), the operator as a host process
with the chart's ServiceAccount, and one Req1Instance (1 API pod, PostgreSQL primary + 3 replicas). One client
writes workspaces back to back through the API Service and keeps a ledger of every acknowledged write. Each round
waits for two streaming replicas, SIGKILLs every process of the primary's pod (the test bed's fault), and takes:

- time to resume: from the kill until writes are acknowledged again (client side, the figure users see);
- how: restarted in place (same primary) or failed over (status.primary changed), and the operator's own
  status.lastFailover.rtoSeconds (problem seen -> new primary ready) when it failed over;
- catch-up: from the resume until the killed pod streams again as a replica (after the kubelet's back-off).

At the end every acknowledged write is looked up on the primary: lost commits are counted. Writes
docs/benchmarks/failover.md. Needs root (network namespaces and mounts).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from typing import Any

from ha_common import bed_arguments, operated_instance, pct, status, streaming, wait
from live_harness import WriteLoad
from test_live_failover import stored

from req1_testenv.kubelet import faults


def report(rounds: list[dict[str, Any]], lost: int | None, acked: int, mode: str, started: float,
           replicas: int) -> str:
    rto = [r["resume"] for r in rounds]
    lines = [
        "# PostgreSQL failover: kill the primary under a write load",
        "",
        f"`make bench-failover` (bench/failover.py), {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(started))}, "
        f"{os.cpu_count()} CPUs, {platform.system()} {platform.release()}, load average at the end "
        f"{os.getloadavg()[0]:.2f}. The local control plane with 3 process nodes (every pod runs as real "
        "processes, with its own network), the operator as a host process. One Req1Instance: 1 API pod, PostgreSQL "
        f"primary + {replicas} replicas, `synchronousMode: {mode}`, Lease 10 s, the API's rate limit off "
        "(`RATE_LIMIT_ENABLED=false`: the client's 429s until the next minute are no failover). One client writes "
        "workspaces back to back through the API Service and keeps a ledger of every acknowledged (201) write. "
        "Each round waits until "
        f"at least {replicas - 1} replicas stream (the pod killed in the round before may be held off by the kubelet's "
        "restart back-off: 10 s, doubling up to 300 s, for a container that dies again within 10 minutes), then "
        "SIGKILLs every process of the primary's pod (no grace; `faults.kill`).",
        "",
        "## Summary",
        "",
        "| fault | rounds | median resume (s) | p90 (s) | max (s) | in place / failed over | lost commits |",
        "|---|---|---|---|---|---|---|",
        f"| primary pod's processes killed | {len(rounds)} | {statistics.median(rto):.2f} | {pct(rto, 0.9):.2f} | "
        f"{max(rto):.2f} | {sum(1 for r in rounds if not r['moved'])} / {sum(1 for r in rounds if r['moved'])} | "
        + (f"{lost} of {acked} acknowledged |" if lost is not None else "(run in progress) |"),
        "",
        "*Resume*: from the kill until writes are acknowledged again, as the client sees it (the first acknowledged "
        "write that no failure follows within 3 s). *In place*: the kubelet restarted the container and the same pod "
        "was primary again; *failed over*: the operator named a replica (its `status.lastFailover.rtoSeconds` runs "
        "from when it saw the problem to when the new primary reported ready). *Catch-up*: from the resume until the "
        "killed pod streams again as a replica (restart after the kubelet's back-off, rewind, follow).",
        "",
    ]
    catch = [r["catchup"] for r in rounds if r["catchup"] is not None]
    if catch:
        lines += [f"Replica catch-up after rejoin: median {statistics.median(catch):.2f} s, max {max(catch):.2f} s.",
                  ""]
    moved = [r["operator_rto"] for r in rounds if r["moved"] and r["operator_rto"] is not None]
    if moved:
        lines += [f"Operator-measured RTO of the failovers (status.lastFailover.rtoSeconds): median "
                  f"{statistics.median(moved):.2f} s, max {max(moved):.2f} s.", ""]
    lines += ["## Rounds", "",
              "| # | killed | streaming replicas | primary after | resume (s) | failed writes "
              "| lastFailover.rtoSeconds | catch-up (s) |",
              "|---|---|---|---|---|---|---|---|"]
    for i, r in enumerate(rounds, 1):
        op = f"{r['operator_rto']:.2f}" if r["moved"] and r["operator_rto"] is not None else "-"
        cu = f"{r['catchup']:.2f}" if r["catchup"] is not None else "-"
        lines.append(f"| {i} | {r['victim']} | {r['streaming']} | {r['after']} | {r['resume']:.2f} | {r['failed']} | "
                     f"{op} | {cu} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=20)
    bed_arguments(parser, "failover", replicas=3)
    args = parser.parse_args()
    started = time.time()
    with operated_instance(args.dir.resolve(), args.replicas, args.mode) as (cluster, admin, ns, app):
        rounds: list[dict[str, Any]] = []
        pending: dict[int, tuple[str, float]] = {}  # round index -> (killed pod, writes resumed at)

        def poll_rejoins() -> dict[str, Any]:
            """Status, and the catch-up of every killed pod seen streaming (or primary) again since."""
            st = status(admin, ns)
            back = {m["name"] for m in (st.get("postgres") or {}).get("members") or []
                    if (m.get("role") == "replica" and m.get("streaming")) or m["name"] == st.get("primary")}
            for idx, (pod, resumed_at) in list(pending.items()):
                if pod in back:
                    rounds[idx]["catchup"] = max(0.0, time.time() - resumed_at)
                    del pending[idx]
            return st

        need = args.replicas - 1  # streaming replicas before each kill: the killed pod of the last round may be
        # held off by the kubelet's back-off (10 s doubling to 300 s per pod killed again within 10 minutes)
        with WriteLoad(app, "bench") as load:
            for i in range(args.kills):
                st = wait("a primary and enough streaming replicas",
                          lambda: (s := poll_rejoins()).get("primary") and streaming(s) >= need and s, 900)
                victim = st["primary"]
                load.wait_writes(5, after=time.time())
                t0 = time.time()
                if not faults.kill(cluster.workdir, ns, victim):
                    raise SystemExit(f"no process of {victim} to kill")
                resume = wait("writes resumed", lambda t0=t0: load.resumed_after(t0), 300)
                after = wait("a primary", lambda: status(admin, ns).get("primary"), 120)
                last = status(admin, ns).get("lastFailover") or {}
                moved = after != victim
                rounds.append({
                    "victim": victim, "after": after, "resume": resume, "moved": moved,
                    "failed": load.failures_after(t0), "streaming": streaming(st),
                    "operator_rto": last.get("rtoSeconds") if moved else None, "catchup": None,
                })  # fmt: skip
                pending[len(rounds) - 1] = (victim, t0 + resume)
                print(f"round {i + 1}: killed {victim}, primary {after}, writes resumed after {resume:.2f} s",
                      flush=True)
                args.out.write_text(report(rounds, None, 0, args.mode, started, args.replicas))
            deadline = time.time() + 300
            while pending and time.time() < deadline:
                poll_rejoins()
                time.sleep(1)
        acked = load.acknowledged()
        have = stored(admin, cluster, ns, load.prefix)
        lost = len(set(acked) - have)
        text = report(rounds, lost, len(acked), args.mode, started, args.replicas)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
        print(text)


if __name__ == "__main__":
    main()
