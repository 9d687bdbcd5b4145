"""The instance manager for real: one `req1-instance-manager` host process per "pod", each with its own PGDATA and
port, on Debian's PostgreSQL 15, against the local Kubernetes control plane.

The pods are Pod objects of a StatefulSet in a KWOK namespace (their annotations are what the managers patch);
the Req1Instance exists and the test plays the operator: it writes ``status.targetPrimary`` and moves the
primary "Service" — a TCP proxy the replicas' REQ1_PRIMARY_SERVICE points at. Managers authenticate as a
ServiceAccount holding exactly the Role documented in docs/postgres-ha.md. Fencing is proven by putting a proxy
between a manager and the API server and blackholing it.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import json
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from req1_operator.instance import following, pgconf
from req1_operator.instance.lease import LeaseView
from req1_operator.instance.manager import sync_mode, sync_names
from req1_operator.instance.report import InstanceStatus, due
from req1_operator.instance.sql import password_matches
from req1_operator.render import RenderInput, config
from req1_operator.spec import parse_spec
from req1_testenv.postgres import chown_tree, pg_bin, run_as_user
from req1_testenv.process import ManagedProcess, free_port
from req1_testenv.scratch import remove_tree, scratch_dir

pytestmark = pytest.mark.dataplane

ROOT = Path(__file__).resolve().parents[2]
CRD_FILE = ROOT / "crds" / "req1instances.yaml"
INSTANCE = "demo"
STS = f"{INSTANCE}-postgres"
LEASE = f"{INSTANCE}-postgres-primary"
ANNOTATION = "req1.io/instance-status"
LEASE_SECONDS = 6
SUPER_PW, APP_PW, REPL_PW = "SuperPassw0rd", "AppPassw0rd", "ReplPassw0rd"
STATUS_KEYS = {"role", "timeline", "lsn", "replayLsn", "streaming", "lagBytes", "ready", "systemIdentifier",
               "message", "updatedAt"}  # fmt: skip
MANAGER_RULES = [
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "patch"]},
    {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["get", "create", "update"]},
    {"apiGroups": ["req1.io"], "resources": ["req1instances"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["apps"], "resources": ["statefulsets"], "verbs": ["get"]},
]


# ------------------------------------------------------------------------------------------------- helpers


def wait_for(probe: Callable[[], Any], what: str, timeout: float = 60.0, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = probe()
        except Exception as exc:
            last = exc
        if last and not isinstance(last, Exception):
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what} (last: {last!r})")


def psql(port: int, sql: str, *, db: str = "postgres", user: str = "postgres", password: str = SUPER_PW,
         timeout: float = 20) -> subprocess.CompletedProcess[str]:  # fmt: skip
    return subprocess.run(
        [pg_bin("psql"), "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(port),
         "-U", user, "-d", db, "-c", sql],
        env={**os.environ, "PGPASSWORD": password, "PGCONNECT_TIMEOUT": "2"},
        capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip


def query(port: int, sql: str, **kw: Any) -> str:
    res = psql(port, sql, **kw)
    assert res.returncode == 0, res.stderr
    return res.stdout.strip()


def try_query(port: int, sql: str) -> str | None:
    try:
        res = psql(port, sql, timeout=5)
    except subprocess.TimeoutExpired:
        return None
    return res.stdout.strip() if res.returncode == 0 else None


def writable(port: int) -> bool:
    """A committed write (short timeouts: a fenced or stopped server must answer 'no' quickly)."""
    try:
        res = psql(port, "SET statement_timeout = '1s'; INSERT INTO probe VALUES (now())", timeout=3)
    except subprocess.TimeoutExpired:
        return False
    return res.returncode == 0 and "WARNING" not in res.stderr


def http_status(port: int, path: str) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:  # URLError included: nothing listening yet
        return 0


class Proxy:
    """A TCP forwarder standing in for a Service (``target`` can move) or for the network to the API server
    (``block`` blackholes it: open connections are cut, new ones are accepted and never answered)."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.blocked = False
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.conns: list[socket.socket] = []
        self.lock = threading.Lock()
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.conns.append(client)
            if self.blocked:
                continue  # held open, never answered
            try:
                upstream = socket.create_connection(self.target, timeout=2)
            except OSError:
                client.close()
                continue
            # The 2 s was for connecting only: left on the socket, it cut every stream idle for 2 s (a replica's or
            # pg_basebackup's WAL stream under load: "unexpected EOF on standby connection" every 2 s).
            upstream.settimeout(None)
            with self.lock:
                self.conns.append(upstream)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        with self.lock:
            conns, self.conns = self.conns, []
        for c in conns:
            with contextlib.suppress(OSError):
                c.shutdown(socket.SHUT_RDWR)
            c.close()

    def block(self) -> None:
        self.blocked = True
        self.cut()

    def unblock(self) -> None:
        self.blocked = False
        self.cut()  # the held connections end; clients reconnect through a working path

    def move(self, port: int) -> None:
        self.target = ("127.0.0.1", port)
        self.cut()

    def close(self) -> None:
        self.closed = True
        self.sock.close()
        self.cut()


