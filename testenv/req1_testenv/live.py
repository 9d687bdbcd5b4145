"""``make cluster-live``: the whole production shape on one machine, used the way a cluster admin would.

Starts the local control plane with process nodes only (every pod really runs), installs the operator
from its Helm chart as a real pod (``helm upgrade --install``), applies
``manifests/examples/req1instance-minimal.yaml`` with ``kubectl`` and waits for ``Ready`` from real
probes, then prints the API Service's address and the login. Running it again reuses what is up.
``down`` stops everything by recorded PIDs (the cluster's own ``down``).
"""

from __future__ import annotations

import argparse
import base64
import json
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from req1_testenv.kube import KubeCluster
from req1_testenv.process import ServiceStartError

REPO_ROOT = Path(__file__).resolve().parents[2]
HELM = REPO_ROOT / ".cache" / "bin" / "helm"
CHART = REPO_ROOT / "charts" / "req1-operator"
EXAMPLE = REPO_ROOT / "manifests" / "examples" / "req1instance-minimal.yaml"
OPERATOR_NAMESPACE = "req1-system"
APP_NAMESPACE = "req1"
INSTANCE = "req1"  # metadata.name in the minimal example


class LiveError(RuntimeError):
    """A step of bringing the live stack up failed; the message says which and what was seen."""


@dataclass
class Live:
    cluster: KubeCluster

    def kubectl(self, *args: str, stdin: str | None = None, check: bool = True) -> str:
        done = subprocess.run(
            ["kubectl", "--kubeconfig", str(self.cluster.kubeconfig), *args],
            input=stdin, capture_output=True, text=True, timeout=120,
        )
        if check and done.returncode != 0:
            raise LiveError(f"kubectl {' '.join(args)}: {done.stderr.strip() or done.stdout.strip()}")
        return done.stdout

    def get(self, kind: str, name: str, namespace: str) -> dict[str, Any] | None:
        out = self.kubectl("get", kind, name, "-n", namespace, "-o", "json", "--ignore-not-found")
        return json.loads(out) if out.strip() else None

    def install_operator(self) -> None:
        """The chart, as a user installs it; the operator pod runs the project's virtualenv (images.OPERATOR)."""
        if not HELM.exists():
            raise LiveError(f"{HELM} is missing: run `make setup` (or `make helm`)")
        (CHART / "crds").mkdir(exist_ok=True)
        for crd in (REPO_ROOT / "crds").glob("*.yaml"):  # what `make manifests` does: the chart ships crds/
            (CHART / "crds" / crd.name).write_text(crd.read_text())
        done = subprocess.run(
            [str(HELM), "upgrade", "--install", "req1-operator", str(CHART), "--namespace", OPERATOR_NAMESPACE,
             "--create-namespace", "--kubeconfig", str(self.cluster.kubeconfig), "--wait", "--timeout", "5m"],
            capture_output=True, text=True, timeout=330,
        )
        if done.returncode != 0:
            raise LiveError(f"helm install of the operator failed: {done.stderr.strip()}")
        if "REVISION: 1\n" not in done.stdout:
            # An upgrade: the stand-in image is this work tree, which a same-tag upgrade does not reload.
            self.kubectl("rollout", "restart", "deployment/req1-operator", "-n", OPERATOR_NAMESPACE)
            self.kubectl("rollout", "status", "deployment/req1-operator", "-n", OPERATOR_NAMESPACE, "--timeout=180s")

    def apply_example(self) -> None:
        self.kubectl("create", "namespace", APP_NAMESPACE, check=False)
        self.kubectl("apply", "-n", APP_NAMESPACE, "-f", str(EXAMPLE))

    def wait_ready(self, timeout: float) -> dict[str, Any]:
        deadline, status = time.monotonic() + timeout, dict[str, Any]()
        while time.monotonic() < deadline:
            obj = self.get("req1", INSTANCE, APP_NAMESPACE) or {}
            status = obj.get("status") or {}
            if status.get("phase") == "Ready":
                return status
            time.sleep(2)
        raise LiveError(f"{APP_NAMESPACE}/{INSTANCE} not Ready after {timeout:.0f}s; status: {json.dumps(status)}")

    def endpoint(self) -> tuple[str, str, str]:
        """The API's URL (its Service ClusterIP, routed on this machine) and the admin login."""
        svc = self.get("service", f"{INSTANCE}-api", APP_NAMESPACE)
        secret = self.get("secret", f"{INSTANCE}-api", APP_NAMESPACE)
        config = self.get("configmap", f"{INSTANCE}-api", APP_NAMESPACE) or {}
        if not svc or not secret:
            raise LiveError("the API Service or its Secret is missing")
        ip = svc["spec"]["clusterIP"]
        self.cluster.fabric().assert_routed(ip)
        port = svc["spec"]["ports"][0]["port"]
        url = f"http://{ip}" + ("" if port == 80 else f":{port}")
        email = (config.get("data") or {}).get("ADMIN_EMAIL", "admin@localhost")
        password = base64.b64decode(secret["data"]["admin-password"]).decode()
        return url, email, password


def up(directory: Path, process_nodes: int, timeout: float) -> int:
    began = time.monotonic()
    cluster = KubeCluster.attach(directory)
    if not all(cluster.running().values()):
        # No KWOK nodes: the cluster's default node selector is then type=process, so every pod runs.
        cluster = KubeCluster(directory, nodes=0, process_nodes=process_nodes)
        cluster.start()
    live = Live(cluster)
    live.install_operator()
    live.apply_example()
    live.wait_ready(timeout)
    url, email, password = live.endpoint()
    with urllib.request.urlopen(f"{url}/health/ready", timeout=10) as resp:  # noqa: S310 (a ClusterIP, routed here)
        if resp.status != 200:
            raise LiveError(f"{url}/health/ready answered {resp.status}")
    took = time.monotonic() - began
    print(f"req1 is Ready on the local cluster ({took:.0f}s)\n"
          f"  URL:        {url}/\n  login:      {email} / {password}\n"
          f"  kubectl:    export KUBECONFIG={cluster.kubeconfig}; kubectl get req1 -n {APP_NAMESPACE}\n"
          f"  pod logs:   .venv/bin/python -m req1_testenv.kubelet logs {APP_NAMESPACE}/<pod> --dir {directory}\n"
          f"  stop:       make cluster-live-down")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m req1_testenv.live", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["up", "down"])
    parser.add_argument("--dir", type=Path, default=Path(".run/live"), help="the cluster's state directory")
    parser.add_argument("--process-nodes", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for Ready")
    args = parser.parse_args(argv)
    directory = args.dir.resolve()
    if args.command == "down":
        KubeCluster.attach(directory).stop()
        print(f"stopped the live cluster in {args.dir}")
        return 0
    try:
        return up(directory, args.process_nodes, args.timeout)
    except (LiveError, ServiceStartError, OSError) as exc:
        print(f"cluster-live: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
