"""``python -m req1_testenv.kubelet logs|kill|fail-probes NAMESPACE/POD`` against a local cluster's process nodes."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from req1_testenv.kubelet import faults


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m req1_testenv.kubelet")
    parser.add_argument("command", choices=["logs", "kill", "fail-probes", "pass-probes"])
    parser.add_argument("pod", help="NAMESPACE/POD")
    parser.add_argument("-c", "--container")
    parser.add_argument("-p", "--previous", action="store_true", help="logs: the run before the current one")
    parser.add_argument("--dir", type=Path, default=Path(".run/cluster"), help="the cluster's state directory")
    args = parser.parse_args(argv)
    namespace, _, pod = args.pod.partition("/")
    if not pod:
        parser.error("POD must be NAMESPACE/NAME")
    if args.command == "kill":
        print(" ".join(map(str, faults.kill(args.dir, namespace, pod, args.container))) or "no process")
        return 0
    if args.command in ("fail-probes", "pass-probes"):
        if not args.container:
            parser.error("-c CONTAINER is required")
        faults.fail_probes(args.dir, namespace, pod, args.container, failing=args.command == "fail-probes")
        return 0
    found = faults._latest(faults.containers(args.dir, namespace, pod, args.container))
    if not found:
        print(f"no containers of {args.pod} on the process nodes under {args.dir}", file=sys.stderr)
        return 1
    if len(found) > 1 and not args.container:
        print(f"pod {args.pod} has several containers, choose one with -c: "
              f"{', '.join(c.container for c in found)}", file=sys.stderr)
        return 1
    logs = found[0].logs()
    index = -2 if args.previous else -1
    if len(logs) < -index:
        print("no previous run" if args.previous else "no log yet", file=sys.stderr)
        return 1
    sys.stdout.write(logs[index].read_text(errors="replace"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