# ------------------------------------------------------------------------------------------------- the CRD


@pytest.fixture(scope="module")
def crd(kube_cluster: Any) -> None:
    """The Req1Instance CRD as generated (crds/), installed unless the API server already serves that schema: it has
    what the manager reads, status.targetPrimary and spec.postgres.synchronousMode off|preferred|required."""
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    wanted = yaml.safe_load(CRD_FILE.read_text())
    with kube_cluster.api_client() as api:
        ext = client.ApiextensionsV1Api(api)
        try:
            current = ext.read_custom_resource_definition("req1instances.req1.io")
        except ApiException as exc:
            if exc.status != 404:
                raise
            ext.create_custom_resource_definition(wanted)
        else:
            live = api.sanitize_for_serialization(current)
            if live["spec"]["versions"] != wanted["spec"]["versions"]:
                wanted["metadata"]["resourceVersion"] = current.metadata.resource_version
                ext.replace_custom_resource_definition("req1instances.req1.io", wanted)
        custom = client.CustomObjectsApi(api)
        wait_for(lambda: custom.list_cluster_custom_object("req1.io", "v1alpha1", "req1instances") is not None,
                 "the CRD to serve")  # fmt: skip


# ------------------------------------------------------------------------------------------------- members


@dataclass
class Member:
    name: str
    workdir: Path
    pg_port: int = field(default_factory=free_port)
    http_port: int = field(default_factory=free_port)
    process: ManagedProcess | None = None

    @property
    def ordinal(self) -> int:
        return int(self.name.rsplit("-", 1)[1])


