"""A real, local Kubernetes control plane for tests: etcd, kube-apiserver, kube-controller-manager,
kube-scheduler, a hostPath volume provisioner (all from the ``req1-kube`` multi-call binary built
from ``testenv/kube``) and KWOK faking the nodes and kubelets.

Why this shape: no container runtime is available, so kind/k3d are out. The API server, the
controllers (garbage collection, Deployments, StatefulSets, CronJobs, ServiceAccount tokens, PV
binding) and the scheduler are the real upstream code; only the kubelets are fake, which is all an
operator can observe anyway. Each component is a :class:`ManagedProcess`, stopped by recorded PID.

CLI: ``python -m req1_testenv.kube up|down|status [--dir .run/cluster]``.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime as dt
import ipaddress
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from req1_testenv.process import ManagedProcess, ServiceStartError, free_port, pid_alive

REPO_ROOT = Path(__file__).resolve().parents[2]
BIN_DIR = REPO_ROOT / ".cache" / "bin"
DEFAULT_DIR = REPO_ROOT / ".run" / "cluster"

SERVICE_CIDR = "10.96.0.0/16"
SERVICE_IP = "10.96.0.1"
# KWOK's made-up pod and node addresses: outside every fabric slot's pod (10.244-10.251) and Service
# (10.96-10.103) ranges, so a fake pod IP in an EndpointSlice can never be routed to a real pod.
POD_CIDR = "10.252.0.1/16"
KWOK_NODE_IP = "10.253.0.1"
STORAGE_CLASS = "req1-local"
PROVISIONER = "req1.dev/hostpath"
SA_ISSUER = "https://kubernetes.default.svc.cluster.local"
# Large enough for the whole req1 stack (server replicas, PostgreSQL, Redis, SeaweedFS, jobs).
NODE_ALLOCATABLE = {"cpu": "32", "memory": "128Gi", "pods": "110", "ephemeral-storage": "500Gi"}

# Stop order: the kubelets (fake, then process node agents: see ``_node_agents``) first, the datastore last.
STOP_ORDER = ("kwok", "podnet", "provisioner", "kube-scheduler", "kube-controller-manager", "kube-apiserver", "etcd")
NODE_AGENT_PREFIX = "node-"
PROCESS_NODE_PREFIX = "req1-node-"
KWOK_NODE_SELECTOR = "type=kwok"
PROCESS_NODE_SELECTOR = "type=process"
# A namespace annotated with this runs its pods on the process nodes (the PodNodeSelector admission plugin).
NODE_SELECTOR_ANNOTATION = "scheduler.alpha.kubernetes.io/node-selector"


def kube_binary() -> Path:
    """The req1-kube multi-call binary (``REQ1_KUBE_BIN`` overrides)."""
    return Path(os.environ.get("REQ1_KUBE_BIN", BIN_DIR / "req1-kube"))


def kwok_binary() -> Path:
    """The kwok controller binary (``REQ1_KWOK_BIN`` overrides)."""
    return Path(os.environ.get("REQ1_KWOK_BIN", BIN_DIR / "kwok"))


def require_binaries() -> tuple[Path, Path]:
    """Both binaries, or a ServiceStartError telling how to build them."""
    kube, kwok = kube_binary(), kwok_binary()
    missing = [str(p) for p in (kube, kwok) if not os.access(p, os.X_OK)]
    if missing:
        raise ServiceStartError(
            f"Kubernetes test binaries missing: {', '.join(missing)}; run `make cluster-build` "
            "(builds testenv/kube into .cache/bin/req1-kube and installs kwok)"
        )
    return kube, kwok


# --------------------------------------------------------------------------------------------- PKI


def _pem_key(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    fmt = serialization.PrivateFormat.PKCS8
    return key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption())


def _pem_cert(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


@dataclass
class Pki:
    """A throwaway PKI in ``<workdir>/pki``: one CA signs every serving and client certificate.

    Identities follow the upstream conventions so the bootstrap RBAC roles apply unchanged.
    """

    directory: Path
    ca_key: ec.EllipticCurvePrivateKey = field(init=False)
    ca_cert: x509.Certificate = field(init=False)

    def path(self, name: str) -> Path:
        return self.directory / name

    def generate(self, extra_ips: tuple[str, ...] = ()) -> Pki:
        """Every certificate of the cluster; ``extra_ips`` are further apiserver addresses (the test bed's)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        # The front-proxy CA only signs the apiserver's aggregation client; a separate CA keeps
        # ordinary client certificates from being accepted as a request-header proxy.
        self.ca_key, self.ca_cert = self._new_ca("front-proxy-ca", "req1-test-front-proxy-ca")
        self.issue("front-proxy-client", "front-proxy-client")
        self.ca_key, self.ca_cert = self._new_ca("ca", "req1-test-ca")

        self.issue(
            "apiserver", "kube-apiserver", server=True,
            dns=["localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
                 "kubernetes.default.svc.cluster.local"],
            ips=["127.0.0.1", SERVICE_IP, *extra_ips],
        )
        self.issue("admin", "req1-admin", orgs=["system:masters"])
        self.issue("kube-controller-manager", "system:kube-controller-manager")
        self.issue("kube-scheduler", "system:kube-scheduler")
        # kwok plays every kubelet (node status, leases, pod status, deletion); the Node authorizer
        # would need one identity per node, so it gets cluster-admin like the provisioner.
        self.issue("kwok", "req1-kwok", orgs=["system:masters"])
        self.issue("provisioner", "req1-provisioner", orgs=["system:masters"])
        # The process node agents, like kwok, post status for every node they run.
        self.issue("node-agent", "req1-node-agent", orgs=["system:masters"])

        sa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.path("sa.key").write_bytes(_pem_key(sa_key))
        spki = serialization.PublicFormat.SubjectPublicKeyInfo
        self.path("sa.pub").write_bytes(sa_key.public_key().public_bytes(serialization.Encoding.PEM, spki))
        return self

    def _new_ca(self, name: str, common_name: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        """Write ``<name>.crt``/``<name>.key``: a self-signed CA valid for 30 days."""
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                    key_encipherment=False, data_encipherment=False, key_agreement=False,
                    encipher_only=False, decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        self.path(f"{name}.key").write_bytes(_pem_key(key))
        self.path(f"{name}.crt").write_bytes(_pem_cert(cert))
        return key, cert

    def issue(
        self,
        name: str,
        common_name: str,
        *,
        orgs: list[str] | None = None,
        server: bool = False,
        dns: list[str] | None = None,
        ips: list[str] | None = None,
    ) -> None:
        """Write ``<name>.crt``/``<name>.key``: a client certificate, or a serving one with SANs."""
        key = ec.generate_private_key(ec.SECP256R1())
        attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in orgs or []]
        attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
        now = dt.datetime.now(dt.UTC)
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name(attrs))
            .issuer_name(self.ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.ca_key.public_key()), critical=False
            )
        )
        if server:
            sans: list[x509.GeneralName] = [x509.DNSName(d) for d in dns or []]
            sans += [x509.IPAddress(ipaddress.ip_address(i)) for i in ips or []]
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        cert = builder.sign(self.ca_key, hashes.SHA256())
        self.path(f"{name}.key").write_bytes(_pem_key(key))
        self.path(f"{name}.crt").write_bytes(_pem_cert(cert))


