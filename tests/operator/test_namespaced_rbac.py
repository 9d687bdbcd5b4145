"""With `watchNamespaces` set, the chart grants Roles in those namespaces only, and the operator does its whole
job with them: an instance in a watched namespace reaches Ready, and the token can do nothing anywhere else."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from operator_harness import Kubectl, Operator, chart_objects, load_example, wait_phase

RELEASE = "req1-scoped"
SERVICE_ACCOUNT = f"{RELEASE}-req1-operator"


def test_operator_works_with_namespaced_roles_only(
    admin: Kubectl, kube_cluster: Any, operator_kubeconfig: Path, kube_namespace: str, kube_namespace_2: str,
    tmp_path: Path,
) -> None:
    served, other = kube_namespace, kube_namespace_2
    home = f"{served}-op"
    admin.run("create", "namespace", home)
    op: Operator | None = None
    try:
        docs = chart_objects(f"--set=watchNamespaces={{{served}}}", release=RELEASE, namespace=home)
        kinds = {d["kind"] for d in docs}
        assert "ClusterRole" not in kinds and "ClusterRoleBinding" not in kinds
        rbac = [d for d in docs if d["kind"] in ("ServiceAccount", "Role", "RoleBinding")]
        admin.apply("\n---\n".join(yaml.safe_dump(d) for d in rbac))
        token = kube_cluster.service_account_kubeconfig(home, SERVICE_ACCOUNT, create=False)
        scoped = Kubectl(Path(token))

        assert scoped.run("get", "secrets", "-n", served).returncode == 0
        for args in (("get", "secrets", "-n", other), ("get", "nodes"), ("get", "req1", "-A")):
            denied = scoped.run(*args, check=False)
            assert denied.returncode != 0 and "forbidden" in denied.stderr.lower(), args

        op = Operator(Path(token), tmp_path / "op", [served]).start()
        obj = load_example("req1instance-minimal.yaml")
        admin.apply(obj, served)
        admin.apply(obj, other)
        status = wait_phase(admin, obj["metadata"]["name"], served, "Ready")
        assert status["readyComponents"] == "4/4"
        unserved = admin.get("req1", obj["metadata"]["name"], other)
        assert unserved is not None and not unserved.get("status"), "an unwatched namespace was reconciled"
        assert "403" not in op.log() and "forbidden" not in op.log().lower(), op.log()[-3000:]
    finally:
        if op is not None:
            op.stop()
        admin.run("delete", "namespace", home, "--wait=false", check=False)