class Cluster:
    """One Req1Instance with its StatefulSet's pods, and manager processes for some of them."""

    def __init__(self, kube_cluster: Any, namespace: str, workdir: Path, spec: dict[str, Any], replicas: int) -> None:
        from kubernetes import client

        self.kube_cluster = kube_cluster
        self.ns = namespace
        self.workdir = workdir
        self.api = kube_cluster.api_client()
        self.core = client.CoreV1Api(self.api)
        self.apps = client.AppsV1Api(self.api)
        self.custom = client.CustomObjectsApi(self.api)
        self.coord = client.CoordinationV1Api(self.api)
        self.user = run_as_user()
        self.members: dict[str, Member] = {}
        self.proxies: list[Proxy] = []
        self.history: list[tuple[float, str, dict[str, Any]]] = []
        self._stop_watch = threading.Event()

        rbac = client.RbacAuthorizationV1Api(self.api)
        rbac.create_namespaced_role(namespace, {"metadata": {"name": "instance-manager"}, "rules": MANAGER_RULES})
        rbac.create_namespaced_role_binding(namespace, {
            "metadata": {"name": "instance-manager"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "instance-manager"},
            "subjects": [{"kind": "ServiceAccount", "name": "instance-manager", "namespace": namespace}],
        })  # fmt: skip
        sa_kubeconfig = kube_cluster.service_account_kubeconfig(namespace, "instance-manager",
                                                                workdir / "sa.kubeconfig")  # fmt: skip
        self.kubeconfig_doc = yaml.safe_load(Path(sa_kubeconfig).read_text())
        self.api_server = self.kubeconfig_doc["clusters"][0]["cluster"]["server"]

        self.custom.create_namespaced_custom_object("req1.io", "v1alpha1", namespace, "req1instances", {
            "apiVersion": "req1.io/v1alpha1", "kind": "Req1Instance", "metadata": {"name": INSTANCE}, "spec": spec,
        })  # fmt: skip
        labels = {"app.kubernetes.io/name": "req1", "app.kubernetes.io/instance": INSTANCE,
                  "app.kubernetes.io/component": "postgres"}  # fmt: skip
        self.apps.create_namespaced_stateful_set(namespace, {
            "metadata": {"name": STS},
            "spec": {
                "replicas": replicas, "serviceName": f"{STS}-headless", "podManagementPolicy": "Parallel",
                "selector": {"matchLabels": labels},
                "template": {"metadata": {"labels": labels},
                             "spec": {"containers": [{"name": "postgres", "image": "ghcr.io/req1/req1-postgres:16"}]}},
            },
        })  # fmt: skip
        for i in range(replicas):
            wait_for(lambda i=i: self._pod_exists(f"{STS}-{i}"), f"pod {STS}-{i}")

        # postgresql.conf and pg_hba.conf exactly as rendered, with container paths moved to the scratch dir.
        inp = RenderInput(name=INSTANCE, namespace=namespace, uid="u", spec=parse_spec({"postgres": {"replicas": 1}}))
        self.confdir = workdir / "config"
        self.confdir.mkdir()
        for key, text in config.postgres_data(inp).items():
            target = self.confdir / key
            target.write_text(text.replace(config.PG_CONFIG_DIR, str(self.confdir)))
            target.chmod(0o755)
        self.rw = Proxy(("127.0.0.1", 1))  # the "-rw Service"; the test moves it like the operator moves the label
        self.proxies.append(self.rw)
        chown_tree(workdir, self.user)
        threading.Thread(target=self._record, daemon=True).start()

    def _pod_exists(self, name: str) -> bool:
        from kubernetes.client.exceptions import ApiException

        try:
            self.core.read_namespaced_pod(name, self.ns)
            return True
        except ApiException:
            return False

    def _record(self) -> None:
        """Every value of every pod's status annotation, with when it was seen (for "was it ever ...")."""
        from kubernetes import watch

        rv = self.core.list_namespaced_pod(self.ns).metadata.resource_version
        while not self._stop_watch.is_set():
            try:
                stream = watch.Watch().stream(self.core.list_namespaced_pod, self.ns, resource_version=rv,
                                              timeout_seconds=5)  # fmt: skip
                for event in stream:
                    pod = event["object"]
                    rv = pod.metadata.resource_version
                    raw = (pod.metadata.annotations or {}).get(ANNOTATION)
                    if raw:
                        self.history.append((time.time(), pod.metadata.name, json.loads(raw)))
                    if self._stop_watch.is_set():
                        return
            except Exception as exc:
                self.history.append((time.time(), "", {"error": repr(exc)}))
                time.sleep(0.2)

    # -- managers

    def kubeconfig(self, member: str, server: str) -> Path:
        doc = copy.deepcopy(self.kubeconfig_doc)
        doc["clusters"][0]["cluster"]["server"] = server
        path = self.workdir / f"{member}.kubeconfig"
        path.write_text(yaml.safe_dump(doc))
        if self.user:
            entry = pwd.getpwnam(self.user)
            os.chown(path, entry.pw_uid, entry.pw_gid)
        path.chmod(0o600)
        return path

    def api_proxy(self) -> Proxy:
        host, port = self.api_server.removeprefix("https://").rsplit(":", 1)
        proxy = Proxy((host, int(port)))
        self.proxies.append(proxy)
        return proxy

    def start(self, ordinal: int, api: Proxy | None = None, env: dict[str, str] | None = None) -> Member:
        name = f"{STS}-{ordinal}"
        member = self.members.get(name) or Member(name, self.workdir / name)
        self.members[name] = member
        (member.workdir / "data").mkdir(parents=True, exist_ok=True)
        (member.workdir / "sock").mkdir(exist_ok=True)
        chown_tree(member.workdir, self.user)
        server = f"https://127.0.0.1:{api.port}" if api else self.api_server
        venv_site = next((ROOT / ".venv" / "lib").glob("python3*/site-packages"))
        # The venv's interpreter may live under root's private home: run the same code with the system Python
        # 3.11 (same ABI) and the venv's site-packages, as the unprivileged postgres account.
        launcher = (f"import site, sys; site.addsitedir({str(venv_site)!r}); "
                    "from req1_operator.instance.main import main; main()")  # fmt: skip
        python = shutil.which("python3.11", path="/usr/bin") or sys.executable
        env = {
            "PATH": f"{Path(pg_bin('postgres')).parent}:/usr/bin:/bin",
            "HOME": str(member.workdir),
            "LANG": "C.UTF-8",
            "POD_NAME": name,
            "POD_NAMESPACE": self.ns,
            "REQ1_INSTANCE": INSTANCE,
            "PGDATA": str(member.workdir / "data" / "pgdata"),
            "PGPORT": str(member.pg_port),
            "PGHOST": str(member.workdir / "sock"),
            "POSTGRES_USER": "postgres",
            "POSTGRES_PASSWORD": SUPER_PW,
            "REQ1_APP_USER": "req1",
            "REQ1_APP_PASSWORD": APP_PW,
            "REQ1_APP_DATABASE": "req1",
            "REQ1_REPLICATION_USER": "replicator",
            "REQ1_REPLICATION_PASSWORD": REPL_PW,
            "REQ1_PG_CONFIG_DIR": str(self.confdir),
            "REQ1_PRIMARY_SERVICE": f"127.0.0.1:{self.rw.port}",
            "REQ1_LEASE_SECONDS": str(LEASE_SECONDS),
            "REQ1_MANAGER_PORT": str(member.http_port),
            "KUBECONFIG": str(self.kubeconfig(name, server)),
            "PYTHONDONTWRITEBYTECODE": "1",
            **(env or {}),  # e.g. the backup and restore variables (tests/dataplane/test_backup.py)
        }
        member.process = ManagedProcess(
            name, [python, "-c", launcher, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
                   "-c", "shared_buffers=16MB"],
            self.workdir / "logs", env=env, user=self.user, cwd=Path("/"), timeout=30,
            ready=lambda: http_status(member.http_port, "/healthz") == 200,
        )  # fmt: skip
        member.process.start()
        return member

    def stop(self, name: str) -> None:
        member = self.members[name]
        if member.process is not None:
            member.process.stop(timeout=40)

    def close(self) -> None:
        for member in self.members.values():
            if member.process is not None:
                member.process.stop(timeout=40)
        self._stop_watch.set()
        for proxy in self.proxies:
            proxy.close()
        self.api.close()

    # -- what the API server says

    def status(self, pod: str) -> dict[str, Any]:
        raw = (self.core.read_namespaced_pod(pod, self.ns).metadata.annotations or {}).get(ANNOTATION)
        return json.loads(raw) if raw else {}

    def role_label(self, pod: str) -> str | None:
        """The pod's `req1.io/role` label: here no operator runs, so only the managers write it."""
        return (self.core.read_namespaced_pod(pod, self.ns).metadata.labels or {}).get("req1.io/role")

    def wait_status(self, pod: str, what: str, timeout: float = 60, **expect: Any) -> dict[str, Any]:
        def probe() -> dict[str, Any] | None:
            st = self.status(pod)
            return st if all(st.get(k) == v for k, v in expect.items()) else None

        result: dict[str, Any] = wait_for(probe, f"{pod}: {what} {expect}", timeout=timeout, interval=0.2)
        return result

    def wait_seen(self, pod: str, since: float, what: str, timeout: float = 30, **expect: Any) -> dict[str, Any]:
        """A status written after ``since`` (a stale annotation of an unreachable manager does not count)."""

        def probe() -> dict[str, Any] | None:
            for seen, name, st in list(self.history):
                if seen >= since and name == pod and all(st.get(k) == v for k, v in expect.items()):
                    return st
            return None

        result: dict[str, Any] = wait_for(probe, f"{pod}: {what} {expect}", timeout=timeout, interval=0.2)
        return result

    def lease(self) -> Any:
        return self.coord.read_namespaced_lease(LEASE, self.ns).spec

    def set_target(self, pod: str) -> None:
        self.custom.patch_namespaced_custom_object_status(
            "req1.io", "v1alpha1", self.ns, "req1instances", INSTANCE, {"status": {"targetPrimary": pod}}
        )

    def set_spec(self, spec: dict[str, Any]) -> None:
        self.custom.patch_namespaced_custom_object("req1.io", "v1alpha1", self.ns, "req1instances", INSTANCE,
                                                   {"spec": spec})  # fmt: skip

    def scale(self, replicas: int) -> None:
        self.apps.patch_namespaced_stateful_set(STS, self.ns, {"spec": {"replicas": replicas}})

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text()[-4000:]}" for p in sorted((self.workdir / "logs").glob("*.log"))
        )