def _b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def write_kubeconfig(
    path: Path,
    server: str,
    ca_file: Path,
    *,
    user: str,
    cert_file: Path | None = None,
    key_file: Path | None = None,
    token: str | None = None,
    namespace: str | None = None,
) -> Path:
    """A self-contained kubeconfig (credentials inlined), so it can be copied or mounted anywhere."""
    creds: dict[str, str] = {}
    if cert_file is not None and key_file is not None:
        creds = {"client-certificate-data": _b64(cert_file), "client-key-data": _b64(key_file)}
    if token is not None:
        creds["token"] = token
    context: dict[str, str] = {"cluster": "req1-test", "user": user}
    if namespace:
        context["namespace"] = namespace
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "req1-test", "cluster": {"server": server, "certificate-authority-data": _b64(ca_file)}}],
        "users": [{"name": user, "user": creds}],
        "contexts": [{"name": "req1-test", "context": context}],
        "current-context": "req1-test",
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    path.chmod(0o600)
    return path


# ----------------------------------------------------------------------------------------- probes


def https_ok(url: str, context: ssl.SSLContext, timeout: float = 1.0) -> bool:
    """True when GET url answers 200 (any connection or HTTP error is just "not yet")."""
    try:
        with urllib.request.urlopen(url, timeout=timeout, context=context) as resp:  # noqa: S310 (our URL)
            return int(resp.status) == 200
    except (urllib.error.URLError, OSError, ssl.SSLError):
        return False


