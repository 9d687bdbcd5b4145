"""`req1-operator run`: start the operator on some namespaces or the whole cluster."""

from __future__ import annotations

import argparse
import logging
import sys

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
    kopf.run(
        standalone=OPTIONS.standalone,
        peering_name=OPTIONS.peering_name,
        namespaces=list(args.namespace),
        clusterwide=not args.namespace,
        liveness_endpoint=args.liveness,
    )
    del handlers
    return 0


if __name__ == "__main__":
    sys.exit(main())
