"""SeaweedFS master, volume and filer/S3 StatefulSets; none of it with external S3."""

from __future__ import annotations

from typing import Any

from req1_operator.render import RenderInput, render_all, seaweedfs
from req1_operator.spec import parse_spec

EXTERNAL = {"external": {"endpoint": "https://s3.example.com", "bucket": "att", "secretName": "s3"}}


def make(spec: dict[str, Any] | None = None) -> RenderInput:
    return RenderInput(name="demo", namespace="ns", uid="u", spec=parse_spec(spec or {}))


def by_name(objs: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(o["kind"], o["metadata"]["name"]): o for o in objs}


def test_default_cluster() -> None:
    objs = by_name(seaweedfs.render(make()))
    master = objs[("StatefulSet", "demo-seaweedfs-master")]
    volume = objs[("StatefulSet", "demo-seaweedfs-volume")]
    filer = objs[("StatefulSet", "demo-seaweedfs-filer")]
    assert master["spec"]["replicas"] == 1
    assert volume["spec"]["replicas"] == 1
    args = filer["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "-s3" in args and "-s3.port=8333" in args
    assert "-s3.config=/etc/seaweedfs/s3.json" in args
    assert objs[("Service", "demo-seaweedfs-master")]["spec"]["clusterIP"] == "None"
    filer_svc = objs[("Service", "demo-seaweedfs-filer")]
    assert {p["name"]: p["port"] for p in filer_svc["spec"]["ports"]}["s3"] == 8333
    assert ("Job", "demo-seaweedfs-bucket") in objs


def test_sizing_is_applied() -> None:
    sw = {"masters": 3, "volumeServers": 4, "replication": "001", "storage": {"size": "50Gi"}}
    spec = {"storage": {"seaweedfs": sw}}
    objs = by_name(seaweedfs.render(make(spec)))
    master = objs[("StatefulSet", "demo-seaweedfs-master")]
    volume = objs[("StatefulSet", "demo-seaweedfs-volume")]
    assert master["spec"]["replicas"] == 3
    margs = master["spec"]["template"]["spec"]["containers"][0]["args"]
    peers = next(a for a in margs if a.startswith("-peers="))
    assert peers.count(",") == 2
    assert "demo-seaweedfs-master-2.demo-seaweedfs-master.ns.svc:9333" in peers
    assert "-defaultReplication=001" in margs
    assert volume["spec"]["replicas"] == 4
    assert volume["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] == "50Gi"


def test_external_s3_renders_no_seaweedfs_objects() -> None:
    inp = make({"storage": EXTERNAL})
    assert seaweedfs.render(inp) == []
    everything = render_all(inp)
    assert not [o for o in everything if "seaweedfs" in o["metadata"]["name"]]
    assert not [o for o in everything if o["metadata"]["labels"]["app.kubernetes.io/component"] == "seaweedfs"]


def test_bucket_job_creates_the_configured_bucket() -> None:
    objs = by_name(seaweedfs.render(make({"storage": {"bucket": "files"}})))
    script = objs[("Job", "demo-seaweedfs-bucket")]["spec"]["template"]["spec"]["containers"][0]["command"][2]
    assert "s3.bucket.create -name files" in script
