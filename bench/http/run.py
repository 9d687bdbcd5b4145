"""HTTP throughput of one API pod, measured with a real load generator (``hey``), as in issue #16.

Starts its own PostgreSQL 15, Redis 7 and SeaweedFS (testenv classes) and one real ``req1-server serve``
(JSON access log at ``info``, rate limit **off**, ``WEB_WORKERS`` as the server decides unless
``--workers`` pins it), seeds through the API a module of 2,000 objects (CSV import: 20 chapters of 99
requirements, one in ten mentioning "torque"), two baselines 200 edits apart and a 64 KiB attachment,
then drives each route with ``hey`` at 1, 16 and 64 connections: a 1 s warm-up (not recorded), then
``--seconds`` measured. ``--rounds`` rounds run one after the other; the best requests/s of each cell is
kept with the latencies of that run. The load average is read before and after every round.

``--against DIR`` starts a second server from another checkout's ``req1_server`` (e.g. ``git archive <commit>
server``), on its own database and Redis database, seeded the same way, and measures the two in turn cell by
cell, so a before/after comparison sees the same machine load.

Results go to ``docs/benchmarks/http.md`` between the markers of each run's label, and to ``--json`` if given.
``hey`` comes from ``make hey`` (``.cache/bin/hey``).

Usage: ``.venv/bin/python bench/http/run.py [--label after] [--seconds 5] [--rounds 2] [--workers N]
[--against DIR --against-label before]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from req1_testenv.postgres import PostgresServer
from req1_testenv.process import ManagedProcess, free_port
from req1_testenv.redis import RedisServer
from req1_testenv.scratch import remove_tree, scratch_dir
from req1_testenv.seaweedfs import SeaweedS3

ROOT = Path(__file__).resolve().parents[2]
HEY = ROOT / ".cache" / "bin" / "hey"
PAGE = ROOT / "docs" / "benchmarks" / "http.md"
ADMIN_PASSWORD = "bench-admin-password"
MEMBER_PASSWORD = "bench-member-password"
CHAPTERS, PER_CHAPTER = 20, 99  # 20 + 20 * 99 = 2,000 objects
EDITS = 200
# requests/s of the original req1 server (Rust/Axum, release build), hey -c 16, issue #16
ORIGINAL = {
    "GET /health/live": 33_600,
    "GET /api/v1/auth/me": 20_100,
    "GET …/objects?limit=50": 654,
    "GET …/objects?limit=1000": 155,
    "GET …/objects?search=torque&limit=50": 410,
    "GET …/objects/{id}": 5_750,
    "PATCH …/objects/{id}": 731,
}
WORDS = ["brake", "pedal", "sensor", "controller", "latency", "redundancy", "voltage", "wheel", "fault",
         "diagnostic", "signal", "timeout", "watchdog", "memory", "bus", "message", "frame", "checksum",
         "heartbeat", "power", "supply", "thermal", "limit", "speed"]
NONE = "-"


@dataclass
class Route:
    name: str
    path: str
    method: str = "GET"
    body: str | None = None


def api(base: str, method: str, path: str, token: str | None = None, body: Any = None,
        raw: bytes | None = None, content_type: str = "application/json") -> Any:
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    headers = {"Content-Type": content_type} if data is not None else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(base + path, data=data, method=method, headers=headers)  # noqa: S310
    with urllib.request.urlopen(request, timeout=120) as resp:  # noqa: S310 - our own local server
        payload = resp.read()
    return json.loads(payload) if payload else None


def csv_module() -> str:
    lines = ["level,heading,body"]
    n = 0
    for chapter in range(1, CHAPTERS + 1):
        lines.append(f"{chapter},Chapter {chapter},")
        for item in range(1, PER_CHAPTER + 1):
            n += 1
            words = " ".join(WORDS[(n * 7 + k * 3) % len(WORDS)] for k in range(12))
            if n % 10 == 0:
                words += " torque"
            lines.append(f'{chapter}.{item},Requirement {n},"<p>The system shall {words}.</p>"')
    return "\n".join(lines) + "\n"


def seed(base: str, token: str) -> dict[str, str]:
    ws = api(base, "POST", "/api/v1/workspaces", token, {"name": "bench"})["id"]
    project = api(base, "POST", f"/api/v1/workspaces/{ws}/projects", token, {"name": "bench"})["id"]
    module = api(base, "POST", "/api/v1/modules", token, {"name": "bench http", "project_id": project})["id"]
    created = api(base, "POST", f"/api/v1/modules/{module}/import/csv", token, raw=csv_module().encode(),
                  content_type="text/csv")
    assert created["objects_created"] == CHAPTERS * (PER_CHAPTER + 1), created
    objects = api(base, "GET", f"/api/v1/modules/{module}/objects?limit=1000", token)["items"]
    baseline_a = api(base, "POST", f"/api/v1/modules/{module}/baselines", token, {"name": "A"})["id"]
    for i, obj in enumerate(objects[:EDITS]):
        api(base, "PATCH", f"/api/v1/modules/{module}/objects/{obj['id']}", token,
            {"body": f"<p>Edited {i}: the system shall tolerate a brake sensor fault.</p>"})
    baseline_b = api(base, "POST", f"/api/v1/modules/{module}/baselines", token, {"name": "B"})["id"]
    target = objects[500]["id"]
    boundary = uuid.uuid4().hex
    content = os.urandom(64 * 1024)
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"spec.bin\"\r\n"
            f"Content-Type: application/octet-stream\r\n\r\n")
    multipart = head.encode() + content + f"\r\n--{boundary}--\r\n".encode()
    attachment = api(base, "POST", f"/api/v1/objects/{target}/attachments", token, raw=multipart,
                     content_type=f"multipart/form-data; boundary={boundary}")["id"]
    return {"workspace": ws, "module": module, "object": target, "patched": objects[600]["id"], "a": baseline_a,
            "b": baseline_b, "attachment": attachment}


def member_token(base: str, admin: str, workspace: str) -> str:
    """A new editor made a member (editor) of ``workspace``; its token. Under ACCESS_MODEL=global the membership
    is recorded and ignored, so both settings are measured with the same user."""
    email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
    user = api(base, "POST", "/api/v1/users", admin, {"email": email, "display_name": "Bench Editor",
                                                       "role": "editor", "password": MEMBER_PASSWORD})
    api(base, "PUT", f"/api/v1/workspaces/{workspace}/members/{user['id']}", admin, {"role": "editor"})
    return str(api(base, "POST", "/api/v1/auth/login", None, {"email": email, "password": MEMBER_PASSWORD})["token"])


def routes(ids: dict[str, str]) -> list[Route]:
    m, o = ids["module"], ids["object"]
    objects = f"/api/v1/modules/{m}/objects"
    return [
        Route("GET /health/live", "/health/live"),
        Route("GET /api/v1/auth/me", "/api/v1/auth/me"),
        Route("GET …/objects?limit=50", f"{objects}?limit=50"),
        Route("GET …/objects?limit=1000", f"{objects}?limit=1000"),
        Route("GET …/objects?search=torque&limit=50", f"{objects}?search=torque&limit=50"),
        Route("GET …/objects/{id}", f"{objects}/{o}"),
        Route("PATCH …/objects/{id}", f"{objects}/{ids['patched']}", "PATCH",
              '{"body":"<p>The system shall report a torque sensor fault within 10 ms.</p>"}'),
        Route("GET …/baseline-diff (200 modified)", f"/api/v1/modules/{m}/baseline-diff?a={ids['a']}&b={ids['b']}"),
        Route("GET …/reqif/export (2,000 objects)", f"/api/v1/modules/{m}/reqif/export"),
        Route("GET …/attachments/{id}/download (64 KiB)",
              f"/api/v1/objects/{o}/attachments/{ids['attachment']}/download"),
    ]


def hey(url: str, token: str, route: Route, concurrency: int, seconds: float) -> dict[str, float]:
    argv = [str(HEY), "-z", f"{seconds}s", "-c", str(concurrency), "-t", "60",
            "-H", f"Authorization: Bearer {token}", "-m", route.method]
    if route.body is not None:
        argv += ["-T", "application/json", "-d", route.body]
    out = subprocess.run([*argv, url + route.path], capture_output=True, text=True, check=True).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    lat = {p: re.search(rf"\s{p}%+ in ([\d.]+) secs", out) for p in ("50", "95", "99")}
    codes = {int(c): int(n) for c, n in re.findall(r"\[(\d+)\]\s+(\d+) responses", out)}
    errors = sum(n for c, n in codes.items() if c >= 400)
    if "Error distribution:" in out:  # transport errors (refused, reset, timeout)
        errors += sum(int(n) for n in re.findall(r"^\s+\[(\d+)\]\s", out.split("Error distribution:", 1)[1], re.M))
    return {
        "rps": float(rps.group(1)) if rps else 0.0,
        **{f"p{p}_ms": float(m.group(1)) * 1000 if m else float("nan") for p, m in lat.items()},
        "ok": float(codes.get(200, 0)),
        "errors": float(errors),
    }


def rss_mib(pid: int) -> tuple[float, int]:
    """Resident memory of ``pid`` and its descendants (MiB) and how many processes that is."""
    total, count, todo = 0, 0, [pid]
    while todo:
        p = todo.pop()
        try:
            status = Path(f"/proc/{p}/status").read_text()
            children = [c for t in Path(f"/proc/{p}/task").iterdir()
                        for c in (t / "children").read_text().split()]
        except OSError:
            continue
        total += int(re.search(r"VmRSS:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
        count += 1
        todo.extend(int(c) for c in children)
    return total / 1024, count


def live(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/live", timeout=1) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False


@dataclass
class Target:
    """One server under test: its own database, seed and results."""

    label: str
    src: str | None
    extra_env: tuple[str, ...] = ()  # NAME=value for this target only (e.g. ACCESS_MODEL=global)
    server: ManagedProcess | None = None
    base: str = ""
    token: str = ""
    table: list[Route] | None = None
    best: dict[str, dict[int, dict[str, float]]] | None = None
    memory: dict[str, float] | None = None


def start_target(target: Target, index: int, root: Path, common: dict[str, str], args: argparse.Namespace,
                 pg: PostgresServer) -> None:
    port = free_port()
    env = {**common, "DATABASE_URL": pg.create_database(f"req1_{index}"), "PORT": str(port),
           "REDIS_URL": common["REDIS_URL"].rsplit("/", 1)[0] + f"/{index}"}  # a Redis database each
    if args.workers:
        env["WEB_WORKERS"] = str(args.workers)
    if target.src:  # another checkout's server package, e.g. the code before a change
        env["PYTHONPATH"] = str(Path(target.src).resolve())
    env.update(dict(kv.split("=", 1) for kv in (*args.env, *target.extra_env)))
    target.server = ManagedProcess(f"req1-server-{index}", [str(Path(sys.executable).parent / "req1-server"), "serve"],
                                   root / f"server-{index}", env=env, ready=lambda: live(port), timeout=120)
    target.server.start()
    time.sleep(3)  # every worker up, not just the first to answer
    target.base = f"http://127.0.0.1:{port}"
    target.token = api(target.base, "POST", "/api/v1/auth/login", None,
                       {"email": "admin@localhost", "password": ADMIN_PASSWORD})["token"]
    ids = seed(target.base, target.token)
    if args.as_member:
        target.token = member_token(target.base, target.token, ids["workspace"])
    table = routes(ids)
    if args.only:
        table = [r for r in table if any(k in r.name for k in args.only.split(","))]
    target.table, target.best = table, {}


def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Every target measured cell by cell in turn (route, connections, target), so a comparison sees the
    same machine load."""
    if not HEY.exists():
        raise SystemExit(f"{HEY} is missing: run `make hey` (or `make bench-http`)")
    root = scratch_dir("bench-http")
    pg = PostgresServer(root / "postgres").start()
    redis = RedisServer(root / "redis").start()
    s3 = SeaweedS3(root / "seaweedfs").start()
    common = {
        "REDIS_URL": redis.url,
        **s3.env(),
        "JWT_SECRET": "bench-secret-" + "x" * 32,
        "ADMIN_PASSWORD": ADMIN_PASSWORD,
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "info",
        "RATE_LIMIT_ENABLED": "false",
    }
    targets = [Target(args.label, args.server_src)]
    if args.against:
        targets.insert(0, Target(args.against_label, args.against, tuple(args.against_env)))
    concurrencies = [int(c) for c in args.concurrency.split(",")]
    loads: list[list[float]] = []
    try:
        for index, target in enumerate(targets):
            start_target(target, index, root, common, args, pg)
        for round_no in range(args.rounds):
            load_before = os.getloadavg()
            for position, route in enumerate(targets[0].table or []):
                for c in concurrencies:
                    for target in targets:
                        assert target.table is not None and target.best is not None
                        mine = target.table[position]
                        hey(target.base, target.token, mine, c, 1)  # warm-up: connections, pool, caches
                        result = hey(target.base, target.token, mine, c, args.seconds)
                        print(f"round {round_no + 1} {target.label:<9} {route.name:<45} c={c:<3} "
                              f"{result['rps']:>9.1f} req/s p50 {result['p50_ms']:.1f} p95 {result['p95_ms']:.1f} "
                              f"p99 {result['p99_ms']:.1f} ms errors {result['errors']:.0f}", flush=True)
                        cell = target.best.setdefault(route.name, {})
                        if c not in cell or result["rps"] > cell[c]["rps"]:
                            cell[c] = result
            loads.append([*load_before, *os.getloadavg()])
        for target in targets:
            pid = target.server.pid if target.server is not None else None
            if pid is not None:
                mib, processes = rss_mib(pid)
                target.memory = {"rss_mib": round(mib, 1), "processes": processes}
    finally:
        for target in targets:
            if target.server is not None:
                target.server.stop(timeout=40)
        s3.stop()
        redis.stop()
        pg.stop()
        remove_tree(root)
    together = f" interleaved cell by cell with `{targets[0].label}`" if len(targets) > 1 else ""
    return [{"label": t.label, "seconds": args.seconds, "rounds": args.rounds, "workers": args.workers,
             "server_src": t.src, "env": args.env, "together": together if t is targets[-1] else "",
             "concurrency": concurrencies, "loads": loads, "memory": t.memory or {}, "results": t.best,
             "machine": f"{os.cpu_count()} cores, {platform.platform()}, Python {platform.python_version()}",
             "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())} for t in targets]


def ms(value: float) -> str:
    return "n/a" if value != value else f"{value:.1f}"  # hey prints no percentile it has too few samples for


def render(data: dict[str, Any], baseline: dict[str, Any] | None = None) -> str:
    cs = data["concurrency"]
    def triple(values: list[float]) -> str:
        return " / ".join(f"{v:.1f}" for v in values)

    loads = "; ".join(f"round {i + 1}: {triple(lo[:3])} → {triple(lo[3:])}" for i, lo in enumerate(data["loads"]))
    mem = data["memory"]
    lines = [
        f"Run `{data['label']}`{data.get('together', '')}, {data['when']}: {data['machine']}; hey, "
        f"{data['seconds']:g} s per cell after a 1 s "
        f"warm-up, best of {data['rounds']} rounds; `WEB_WORKERS` {data['workers'] or 'unset (the server decides)'}; "
        f"server memory after the run {mem.get('rss_mib', '?')} MiB RSS in {mem.get('processes', '?')} process(es). "
        f"Load average (1/5/15 min) before → after each round: {loads}.",
        "",
        "| Route | " + " | ".join(f"c={c} req/s | p50 / p95 / p99 ms" for c in cs) + " | original c=16 | ratio |"
        + (f" vs `{baseline['label']}` at c={' / '.join(map(str, cs))} |" if baseline else ""),
        "|---|" + "---:|---|" * len(cs) + "---:|---:|" + ("---|" if baseline else ""),
    ]
    for name, raw in data["results"].items():
        cells = {int(c): r for c, r in raw.items()}  # JSON made the keys strings
        row = [name]
        for c in cs:
            r = cells.get(c)
            if r is None:
                row += [NONE, NONE]
                continue
            err = f" ({r['errors']:.0f} errors)" if r["errors"] else ""
            row += [f"{r['rps']:,.0f}{err}", f"{ms(r['p50_ms'])} / {ms(r['p95_ms'])} / {ms(r['p99_ms'])}"]
        original = ORIGINAL.get(name)
        c16 = cells.get(16)
        row.append(f"{original:,}" if original else NONE)
        row.append(f"{c16['rps'] / original:.2f}" if original and c16 else NONE)
        if baseline:
            before = {int(c): r for c, r in baseline["results"].get(name, {}).items()}
            row.append(" / ".join(f"{cells[c]['rps'] / before[c]['rps']:.1f}x"
                                  if c in cells and c in before and before[c]["rps"] else NONE for c in cs))
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def write_page(label: str, text: str) -> None:
    start, end = f"<!-- bench-http:{label}:start -->", f"<!-- bench-http:{label}:end -->"
    page = PAGE.read_text() if PAGE.exists() else "# HTTP throughput per API pod (`make bench-http`)\n"
    block = f"{start}\n{text}\n{end}"
    if start in page and end in page:
        page = page[: page.index(start)] + block + page[page.index(end) + len(end):]
    else:
        page = page.rstrip("\n") + f"\n\n### Run `{label}`\n\n{block}\n"
    PAGE.write_text(page)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", default="latest")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--concurrency", default="1,16,64")
    parser.add_argument("--workers", type=int, default=0, help="WEB_WORKERS for the server (0: unset)")
    parser.add_argument("--server-src", help="run the req1_server package found in this directory instead")
    parser.add_argument("--against", help="also run the req1_server package in this directory (e.g. the code "
                                          "before a change), measured cell by cell in turn with this one")
    parser.add_argument("--against-label", default="before")
    parser.add_argument("--against-env", action="append", default=[],
                        help="NAME=value for the --against server only (repeatable); with --against server, the "
                        "same code under another setting, e.g. ACCESS_MODEL=global")
    parser.add_argument("--as-member", action="store_true",
                        help="drive the routes as an editor who is a member of the seeded workspace, not as the "
                        "global admin (what per-workspace access filters)")
    parser.add_argument("--env", action="append", default=[], help="NAME=value for the server (repeatable)")
    parser.add_argument("--only", default="", help="comma-separated substrings of route names to run")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument("--baseline", type=Path, help="the --json of an earlier run: add the ratio to it")
    parser.add_argument("--no-page", action="store_true", help="do not update docs/benchmarks/http.md")
    args = parser.parse_args()
    runs = run(args)
    baseline = json.loads(args.baseline.read_text()) if args.baseline else (runs[0] if len(runs) > 1 else None)
    for data in runs:
        text = render(data, baseline if data is not baseline else None)
        print(text)
        if not args.no_page:
            write_page(data["label"], text)
    if args.json:
        args.json.write_text(json.dumps(runs if len(runs) > 1 else runs[0], indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
