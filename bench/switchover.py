"""PostgreSQL switchover under load: ask for a new primary through the Req1Instance, N times, and measure the
write pause a client sees.

Run: make bench-switchover   (or .venv/bin/python bench/switchover.py [--rounds 10] [--mode required])
The same bed as bench/failover.py (ha_common.py). Each round waits until every replica streams, sets
`spec.postgres.primary` to a streaming replica, and takes, from the client's ledger of acknowledged writes:

- pause: the longest time with no write acknowledged, from the request until writes are steady again (a write
  that hung and then succeeded counts as paused). This is the figure of the goal "a switchover pauses writes
  for at most 2 s";
- switched: from the request until `status.primary` names the new pod;
- failed writes: answers other than 201 (the API answers 503 with Retry-After while no primary takes writes).

At the end `spec.postgres.primary` is unset and every acknowledged write is looked up on the primary. Writes
docs/benchmarks/switchover.md. Needs root (network namespaces and mounts).
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
from test_live_failover import NAME, stored

GOAL_SECONDS = 2.0


def report(rounds: list[dict[str, Any]], lost: int | None, acked: int, mode: str, started: float,
           replicas: int) -> str:
    pauses = [r["pause"] for r in rounds]
    met = sum(1 for p in pauses if p <= GOAL_SECONDS)
    lines = [
        "# PostgreSQL switchover: a new primary on request, under a write load",
        "",
        f"`make bench-switchover` (bench/switchover.py), {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(started))}, "
        f"{os.cpu_count()} CPUs, {platform.system()} {platform.release()}, load average at the end "
        f"{os.getloadavg()[0]:.2f}. The local control plane with 3 process nodes, the operator as a host process, "
        f"one Req1Instance: 1 API pod, PostgreSQL primary + {replicas} replicas, `synchronousMode: {mode}`, the API's "
        "rate limit off. One client writes workspaces back to back through the API Service and keeps a ledger of "
        "every acknowledged (201) write. Each round waits until every replica streams, then sets "
        "`spec.postgres.primary` to one of them.",
        "",
        "## Summary",
        "",
        "| rounds | median pause (s) | p90 (s) | max (s) | rounds within 2 s | median request → new primary (s) "
        "| lost commits |",
        "|---|---|---|---|---|---|---|",
        f"| {len(rounds)} | {statistics.median(pauses):.2f} | {pct(pauses, 0.9):.2f} | {max(pauses):.2f} | "
        f"{met} of {len(rounds)} | {statistics.median(r['switched'] for r in rounds):.2f} | "
        + (f"{lost} of {acked} acknowledged |" if lost is not None else "(run in progress) |"),
        "",
        "*Pause*: the longest time with no write acknowledged, between the request and the moment writes were "
        "steady again (no failure within 3 s). The client sends its next write as soon as one answers, so outside a "
        "pause the gaps are one request's latency.",
        "",
        "## Rounds",
        "",
        "| # | from | to | pause (s) | pause began after the request (s) | request → new primary (s) "
        "| failed writes | lastFailover.rtoSeconds |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for i, r in enumerate(rounds, 1):
        lines.append(f"| {i} | {r['from']} | {r['to']} | {r['pause']:.2f} | {r['began']:.2f} | {r['switched']:.2f} | "
                     f"{r['failed']} | {r['rto']} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=10)
    bed_arguments(parser, "switchover", replicas=2)
    args = parser.parse_args()
    started = time.time()
    with operated_instance(args.dir.resolve(), args.replicas, args.mode, ns="switchover") as (cluster, admin, ns, app):
        rounds: list[dict[str, Any]] = []
        with WriteLoad(app, "bench") as load:
            for i in range(args.rounds):
                st = wait("every replica streaming",
                          lambda: (s := status(admin, ns)).get("primary") and streaming(s) >= args.replicas and s,
                          900)  # fmt: skip
                old = st["primary"]
                members = st["postgres"]["members"]
                new = next(m["name"] for m in members if m["role"] == "replica" and m["streaming"])
                load.wait_writes(5, after=time.time())
                t0 = time.time()
                admin.patch("req1", NAME, ns, {"spec": {"postgres": {"primary": new}}})
                switched = wait(f"{new} primary", lambda new=new: status(admin, ns).get("primary") == new
                                and time.time(), 120) - t0  # fmt: skip
                wait("writes resumed", lambda t0=t0: load.resumed_after(t0), 120)
                load.wait_writes(10, after=time.time())
                pause, began = load.longest_pause(t0, time.time())
                last = status(admin, ns).get("lastFailover") or {}
                rounds.append({"from": old, "to": new, "pause": pause, "began": began - t0, "switched": switched,
                               "failed": load.failures_after(t0), "rto": last.get("rtoSeconds")})  # fmt: skip
                print(f"round {i + 1}: {old} -> {new}: writes paused {pause:.2f} s", flush=True)
                args.out.write_text(report(rounds, None, 0, args.mode, started, args.replicas))
            admin.patch("req1", NAME, ns, {"spec": {"postgres": {"primary": None}}})
        acked = load.acknowledged()
        lost = len(set(acked) - stored(admin, cluster, ns, load.prefix))
        text = report(rounds, lost, len(acked), args.mode, started, args.replicas)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
        print(text)


if __name__ == "__main__":
    main()
