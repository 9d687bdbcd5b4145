"""SeaweedFS object storage: master, volume and filer (with the S3 gateway) StatefulSets, their Services and
a Job creating the bucket. Nothing is rendered when `spec.storage.external` points at an external S3 service.
"""

from __future__ import annotations

from typing import Any

from req1_operator.render import config, names, pod
from req1_operator.render.types import RenderInput
from req1_operator.spec import SeaweedFSSpec, VolumeStorage

UID = 1000
LABEL_SW_ROLE = "req1.io/seaweedfs-role"
MASTER_PORT = 9333
VOLUME_PORT = 8080
FILER_PORT = 8888
GRPC_OFFSET = 10000


def _fqdn(inp: RenderInput, service: str) -> str:
    return f"{service}.{inp.namespace}.svc"


def masters(inp: RenderInput, sw: SeaweedFSSpec) -> str:
    """Comma-separated master addresses, each pod by its stable headless DNS name."""
    svc = names.seaweedfs_master(inp.name)
    return ",".join(f"{svc}-{i}.{_fqdn(inp, svc)}:{MASTER_PORT}" for i in range(sw.masters))


def _args(command: str, ip: str, port: int, *rest: str) -> list[str]:
    """`weed <command>` advertising `ip`, listening on every address at `port`, then the role's own flags."""
    return [command, f"-ip={ip}", "-ip.bind=0.0.0.0", f"-port={port}", *rest]


def _sel(inp: RenderInput, role: str) -> dict[str, str]:
    return {**names.selector(inp, names.SEAWEEDFS), LABEL_SW_ROLE: role}


def _ports(http: int, extra: list[tuple[str, int]] | None = None) -> list[dict[str, Any]]:
    ports = [
        {"name": "http", "containerPort": http, "protocol": "TCP"},
        {"name": "grpc", "containerPort": http + GRPC_OFFSET, "protocol": "TCP"},
    ]
    for name, port in extra or []:
        ports.append({"name": name, "containerPort": port, "protocol": "TCP"})
    return ports


def _statefulset(
    inp: RenderInput,
    sw: SeaweedFSSpec,
    role: str,
    name: str,
    replicas: int,
    args: list[str],
    ports: list[dict[str, Any]],
    probe_path: str,
    storage: VolumeStorage,
    secret_volume: bool = False,
) -> dict[str, Any]:
    sel = _sel(inp, role)
    probe_port = ports[0]["containerPort"]
    mounts: list[dict[str, Any]] = [{"name": "data", "mountPath": "/data"}, {"name": "tmp", "mountPath": "/tmp"}]
    volumes: list[dict[str, Any]] = [pod.tmp_volume()]
    if secret_volume:
        mounts.append({"name": "s3-config", "mountPath": "/etc/seaweedfs", "readOnly": True})
        volumes.append(
            {
                "name": "s3-config",
                "secret": {
                    "secretName": names.seaweedfs_s3_secret(inp.name),
                    "items": [{"key": "s3.json", "path": "s3.json"}],
                },
            }
        )
    container = {
        "name": role,
        "image": sw.image,
        "imagePullPolicy": inp.spec.image_pull_policy,
        "command": ["weed"],
        "args": args,
        "env": [
            pod.field_env("POD_NAME", "metadata.name"),
            pod.field_env("POD_IP", "status.podIP"),
            {"name": "HOME", "value": "/tmp"},  # the root filesystem is read-only
        ],
        "ports": ports,
        "resources": pod.resources(sw.resources),
        "securityContext": pod.container_security(),
        "volumeMounts": mounts,
        "readinessProbe": {
            "httpGet": {"path": probe_path, "port": probe_port},
            "periodSeconds": 10,
            "timeoutSeconds": 3,
            "failureThreshold": 3,
        },
        "livenessProbe": {"tcpSocket": {"port": probe_port}, "periodSeconds": 20, "failureThreshold": 6},
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": names.metadata(inp, name, names.SEAWEEDFS, **{LABEL_SW_ROLE: role}),
        "spec": {
            "replicas": replicas,
            "serviceName": name,
            "podManagementPolicy": "Parallel",
            "updateStrategy": {"type": "RollingUpdate"},
            "persistentVolumeClaimRetentionPolicy": pod.pvc_retention(inp.spec.deletion_policy),
            "selector": {"matchLabels": sel},
            "template": {
                "metadata": {"labels": {**names.labels(inp, names.SEAWEEDFS), LABEL_SW_ROLE: role}},
                "spec": {
                    **pod.base(inp),
                    "securityContext": pod.pod_security(UID),
                    "topologySpreadConstraints": pod.topology_spread(sel),
                    "containers": [container],
                    "volumes": volumes,
                },
            },
            "volumeClaimTemplates": [
                pod.pvc_template("data", storage.size, storage.storage_class_name, names.labels(inp, names.SEAWEEDFS))
            ],
        },
    }