def http_ok(url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 (our URL)
            return int(resp.status) == 200
    except (urllib.error.URLError, OSError):
        return False


def insecure_context() -> ssl.SSLContext:
    """For the self-signed health endpoints of controller-manager and scheduler on loopback."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


# ---------------------------------------------------------------------------------------- cluster


@dataclass
class Ports:
    etcd: int = 0
    etcd_peer: int = 0
    apiserver: int = 0
    controller_manager: int = 0
    scheduler: int = 0
    kwok: int = 0

    @classmethod
    def allocate(cls) -> Ports:
        return cls(*(free_port() for _ in range(6)))


class KubeCluster:
    """One local control plane living in ``workdir``; ``kubeconfig`` is the admin kubeconfig.

    ``start`` always builds a fresh cluster (new PKI, empty etcd): it is throwaway by design. The
    state needed to stop or inspect it from another process is in ``<workdir>/cluster.json``.
    """

    def __init__(
        self, workdir: Path | None = None, *, nodes: int = 3, process_nodes: int = 0, timeout: float = 120.0
    ) -> None:
        self.workdir = Path(workdir) if workdir is not None else DEFAULT_DIR
        self.nodes = nodes
        self.process_nodes = process_nodes
        self.timeout = timeout
        self.ports = Ports()
        self.started_seconds: float | None = None
        self.timings: dict[str, float] = {}

    # -- paths and state

    @property
    def kubeconfig(self) -> Path:
        return self.workdir / "kubeconfig"

    @property
    def pki(self) -> Pki:
        return Pki(self.workdir / "pki")

    @property
    def state_file(self) -> Path:
        return self.workdir / "cluster.json"

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.ports.apiserver}"

    def _load_state(self) -> None:
        with contextlib.suppress(FileNotFoundError, ValueError, TypeError):
            state = json.loads(self.state_file.read_text())
            self.ports = Ports(**state["ports"])
            self.nodes = int(state.get("nodes", self.nodes))
            self.process_nodes = int(state.get("process_nodes", 0))

    @property
    def fabric_dir(self) -> Path:
        return self.workdir / "fabric"

    @property
    def process_node_names(self) -> list[str]:
        return [f"{PROCESS_NODE_PREFIX}{i}" for i in range(self.process_nodes)]

    def components(self) -> list[str]:
        """Every process of this cluster, in stop order."""
        agents = [NODE_AGENT_PREFIX + n for n in self.process_node_names]
        return [*agents, *(c for c in STOP_ORDER if c != "podnet" or self.process_nodes)]

    def pids(self) -> dict[str, int | None]:
        """Recorded PID per component (None when no PID file)."""
        return {name: ManagedProcess(name, [], self.workdir).pid for name in self.components()}

    def running(self) -> dict[str, bool]:
        return {name: pid is not None and pid_alive(pid) for name, pid in self.pids().items()}

    # -- lifecycle

    def start(self, workdir: Path | None = None) -> KubeCluster:
        """Start every component, create the nodes and the default StorageClass, wait until usable."""
        if workdir is not None:
            self.workdir = Path(workdir)
        kube, kwok = require_binaries()
        began = time.monotonic()
        self.stop()  # leftovers of an earlier run in this directory, by their recorded PIDs
        for stale in ("etcd-data", "pki", "volumes", "kubeconfigs", "nodes", "fabric"):
            shutil.rmtree(self.workdir / stale, ignore_errors=True)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.ports = Ports.allocate()
        self.timings = {}
        self.state_file.write_text(json.dumps(self._state(), indent=2))
        try:
            extra_ips: tuple[str, ...] = ()
            if self.process_nodes:
                net = self.fabric().up()
                extra_ips = (net.apiserver_ip, net.host_ip)
            pki = self.pki.generate(extra_ips)
            self._start_components(kube, kwok, pki)
        except BaseException:
            self.stop()
            raise
        self.started_seconds = time.monotonic() - began
        state = {
            **self._state(),
            "server": self.server,
            "started_seconds": round(self.started_seconds, 2),
            "timings": self.timings,
        }
        self.state_file.write_text(json.dumps(state, indent=2))
        return self

    def _state(self) -> dict[str, Any]:
        return {"ports": self.ports.__dict__, "nodes": self.nodes, "process_nodes": self.process_nodes}

    def fabric(self) -> Any:
        """The pod network of the process nodes (:class:`req1_testenv.podnet.fabric.Fabric`)."""
        from req1_testenv.podnet.fabric import Fabric

        return Fabric(self.fabric_dir)

    def _admission_config(self) -> Path:
        """PodNodeSelector: pods go to the KWOK nodes unless their namespace asks for process nodes."""
        default = KWOK_NODE_SELECTOR if self.nodes else PROCESS_NODE_SELECTOR
        selector = self.workdir / "podnodeselector.yaml"
        selector.write_text(yaml.safe_dump({"podNodeSelectorPluginConfig": {"clusterDefaultNodeSelector": default}}))
        config = self.workdir / "admission.yaml"
        config.write_text(yaml.safe_dump({
            "apiVersion": "apiserver.config.k8s.io/v1",
            "kind": "AdmissionConfiguration",
            "plugins": [{"name": "PodNodeSelector", "path": str(selector)}],
        }))
        return config

    def _kubeconfig_for(self, pki: Pki, name: str) -> Path:
        return write_kubeconfig(
            self.workdir / "kubeconfigs" / f"{name}.kubeconfig", self.server, pki.path("ca.crt"),
            user=name, cert_file=pki.path(f"{name}.crt"), key_file=pki.path(f"{name}.key"),
        )

    def _start_components(self, kube_path: Path, kwok_path: Path, pki: Pki) -> None:
        p, wd = self.ports, self.workdir
        kube, kwok = str(kube_path), str(kwok_path)
        write_kubeconfig(
            self.kubeconfig, self.server, pki.path("ca.crt"),
            user="req1-admin", cert_file=pki.path("admin.crt"), key_file=pki.path("admin.key"),
        )
        admin_ctx = ssl.create_default_context(cafile=str(pki.path("ca.crt")))
        admin_ctx.load_cert_chain(pki.path("admin.crt"), pki.path("admin.key"))
        loose = insecure_context()

        self._launch(ManagedProcess(
            "etcd",
            [kube, "etcd", "--data-dir", str(wd / "etcd-data"),
             "--listen-client-url", f"http://127.0.0.1:{p.etcd}",
             "--listen-peer-url", f"http://127.0.0.1:{p.etcd_peer}"],
            wd, ready=lambda: http_ok(f"http://127.0.0.1:{p.etcd}/health"), timeout=30,
        ))

        self._launch(ManagedProcess(
            "kube-apiserver",
            [kube, "kube-apiserver",
             f"--etcd-servers=http://127.0.0.1:{p.etcd}",
             "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", f"--secure-port={p.apiserver}",
             f"--cert-dir={wd / 'pki'}",
             f"--tls-cert-file={pki.path('apiserver.crt')}", f"--tls-private-key-file={pki.path('apiserver.key')}",
             f"--client-ca-file={pki.path('ca.crt')}",
             f"--requestheader-client-ca-file={pki.path('front-proxy-ca.crt')}",
             "--requestheader-allowed-names=front-proxy-client",
             "--requestheader-username-headers=X-Remote-User",
             "--requestheader-group-headers=X-Remote-Group",
             "--requestheader-extra-headers-prefix=X-Remote-Extra-",
             f"--proxy-client-cert-file={pki.path('front-proxy-client.crt')}",
             f"--proxy-client-key-file={pki.path('front-proxy-client.key')}",
             f"--service-account-issuer={SA_ISSUER}",
             f"--service-account-key-file={pki.path('sa.pub')}",
             f"--service-account-signing-key-file={pki.path('sa.key')}",
             f"--service-cluster-ip-range={self.service_cidr}",
             "--authorization-mode=Node,RBAC",
             "--enable-admission-plugins=NodeRestriction,PodNodeSelector",
             f"--admission-control-config-file={self._admission_config()}",
             # 127.0.0.1 is not a valid Endpoints address; nothing ever dials the Service anyway.
             "--endpoint-reconciler-type=none",
             "--allow-privileged=true",
             "--profiling=false",
             "--event-ttl=15m"],
            wd, ready=lambda: https_ok(f"{self.server}/readyz", admin_ctx), timeout=self.timeout,
        ))

        kcm = self._kubeconfig_for(pki, "kube-controller-manager")
        self._launch(ManagedProcess(
            "kube-controller-manager",
            [kube, "kube-controller-manager",
             f"--kubeconfig={kcm}", f"--authentication-kubeconfig={kcm}", f"--authorization-kubeconfig={kcm}",
             "--bind-address=127.0.0.1", f"--secure-port={p.controller_manager}", f"--cert-dir={wd / 'pki'}",
             "--leader-elect=false",
             "--use-service-account-credentials=true",
             f"--service-account-private-key-file={pki.path('sa.key')}",
             f"--root-ca-file={pki.path('ca.crt')}",
             f"--cluster-signing-cert-file={pki.path('ca.crt')}",
             f"--cluster-signing-key-file={pki.path('ca.key')}",
             "--controllers=*,-node-ipam-controller",
             "--kube-api-qps=100", "--kube-api-burst=200",
             # Quick garbage collection of finished CronJob/Job pods keeps namespaces tidy.
             "--terminated-pod-gc-threshold=100"],
            wd, ready=lambda: https_ok(f"https://127.0.0.1:{p.controller_manager}/healthz", loose),
            timeout=self.timeout,
        ))

        sched = self._kubeconfig_for(pki, "kube-scheduler")
        self._launch(ManagedProcess(
            "kube-scheduler",
            [kube, "kube-scheduler",
             f"--kubeconfig={sched}", f"--authentication-kubeconfig={sched}", f"--authorization-kubeconfig={sched}",
             "--bind-address=127.0.0.1", f"--secure-port={p.scheduler}", f"--cert-dir={wd / 'pki'}",
             "--leader-elect=false"],
            wd, ready=lambda: https_ok(f"https://127.0.0.1:{p.scheduler}/healthz", loose), timeout=self.timeout,
        ))

        prov_log = wd / "provisioner.log"
        prov_log.unlink(missing_ok=True)
        self._launch(ManagedProcess(
            "provisioner",
            [kube, "provisioner", f"--kubeconfig={self._kubeconfig_for(pki, 'provisioner')}",
             f"--name={PROVISIONER}", f"--root={wd / 'volumes'}"],
            wd, ready=lambda: prov_log.exists() and " ready, volumes under " in prov_log.read_text(errors="replace"),
            timeout=self.timeout,
        ))

        began = time.monotonic()
        self._bootstrap_objects()
        self.timings["nodes+storageclass"] = round(time.monotonic() - began, 2)

        stages = wd / "kwok-stages.yaml"
        stages.write_bytes(subprocess.run([kube, "kwok-stages"], check=True, capture_output=True).stdout)
        self._launch(ManagedProcess(
            "kwok",
            [kwok, f"--kubeconfig={self._kubeconfig_for(pki, 'kwok')}", f"--config={stages}",
             "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
             f"--cidr={POD_CIDR}", f"--node-ip={KWOK_NODE_IP}",
             "--node-lease-duration-seconds=40",
             f"--server-address=127.0.0.1:{p.kwok}"],
            wd, env={"HOME": str(wd)},  # keep kwok away from a ~/.kwok/kwok.yaml of the user
            ready=lambda: http_ok(f"http://127.0.0.1:{p.kwok}/healthz"), timeout=self.timeout,
        ))

        if self.process_nodes:
            self._start_process_nodes(pki)

        began = time.monotonic()
        self.wait_ready(timeout=self.timeout)
        self.timings["nodes-ready"] = round(time.monotonic() - began, 2)

    @property
    def service_cidr(self) -> str:
        return str(self.fabric().config.service_cidr) if self.process_nodes else SERVICE_CIDR

    def _start_process_nodes(self, pki: Pki) -> None:
        """The pod network's agent (Services, DNS, the API server for pods), then one node agent per node."""
        from req1_testenv.podnet.agent import agent_process

        agent_kubeconfig = self._kubeconfig_for(pki, "node-agent")
        apiserver = f"127.0.0.1:{self.ports.apiserver}"
        self._launch(agent_process(self.fabric_dir, self.workdir, agent_kubeconfig, apiserver))
        for i, name in enumerate(self.process_node_names):
            self._launch(self.node_agent(name, i))

    def node_agent(self, name: str, index: int | None = None) -> ManagedProcess:
        """The node agent process of one process node (started by ``start``, or again by ``node_up``)."""
        index = self.process_node_names.index(name) if index is None else index
        ready = self.workdir / "nodes" / name / "ready"
        ready.unlink(missing_ok=True)
        return ManagedProcess(
            NODE_AGENT_PREFIX + name,
            [sys.executable, "-m", "req1_testenv.kubelet.agent", "--node", name, "--cluster-dir", str(self.workdir),
             "--kubeconfig", str(self.workdir / "kubeconfigs" / "node-agent.kubeconfig"),
             "--zone", f"zone-{index % 3}"],
            self.workdir, ready=ready.exists, timeout=self.timeout,
        )

    def node_down(self, name: str) -> None:
        """A node dies: its agent and every process of its pods are killed, its network is cut, its Lease lapses."""
        from req1_testenv.kubelet.faults import kill_node

        ManagedProcess(NODE_AGENT_PREFIX + name, [], self.workdir, stop_signal=signal.SIGKILL).stop(timeout=5)
        kill_node(self.workdir, name)
        self.fabric().cut_node(name)

    def node_up(self, name: str) -> None:
        """The node comes back: network healed, agent started (it cleans the old processes, as after a reboot)."""
        self.fabric().heal_node(name)
        self.node_agent(name).start()

    def _launch(self, process: ManagedProcess) -> None:
        """Start one component and note how long it took to become ready."""
        began = time.monotonic()
        process.start()
        self.timings[process.name] = round(time.monotonic() - began, 2)

    def _bootstrap_objects(self) -> None:
        """The default StorageClass and the fake nodes (KWOK turns them Ready)."""
        from kubernetes import client

        with self.api_client() as api:
            storage = client.StorageV1Api(api)
            storage.create_storage_class(
                client.V1StorageClass(
                    metadata=client.V1ObjectMeta(
                        name=STORAGE_CLASS,
                        annotations={"storageclass.kubernetes.io/is-default-class": "true"},
                    ),
                    provisioner=PROVISIONER,
                    reclaim_policy="Delete",
                    volume_binding_mode="Immediate",
                    allow_volume_expansion=True,
                )
            )
            core = client.CoreV1Api(api)
            for i in range(self.nodes):
                name = f"kwok-node-{i}"
                core.create_node(
                    client.V1Node(
                        metadata=client.V1ObjectMeta(
                            name=name,
                            labels={
                                "kubernetes.io/hostname": name,
                                "kubernetes.io/os": "linux",
                                "kubernetes.io/arch": "amd64",
                                "topology.kubernetes.io/zone": f"zone-{i % 3}",
                                "type": "kwok",
                            },
                            annotations={"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
                        ),
                        status=client.V1NodeStatus(allocatable=NODE_ALLOCATABLE, capacity=NODE_ALLOCATABLE),
                    )
                )

    def wait_ready(self, timeout: float = 120.0) -> None:
        """Until every node is Ready and untainted and the default ServiceAccount exists."""
        from kubernetes import client
        from kubernetes.client.exceptions import ApiException

        deadline = time.monotonic() + timeout
        last = "no answer yet"
        with self.api_client() as api:
            core = client.CoreV1Api(api)
            while time.monotonic() < deadline:
                try:
                    nodes = core.list_node().items
                    ready = [n for n in nodes if node_ready(n) and not n.spec.taints]
                    core.read_namespaced_service_account("default", "default")
                    if nodes and len(ready) == len(nodes):
                        return
                    last = f"{len(ready)}/{len(nodes)} nodes Ready and untainted"
                except ApiException as exc:
                    last = f"{exc.status} {exc.reason}"
                time.sleep(0.25)
        raise ServiceStartError(f"cluster in {self.workdir} not ready within {timeout:.0f}s: {last}")

    def stop(self) -> None:
        """Stop every component by its recorded PID, kubelets first and etcd last, then the pod network."""
        agents = sorted(p.name.removesuffix(".pid") for p in self.workdir.glob(f"{NODE_AGENT_PREFIX}*.pid"))
        for name in [*agents, *STOP_ORDER]:
            ManagedProcess(name, [], self.workdir).stop(timeout=30)
        if (self.fabric_dir).exists():
            from req1_testenv.kubelet.faults import kill_all

            kill_all(self.workdir)
            self.fabric().down()

    # -- clients

    def api_client(self, kubeconfig: Path | None = None) -> Any:
        """A ``kubernetes.client.ApiClient`` for the admin (or the given) kubeconfig; close it after use."""
        from kubernetes import config

        return config.new_client_from_config(config_file=str(kubeconfig or self.kubeconfig))

    def service_account_kubeconfig(
        self,
        namespace: str,
        name: str,
        path: Path | None = None,
        *,
        expiration_seconds: int = 24 * 3600,
        create: bool = True,
    ) -> Path:
        """A kubeconfig authenticating as ServiceAccount ``namespace/name`` with a TokenRequest token.

        This is how the operator is run in tests: with exactly the RBAC its ServiceAccount gets.
        """
        from kubernetes import client
        from kubernetes.client.exceptions import ApiException

        with self.api_client() as api:
            core = client.CoreV1Api(api)
            if create:
                try:
                    core.create_namespaced_service_account(
                        namespace, client.V1ServiceAccount(metadata=client.V1ObjectMeta(name=name))
                    )
                except ApiException as exc:
                    if exc.status != 409:
                        raise
            request = client.AuthenticationV1TokenRequest(
                spec=client.V1TokenRequestSpec(audiences=[], expiration_seconds=expiration_seconds)
            )
            token = core.create_namespaced_service_account_token(name, namespace, request).status.token
        target = path or self.workdir / "kubeconfigs" / f"sa-{namespace}-{name}.kubeconfig"
        return write_kubeconfig(
            target, self.server, self.pki.path("ca.crt"),
            user=f"system:serviceaccount:{namespace}:{name}", token=token, namespace=namespace,
        )

    @classmethod
    def attach(cls, workdir: Path) -> KubeCluster:
        """A handle on a cluster another process started in ``workdir`` (e.g. ``make cluster-up``)."""
        cluster = cls(workdir)
        cluster._load_state()
        return cluster


def node_ready(node: Any) -> bool:
    """True when a V1Node has condition Ready=True."""
    return any(c.type == "Ready" and c.status == "True" for c in (node.status.conditions or []))


# -------------------------------------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m req1_testenv.kube", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["up", "down", "status"])
    parser.add_argument("--dir", type=Path, default=Path(".run/cluster"), help="state directory")
    parser.add_argument("--nodes", type=int, default=3, help="number of fake nodes (up)")
    parser.add_argument("--process-nodes", type=int, default=0,
                        help="number of nodes whose pods run as processes (up); see docs/testing.md")
    args = parser.parse_args(argv)
    cluster = KubeCluster.attach(args.dir.resolve())
    running = cluster.running()

    if args.command == "down":
        cluster.stop()
        print(f"stopped the cluster in {args.dir}")
        return 0
    if args.command == "status":
        for name, alive in running.items():
            print(f"{name:24} {'running' if alive else 'stopped'}")
        if all(running.values()):
            print(f"server      {cluster.server}\nkubeconfig  {cluster.kubeconfig}")
            return 0
        return 1
    if all(running.values()):
        print(f"already running: {cluster.server}", file=sys.stderr)
    else:
        cluster.nodes = args.nodes
        cluster.process_nodes = args.process_nodes
        try:
            cluster.start()
        except ServiceStartError as exc:
            print(exc, file=sys.stderr)
            return 1
        print(f"cluster up in {cluster.started_seconds:.1f}s: {cluster.server}", file=sys.stderr)
    print(f"# export KUBECONFIG={cluster.kubeconfig}", file=sys.stderr)
    print(cluster.kubeconfig.read_text(), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