@contextlib.contextmanager
def managed_clusters(label: str) -> Iterator[tuple[Path, list[Cluster]]]:
    """A scratch folder and the list of clusters made in it; every cluster is closed (its logs printed, which
    pytest shows for a failed test only) and the folder removed afterwards."""
    made: list[Cluster] = []
    workdir = scratch_dir(label)
    try:
        yield workdir, made
    finally:
        for cluster in made:
            cluster.close()
            print(cluster.logs())
        remove_tree(workdir)


@pytest.fixture
def make_cluster(crd: None, kube_cluster: Any, kube_namespace: str) -> Iterator[Callable[..., Cluster]]:
    with managed_clusters("instance-manager") as (workdir, made):

        def make(spec: dict[str, Any] | None = None, replicas: int = 2) -> Cluster:
            made.append(Cluster(kube_cluster, kube_namespace, workdir, spec or {}, replicas))
            return made[-1]

        yield make


def bootstrap_pair(c: Cluster, primary_api: Proxy | None = None,
                   env: dict[str, str] | None = None) -> tuple[Member, Member]:  # fmt: skip
    """Ordinal 0 bootstraps a fresh instance by itself; the test, as the operator, then names it the target,
    points the rw Service at it, and ordinal 1 clones from it."""
    m0 = c.start(0, api=primary_api, env=env)
    c.wait_status(m0.name, "bootstrap", role="primary", ready=True)
    c.set_target(m0.name)
    c.rw.move(m0.pg_port)
    m1 = c.start(1, env=env)
    c.wait_status(m1.name, "clone and stream", role="replica", streaming=True, ready=True)
    query(m0.pg_port, "CREATE TABLE probe (t timestamptz)", db="req1", user="req1", password=APP_PW)
    query(m0.pg_port, "CREATE TABLE probe (t timestamptz)")
    return m0, m1