def _service(inp: RenderInput, name: str, role: str, ports: list[tuple[str, int]], headless: bool) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "type": "ClusterIP",
        "selector": _sel(inp, role),
        "ports": [{"name": p, "port": port, "targetPort": port, "protocol": "TCP"} for p, port in ports],
    }
    if headless:
        spec["clusterIP"] = "None"
        spec["publishNotReadyAddresses"] = True  # masters must find each other before they are ready
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": names.metadata(inp, name, names.SEAWEEDFS, **{LABEL_SW_ROLE: role}),
        "spec": spec,
    }


def render_master(inp: RenderInput, sw: SeaweedFSSpec) -> list[dict[str, Any]]:
    name = names.seaweedfs_master(inp.name)
    args = _args(
        "master", f"$(POD_NAME).{_fqdn(inp, name)}", MASTER_PORT,
        "-mdir=/data", f"-peers={masters(inp, sw)}", f"-defaultReplication={sw.replication}", "-volumeSizeLimitMB=1024",
    )  # fmt: skip
    ports = [("http", MASTER_PORT), ("grpc", MASTER_PORT + GRPC_OFFSET)]
    return [
        _service(inp, name, "master", ports, headless=True),
        _statefulset(
            inp, sw, "master", name, sw.masters, args, _ports(MASTER_PORT), "/cluster/status", sw.master_storage
        ),
    ]


def render_volume(inp: RenderInput, sw: SeaweedFSSpec) -> list[dict[str, Any]]:
    name = names.seaweedfs_volume(inp.name)
    args = _args(
        "volume", "$(POD_IP)", VOLUME_PORT,
        "-dir=/data", "-max=0", f"-mserver={masters(inp, sw)}", "-dataCenter=dc1", "-rack=rack1",
    )  # fmt: skip
    ports = [("http", VOLUME_PORT), ("grpc", VOLUME_PORT + GRPC_OFFSET)]
    return [
        _service(inp, name, "volume", ports, headless=True),
        _statefulset(inp, sw, "volume", name, sw.volume_servers, args, _ports(VOLUME_PORT), "/status", sw.storage),
    ]


def render_filer(inp: RenderInput, sw: SeaweedFSSpec) -> list[dict[str, Any]]:
    name = names.seaweedfs_filer(inp.name)
    args = _args(
        "filer", "$(POD_IP)", FILER_PORT,
        f"-master={masters(inp, sw)}", "-defaultStoreDir=/data", "-s3", f"-s3.port={config.S3_PORT}",
        "-s3.config=/etc/seaweedfs/s3.json",
    )  # fmt: skip
    ports = [("s3", config.S3_PORT), ("http", FILER_PORT), ("grpc", FILER_PORT + GRPC_OFFSET)]
    return [
        _service(inp, name, "filer", ports, headless=False),
        _statefulset(
            inp,
            sw,
            "filer",
            name,
            1,
            args,
            _ports(FILER_PORT, [("s3", config.S3_PORT)]),
            "/",
            sw.filer_storage,
            secret_volume=True,
        ),
    ]


def render_bucket_job(inp: RenderInput, sw: SeaweedFSSpec) -> dict[str, Any]:
    """Create the attachments bucket once the filer answers (idempotent: an existing bucket is left alone)."""
    bucket = inp.spec.storage.bucket
    filer = f"{_fqdn(inp, names.seaweedfs_filer(inp.name))}:{FILER_PORT}"
    script = (
        "set -eu\n"
        f"until echo 's3.bucket.list' | weed shell -master={masters(inp, sw)} -filer={filer} > /tmp/buckets; do\n"
        "  echo 'waiting for SeaweedFS'; sleep 5\n"
        "done\n"
        f"if grep -qw '{bucket}' /tmp/buckets; then echo 'bucket {bucket} exists'; exit 0; fi\n"
        f"echo 's3.bucket.create -name {bucket}' | weed shell -master={masters(inp, sw)} -filer={filer}\n"
    )
    labels = {**names.labels(inp, names.SEAWEEDFS), LABEL_SW_ROLE: "bucket-job"}
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": names.metadata(inp, names.seaweedfs_bucket_job(inp.name), names.SEAWEEDFS),
        "spec": {
            "backoffLimit": 10,
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "restartPolicy": "OnFailure",
                    **pod.base(inp),
                    "securityContext": pod.pod_security(UID),
                    "containers": [
                        {
                            "name": "create-bucket",
                            "image": sw.image,
                            "imagePullPolicy": inp.spec.image_pull_policy,
                            "command": ["sh", "-c", script],
                            "env": [{"name": "HOME", "value": "/tmp"}],
                            "securityContext": pod.container_security(),
                            "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
                        }
                    ],
                    "volumes": [pod.tmp_volume()],
                },
            },
        },
    }


def render(inp: RenderInput) -> list[dict[str, Any]]:
    sw = inp.spec.storage.effective_seaweedfs
    if sw is None:
        return []
    return [*render_master(inp, sw), *render_volume(inp, sw), *render_filer(inp, sw), render_bucket_job(inp, sw)]
