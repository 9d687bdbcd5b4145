"""`req1-operator run`: start the operator on some namespaces or the whole cluster."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import socket
import sys
import uuid
from typing import Any

from req1_operator.settings import OPTIONS, PEERING_NAME


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="req1-operator", description="Kubernetes operator for req1 (Req1Instance).")
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="watch Req1Instances and reconcile them")
    scope = run.add_mutually_exclusive_group()
    scope.add_argument("-n", "--namespace", action="append", default=[], help="serve this namespace (repeatable)")
    scope.add_argument("-A", "--all-namespaces", action="store_true", help="serve every namespace (the default)")
    peer = run.add_mutually_exclusive_group()
    peer.add_argument("--standalone", action="store_true", default=True, help="no peering (default)")
    peer.add_argument(
        "--peering", metavar="NAME", help=f"coordinate with other instances via kopf peering NAME (e.g. {PEERING_NAME})"
    )
    run.add_argument(
        "--leader-elect",
        action="store_true",
        help="run as one of several replicas: only the holder of a coordination.k8s.io Lease reconciles",
    )
    run.add_argument(
        "--leader-election-namespace",
        default=os.environ.get("POD_NAMESPACE") or "req1-system",
        help="namespace of the Lease (default: $POD_NAMESPACE, else req1-system)",
    )
    run.add_argument("--leader-election-id", default="req1-operator", help="name of the Lease (req1-operator)")
    run.add_argument(
        "--leader-election-identity",
        default=f"{os.environ.get('POD_NAME') or socket.gethostname()}_{uuid.uuid4().hex[:8]}",
        help="this replica's identity in the Lease (default: $POD_NAME or the host name, plus a random suffix)",
    )
    run.add_argument("--liveness", metavar="URL", help="serve kopf's liveness probe, e.g. http://0.0.0.0:8081/healthz")
    run.add_argument("--metrics-port", type=int, default=8080, help="port of /metrics; 0 turns it off (default 8080)")
    run.add_argument("--metrics-host", default="0.0.0.0", help="address of /metrics (default 0.0.0.0)")
    run.add_argument("--resync-interval", type=float, default=60.0, help="seconds between safety-net passes (60)")
    run.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.resync_interval <= 0:
        print("req1-operator: --resync-interval must be positive", file=sys.stderr)
        return 2
    OPTIONS.standalone = not args.peering
    OPTIONS.peering_name = args.peering or PEERING_NAME
    OPTIONS.metrics_port = args.metrics_port
    OPTIONS.metrics_host = args.metrics_host
    OPTIONS.timer_interval = args.resync_interval

    import kopf

    from req1_operator import handlers, metrics  # registers the handlers with OPTIONS already set

    metrics.count_http_requests()

    kopf.configure(verbose=args.verbose)  # kopf's own log format and levels
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    if not args.verbose:  # kopf logs every child event handled at INFO; our own passes log what they change
        logging.getLogger("kopf.objects").setLevel(logging.WARNING)
    asyncio.run(_run(args))
    del handlers
    return 0


async def _standby_server(liveness: str | None) -> Any:
    """While waiting for the Lease, answer the liveness probe (kopf serves it once it runs): a standby is alive."""
    if not liveness:
        return None
    from urllib.parse import urlparse

    from aiohttp import web

    url = urlparse(liveness)
    app = web.Application()

    async def alive(_: web.Request) -> web.Response:
        return web.json_response({"standby": True})

    app.router.add_get(url.path or "/", alive)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, url.hostname, url.port or 80, reuse_address=True).start()
    return runner


async def _run(args: argparse.Namespace) -> None:
    """Run kopf; with --leader-elect, only after taking the Lease, and exit as soon as it cannot be renewed."""
    import kopf

    from req1_operator import leader, metrics
    from req1_operator.kube.client import close_client, get_client

    elector = None
    if args.leader_elect:
        runners = [await _standby_server(args.liveness)]
        if OPTIONS.metrics_port:  # a standby shows its (zero) reconciles too; kopf's startup must not bind again
            runners.append(await metrics.start_server(OPTIONS.metrics_host, OPTIONS.metrics_port))
            OPTIONS.metrics_port = 0
        elector = leader.LeaderElector(
            get_client, args.leader_election_namespace, args.leader_election_id, args.leader_election_identity
        )
        await elector.acquire()
        leader.ELECTOR = elector
        if runners[0] is not None:
            await runners[0].cleanup()
    operator = asyncio.create_task(
        kopf.operator(
            standalone=OPTIONS.standalone,
            peering_name=OPTIONS.peering_name,
            namespaces=list(args.namespace),
            clusterwide=not args.namespace,
            liveness_endpoint=args.liveness,
        )
    )
    if elector is None:
        await operator
        return
    holding = asyncio.create_task(elector.hold())
    await asyncio.wait({operator, holding}, return_when=asyncio.FIRST_COMPLETED)
    if holding.done():  # lost: stop now, mid-pass or not; the pod restarts as a standby
        leader.guard()
        leader.ELECTOR = None
        logging.getLogger(__name__).critical("leader election: Lease lost, exiting")
        logging.shutdown()
        os._exit(1)
    holding.cancel()
    await elector.release()
    await operator
    await close_client()


if __name__ == "__main__":
    sys.exit(main())