# ------------------------------------------------------------------------------------------------- tests


def test_bootstrap_report_slots_and_switchover(make_cluster: Callable[..., Cluster]) -> None:
    c = make_cluster()
    m0, m1 = bootstrap_pair(c)

    # The report: every key of the contract, values that agree with the servers themselves.
    st0, st1 = c.status(m0.name), c.status(m1.name)
    assert set(st0) == STATUS_KEYS | {"synchronous"} and set(st1) == STATUS_KEYS  # synchronous: a primary's only
    assert st0["synchronous"] == "off"
    sysid = query(m0.pg_port, "SELECT system_identifier FROM pg_control_system()")
    assert st0["systemIdentifier"] == st1["systemIdentifier"] == sysid
    assert st0["timeline"] == st1["timeline"] == 1
    assert re.fullmatch(r"[0-9A-F]+/[0-9A-F]+", st0["lsn"]) and re.fullmatch(r"[0-9A-F]+/[0-9A-F]+", st1["replayLsn"])
    assert st1["lagBytes"] >= 0 and st0["streaming"] is False
    dt.datetime.fromisoformat(st0["updatedAt"].replace("Z", "+00:00"))
    lease = c.lease()
    assert (lease.holder_identity, lease.lease_duration_seconds) == (m0.name, LEASE_SECONDS)
    assert http_status(m0.http_port, "/readyz") == 200 and http_status(m1.http_port, "/readyz") == 200
    assert http_status(m1.http_port, "/healthz") == 200

    # Bootstrap made the roles of the Secrets: the app owns its database, the replica streams through its slot.
    assert query(m0.pg_port, "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'req1'") == "req1"
    assert query(m0.pg_port, "SELECT application_name || ':' || state FROM pg_stat_replication") == (
        f"{m1.name}:streaming"
    )
    wait_for(lambda: query(m0.pg_port, "SELECT string_agg(slot_name || ':' || active, ',') FROM pg_replication_slots")
             == "req1_demo_postgres_1:true", "the replica's slot, in use")  # fmt: skip
    query(m0.pg_port, "INSERT INTO probe VALUES (now())", db="req1", user="req1", password=APP_PW)
    wait_for(lambda: query(m1.pg_port, "SELECT count(*) FROM probe", db="req1") == "1", "the row on the replica")

    # A password changed behind the manager's back is put back in line with the Secret (checked every 30 s;
    # a promotion re-checks at once, which the switchover below provokes). Loopback is `trust` in the rendered
    # pg_hba.conf, so the stored verifier itself is checked.
    query(m0.pg_port, "ALTER ROLE req1 PASSWORD 'drifted'")
    stored = "SELECT rolpassword FROM pg_authid WHERE rolname = 'req1'"
    assert not password_matches(query(m0.pg_port, stored), APP_PW)

    # Slots follow the StatefulSet's size: a third member gets one, scaling down drops it.
    c.scale(3)
    wait_for(lambda: "req1_demo_postgres_2" in query(m0.pg_port, "SELECT string_agg(slot_name, ',') FROM "
             "pg_replication_slots"), "a slot for ordinal 2", timeout=20)  # fmt: skip
    c.scale(2)
    wait_for(lambda: "req1_demo_postgres_2" not in query(m0.pg_port, "SELECT coalesce(string_agg(slot_name, ','), '')"
             " FROM pg_replication_slots"), "the slot of ordinal 2 dropped", timeout=20)  # fmt: skip

    # Switchover: the operator names ordinal 1; it promotes once ordinal 0 has stepped down and released the lease.
    began = time.monotonic()
    c.set_target(m1.name)
    c.wait_status(m1.name, "promotion", role="primary", ready=True, timeline=2)
    promoted = time.monotonic() - began
    # The manager moved the role label with its report (the -rw Service follows without an operator pass).
    assert c.role_label(m1.name) == "primary"
    c.rw.move(m1.pg_port)
    assert query(m1.pg_port, "SELECT pg_is_in_recovery()") == "f"
    assert c.lease().holder_identity == m1.name
    query(m1.pg_port, "INSERT INTO probe VALUES (now())", db="req1", user="req1", password=APP_PW)
    # The former primary is rewound and streams from the new one, on its timeline.
    c.wait_status(m0.name, "rewind and follow", role="replica", streaming=True, ready=True, timeline=2)
    assert c.role_label(m0.name) == "replica"
    assert query(m0.pg_port, "SELECT pg_is_in_recovery()") == "t"
    wait_for(lambda: query(m0.pg_port, "SELECT count(*) FROM probe", db="req1") == "2", "the new primary's row")
    wait_for(lambda: query(m1.pg_port, "SELECT string_agg(slot_name || ':' || active, ',') FROM pg_replication_slots")
             == "req1_demo_postgres_0:true", "the old primary streaming through its slot")  # fmt: skip
    assert any(name == m0.name and st["role"] == "starting" for _, name, st in c.history), "demotion not reported"
    # ... and the new primary reset the drifted password to the Secret's.
    wait_for(lambda: password_matches(query(m1.pg_port, stored), APP_PW), "the app password restored", timeout=10)
    assert promoted < 10, f"switchover took {promoted:.1f}s"

    # The new primary dies. The replica's walreceiver goes with it, and its last restartpoint is still on timeline
    # 1; it must go on reporting timeline 2 (the operator ranks failover candidates by timeline first).
    c.stop(m1.name)
    st = c.wait_status(m0.name, "the replica stops streaming", role="replica", streaming=False, timeout=30)
    assert query(m0.pg_port, "SELECT timeline_id FROM pg_control_checkpoint()") == "1"  # what made it report 1
    assert st["timeline"] == 2, st


def test_fencing_and_no_promotion_while_the_lease_is_live(make_cluster: Callable[..., Cluster]) -> None:
    c = make_cluster()
    api0 = c.api_proxy()
    m0, m1 = bootstrap_pair(c, primary_api=api0)

    # 1. The primary loses the API server: it stops accepting writes before its lease can expire ...
    assert writable(m0.pg_port)
    api0.block()
    cut = time.time()
    last_renewal = c.lease().renew_time.timestamp()  # read after the cut: no renewal can follow it
    wait_for(lambda: not writable(m0.pg_port), "the primary to fence itself", timeout=LEASE_SECONDS + 5)
    fenced_after = time.time() - last_renewal
    assert fenced_after <= LEASE_SECONDS, f"writes still accepted {fenced_after:.1f}s after the last renewal"
    assert time.time() - cut >= LEASE_SECONDS - 2 - 2.5, "fenced long before the lease was in danger"
    assert http_status(m0.http_port, "/readyz") == 503
    # ... and when it reaches the API again, still the target with its lease lapsed, it says so and resumes.
    unblocked = time.time()
    api0.unblock()
    fenced = c.wait_seen(m0.name, unblocked, "report fenced", role="fenced")
    assert fenced["ready"] is False and "fenced" in fenced["message"]
    c.wait_seen(m0.name, unblocked, "resume as primary", role="primary", ready=True)
    wait_for(lambda: writable(m0.pg_port), "writes again")
    c.wait_status(m1.name, "replica still streaming", role="replica", streaming=True)

    # 2. Cut off again — from the API server and from its replica — and the operator fails over to ordinal 1 at
    # once. The old primary keeps taking writes the replica never sees (diverging) until it fences; the replica
    # waits for the lease to lapse before promoting: at no moment do both accept writes.
    c.rw.block()
    api0.block()
    last_renewal = c.lease().renew_time.timestamp()
    base = query(m0.pg_port, "SELECT count(*) FROM probe")
    c.set_target(m1.name)
    last_old_write = first_new_write = None
    diverged = 0
    deadline = time.monotonic() + 4 * LEASE_SECONDS
    while time.monotonic() < deadline and first_new_write is None:
        now = time.time()
        if writable(m0.pg_port):
            last_old_write = now
            diverged += 1
        if try_query(m1.pg_port, "SELECT pg_is_in_recovery()") == "f":
            first_new_write = time.time()
        time.sleep(0.05)
    assert first_new_write is not None, "the replica never promoted"
    assert diverged > 0
    lease = c.lease()
    assert lease.holder_identity == m1.name
    assert lease.acquire_time.timestamp() > last_renewal + LEASE_SECONDS, "took a lease that was still live"
    assert first_new_write > last_renewal + LEASE_SECONDS, "writable while the old primary's lease was live"
    assert last_old_write is None or last_old_write < first_new_write
    assert query(m1.pg_port, "SELECT count(*) FROM probe") == base
    c.rw.move(m1.pg_port)
    c.rw.unblock()

    # 3. The old primary comes back: another pod holds the lease and is the target, so it rewinds (throwing away
    # the writes nobody else has) and follows the new primary on its timeline.
    unblocked = time.time()
    api0.unblock()
    c.wait_seen(m0.name, unblocked, "rejoin as replica", role="replica", streaming=True, timeline=2, timeout=60)
    query(m1.pg_port, "INSERT INTO probe VALUES (now())")
    wait_for(lambda: query(m0.pg_port, "SELECT count(*) FROM probe") == str(int(base) + 1), "the new history on m0")


def test_synchronous_preferred_and_required(make_cluster: Callable[..., Cluster]) -> None:
    c = make_cluster({"postgres": {"replicas": 1, "synchronousMode": "preferred"}})
    m0, m1 = bootstrap_pair(c)
    sync = "SHOW synchronous_standby_names"
    wait_for(lambda: query(m0.pg_port, sync) == "ANY 1 (*)", "preferred: synchronous while a standby streams")
    assert "synchronous (preferred)" in c.status(m0.name)["message"]
    wait_for(lambda: c.status(m0.name).get("synchronous") == "sync", "the primary reports synchronous commits")

    # preferred: the standby goes away, commits fall back to local and do not wait.
    c.stop(m1.name)
    wait_for(lambda: query(m0.pg_port, sync) == "", "preferred: asynchronous without a standby", timeout=20)
    wait_for(lambda: "synchronous replication off" in c.status(m0.name)["message"], "the fallback reported")
    wait_for(lambda: c.status(m0.name).get("synchronous") == "async", "asynchronous commits reported")
    began = time.monotonic()
    assert writable(m0.pg_port) and time.monotonic() - began < 2

    # ... and back to synchronous once a standby streams again.
    c.start(1)
    c.wait_status(m1.name, "standby back", role="replica", streaming=True)
    wait_for(lambda: query(m0.pg_port, sync) == "ANY 1 (*)", "preferred: synchronous again", timeout=20)
    wait_for(lambda: c.status(m0.name).get("synchronous") == "sync", "the return reported")
    c.stop(m1.name)
    wait_for(lambda: c.status(m0.name).get("synchronous") == "async", "fallen back again", timeout=20)

    # required: the same situation, and a commit is not acknowledged (it waits until cancelled).
    c.set_spec({"postgres": {"synchronousMode": "required"}})
    wait_for(lambda: query(m0.pg_port, sync) == "ANY 1 (*)", "required: synchronous with no standby", timeout=20)
    wait_for(lambda: c.status(m0.name).get("synchronous") == "waiting", "required: commits reported waiting")
    waiting = subprocess.Popen(
        [pg_bin("psql"), "-X", "-h", "127.0.0.1", "-p", str(m0.pg_port), "-U", "postgres", "-d", "postgres",
         "-c", "INSERT INTO probe VALUES (now())"],
        env={**os.environ, "PGPASSWORD": SUPER_PW}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        time.sleep(2)
        assert waiting.poll() is None, "required: a commit was acknowledged without a standby"
        c.start(1)
        c.wait_status(m1.name, "standby back", role="replica", streaming=True)
        assert waiting.wait(timeout=30) == 0, "the waiting commit did not complete once a standby streamed"
    finally:
        waiting.kill()
    assert writable(m0.pg_port)


def test_stuck_walreceiver_is_restarted_without_restarting_postgres(make_cluster: Callable[..., Cluster]) -> None:
    """A walreceiver whose connection is accepted and never answered (a peer that vanished with its node, here the
    "Service" blackholing) waits forever: libpq's asynchronous connect has no timeout. The manager terminates the
    walreceiver so a new one connects to what the Service leads to now, without restarting or rewinding the
    server (the steady-state rebuild, 30 s later, would have restarted it)."""
    c = make_cluster()
    m0, m1 = bootstrap_pair(c)
    started = "SELECT pg_postmaster_start_time()::text"
    receiver = "SELECT coalesce((SELECT pid FROM pg_stat_wal_receiver), 0)::text"
    postmaster_started, first_receiver = query(m1.pg_port, started), query(m1.pg_port, receiver)
    c.rw.block()  # the stream is cut; the walreceiver's next connection is held open, never answered
    c.wait_status(m1.name, "the stream lost", role="replica", streaming=False)
    c.rw.blocked = False  # the Service works again, but the held connection stays stuck
    c.wait_status(m1.name, "streaming again", role="replica", streaming=True, timeout=60)
    assert query(m1.pg_port, started) == postmaster_started, "the server was restarted, not its walreceiver"
    assert query(m1.pg_port, receiver) not in ("0", first_receiver)
    assert "walreceiver (pid" in c.logs()
    query(m0.pg_port, "INSERT INTO probe VALUES (now())", db="req1", user="req1", password=APP_PW)
    wait_for(lambda: query(m1.pg_port, "SELECT count(*) FROM probe", db="req1") == "1", "the row on the replica")


# ------------------------------------------------------------------------------------------------- pure rules


def test_follower_restarts_the_walreceiver_then_rebuilds_sooner_after_a_change_of_primary() -> None:
    f = following.Follower()
    assert not f.observe_target("db-0", 0.0)  # the first target is no change
    assert f.not_streaming(10.0) == "wait"
    assert f.not_streaming(10.0 + following.KICK_GRACE) == "kick"
    f.kicked(12.0)
    assert f.not_streaming(13.0) == "wait"  # at most every KICK_EVERY
    assert f.not_streaming(12.0 + following.KICK_EVERY) == "kick"
    assert f.not_streaming(10.0 + following.REBUILD_AFTER + 1) == "rebuild"
    f.streaming()
    # A change of primary: the limits count from the change, and the rebuild comes sooner.
    assert f.not_streaming(99.0) == "wait"  # not streaming since just before the change ...
    assert f.observe_target("db-1", 100.0)
    assert f.not_streaming(100.0 + following.KICK_GRACE - 0.1) == "wait"  # ... yet the grace counts from it
    assert f.not_streaming(100.0 + following.KICK_GRACE) == "kick"
    assert f.not_streaming(100.0 + following.REBUILD_AFTER_CHANGE + 1) == "rebuild"
    assert following.REBUILD_AFTER_CHANGE < following.REBUILD_AFTER
    # A new timeline seen by the replica counts as a change of primary too.
    g = following.Follower()
    g.observe_timeline(1, 0.0)
    g.observe_timeline(2, 50.0)
    assert g.recent_change(50.0) and g.changed_at == 50.0


def test_primary_conninfo_bounds_tcp_waits() -> None:
    """A standby's connection to a primary that vanished with its node gives up within seconds (no RST comes)."""
    info = pgconf.TCP_SETTINGS
    assert info["tcp_user_timeout"] == "5000" and info["keepalives"] == "1"
    assert int(info["keepalives_idle"]) + int(info["keepalives_interval"]) * int(info["keepalives_count"]) <= 5




def test_lease_expiry_and_holder() -> None:
    t = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    lease = {"spec": {"holderIdentity": "a", "renewTime": "2026-01-01T00:00:00.000000Z", "leaseDurationSeconds": 10}}
    view = LeaseView.of(lease)
    assert view is not None
    assert view.live_holder(t + dt.timedelta(seconds=10)) == "a"  # renewTime + duration is not yet past
    assert view.live_holder(t + dt.timedelta(seconds=10.001)) is None
    released = LeaseView.of({"spec": {"holderIdentity": None, "renewTime": None}})
    assert released is not None and released.expired(t)


def test_report_written_on_significant_change_and_lsn_at_most_every_5s() -> None:
    a = InstanceStatus(role="replica", lsn="0/1", ready=True, streaming=True)
    assert due(a, None, 0)
    assert not due(a, a, 100)
    assert not due(replace(a, lsn="0/2", lag_bytes=5), a, 4.9)
    assert due(replace(a, lsn="0/2"), a, 5.0)
    assert due(replace(a, streaming=False), a, 0.1) and due(replace(a, role="primary"), a, 0.1)


def test_sync_mode_reads_bool_and_enum() -> None:
    def inst(v: object) -> dict[str, Any]:
        return {"spec": {"postgres": {"synchronousMode": v}}}

    assert [sync_mode(inst(v)) for v in (True, False, "required", "preferred", "off")] == [
        "required", "off", "required", "preferred", "off"]  # fmt: skip
    assert sync_mode({}) == "off"
    assert (sync_names("preferred", 0), sync_names("preferred", 1), sync_names("required", 0)) == (
        "", "ANY 1 (*)", "ANY 1 (*)")  # fmt: skip


def test_auto_conf_keeps_foreign_lines_and_replaces_managed_ones() -> None:
    old = "work_mem = '8MB'\nprimary_conninfo = 'host=old'\nsynchronous_standby_names = 'x'\n"
    new = pgconf.render(old, {"synchronous_standby_names": "ANY 1 (*)", "archive_command": "a 'b'"})
    assert "work_mem = '8MB'" in new and "host=old" not in new
    assert "synchronous_standby_names = 'ANY 1 (*)'" in new and "archive_command = 'a ''b'''" in new
    assert pgconf.render(new, {"synchronous_standby_names": "ANY 1 (*)", "archive_command": "a 'b'"}) == new
