"""The local Kubernetes control plane behaves like a real cluster for what the operator relies on.

Every check waits for a real state with a deadline and fails with the last state it saw.
"""

from __future__ import annotations

import json
import subprocess
import threading
import uuid
from pathlib import Path
from typing import TypeVar

import pytest
from kubernetes import client, dynamic, watch
from kubernetes.client.exceptions import ApiException

from req1_testenv.kube import STORAGE_CLASS, KubeCluster, node_ready, require_binaries
from req1_testenv.process import ServiceStartError
from req1_testenv.waiting import wait_for

T = TypeVar("T")

IMAGE = "registry.invalid/req1/smoke:1"  # never pulled: KWOK fakes the kubelets




def labels(name: str) -> dict[str, str]:
    return {"app": name}


def pod_template(name: str) -> client.V1PodTemplateSpec:
    return client.V1PodTemplateSpec(
        metadata=client.V1ObjectMeta(labels=labels(name)),
        spec=client.V1PodSpec(
            containers=[
                client.V1Container(
                    name="main",
                    image=IMAGE,
                    resources=client.V1ResourceRequirements(requests={"cpu": "100m", "memory": "64Mi"}),
                )
            ]
        ),
    )


def test_missing_binary_names_the_make_target(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("REQ1_KUBE_BIN", str(tmp_path / "nope"))
    with pytest.raises(ServiceStartError, match="make cluster-build"):
        require_binaries()


def test_kubectl_sees_ready_nodes(kube_cluster: KubeCluster) -> None:
    out = subprocess.run(
        ["kubectl", "--kubeconfig", str(kube_cluster.kubeconfig), "get", "nodes", "-o", "json"],
        check=True, capture_output=True, text=True, timeout=30,
    ).stdout
    nodes = json.loads(out)["items"]
    assert len(nodes) >= 2
    for node in nodes:
        ready = [c for c in node["status"]["conditions"] if c["type"] == "Ready"]
        assert ready and ready[0]["status"] == "True", node["metadata"]["name"]
        assert int(node["status"]["allocatable"]["pods"]) >= 100
    table = subprocess.run(
        ["kubectl", "--kubeconfig", str(kube_cluster.kubeconfig), "get", "nodes", "--no-headers"],
        check=True, capture_output=True, text=True, timeout=30,
    ).stdout
    assert all(" Ready " in line for line in table.strip().splitlines()), table


def test_deployment_pods_are_scheduled_and_ready(kube_api: client.ApiClient, kube_namespace: str) -> None:
    apps, core = client.AppsV1Api(kube_api), client.CoreV1Api(kube_api)
    apps.create_namespaced_deployment(
        kube_namespace,
        client.V1Deployment(
            metadata=client.V1ObjectMeta(name="web"),
            spec=client.V1DeploymentSpec(
                replicas=3, selector=client.V1LabelSelector(match_labels=labels("web")), template=pod_template("web")
            ),
        ),
    )

    def ready() -> int | None:
        status = apps.read_namespaced_deployment_status("web", kube_namespace).status
        return status.ready_replicas if status.ready_replicas == 3 else None

    wait_for(ready, 60, "Deployment web to have 3 ready replicas")
    pods = core.list_namespaced_pod(kube_namespace, label_selector="app=web").items
    assert len(pods) == 3
    for pod in pods:
        assert pod.spec.node_name, "the real scheduler bound the pod to a node"
        assert pod.status.phase == "Running"
        assert pod.status.pod_ip
        # ServiceAccount admission mounted a token volume; the token controller/issuer are live.
        assert any(v.projected is not None for v in pod.spec.volumes or [])


def test_statefulset_with_volume_claims_becomes_ready(kube_api: client.ApiClient, kube_namespace: str) -> None:
    apps, core = client.AppsV1Api(kube_api), client.CoreV1Api(kube_api)
    claim = client.V1PersistentVolumeClaim(
        metadata=client.V1ObjectMeta(name="data"),
        spec=client.V1PersistentVolumeClaimSpec(
            access_modes=["ReadWriteOnce"], resources=client.V1VolumeResourceRequirements(requests={"storage": "1Gi"})
        ),
    )
    apps.create_namespaced_stateful_set(
        kube_namespace,
        client.V1StatefulSet(
            metadata=client.V1ObjectMeta(name="db"),
            spec=client.V1StatefulSetSpec(
                replicas=2,
                service_name="db",
                selector=client.V1LabelSelector(match_labels=labels("db")),
                template=pod_template("db"),
                volume_claim_templates=[claim],
            ),
        ),
    )

    def ready() -> int | None:
        status = apps.read_namespaced_stateful_set_status("db", kube_namespace).status
        return status.ready_replicas if status.ready_replicas == 2 else None

    wait_for(ready, 90, "StatefulSet db to have 2 ready replicas")
    pvcs = core.list_namespaced_persistent_volume_claim(kube_namespace).items
    assert sorted(p.metadata.name for p in pvcs) == ["data-db-0", "data-db-1"]
    for pvc in pvcs:
        assert pvc.status.phase == "Bound"
        assert pvc.spec.storage_class_name == STORAGE_CLASS, "the default StorageClass was applied"
        pv = core.read_persistent_volume(pvc.spec.volume_name)
        assert pv.spec.claim_ref.uid == pvc.metadata.uid
        assert pv.spec.host_path is not None and Path(pv.spec.host_path.path).is_dir()


def test_cronjob_creates_a_job_that_completes(kube_api: client.ApiClient, kube_namespace: str) -> None:
    batch = client.BatchV1Api(kube_api)
    template = pod_template("tick")
    template.spec.restart_policy = "Never"
    batch.create_namespaced_cron_job(
        kube_namespace,
        client.V1CronJob(
            metadata=client.V1ObjectMeta(name="tick"),
            spec=client.V1CronJobSpec(
                schedule="* * * * *",
                job_template=client.V1JobTemplateSpec(spec=client.V1JobSpec(template=template, backoff_limit=0)),
            ),
        ),
    )

    def owned_job() -> client.V1Job | None:
        for job in batch.list_namespaced_job(kube_namespace).items:
            if any(o.kind == "CronJob" and o.name == "tick" for o in job.metadata.owner_references or []):
                return job
        return None

    job = wait_for(owned_job, 75, "the cronjob controller to create a Job", interval=1)

    def succeeded() -> int | None:
        return batch.read_namespaced_job_status(job.metadata.name, kube_namespace).status.succeeded

    wait_for(succeeded, 60, f"Job {job.metadata.name} to succeed")


def test_crd_custom_object_is_watched(kube_api: client.ApiClient, kube_namespace: str) -> None:
    ext = client.ApiextensionsV1Api(kube_api)
    group, plural = f"s{uuid.uuid4().hex[:8]}.smoke.req1.dev", "widgets"
    ext.create_custom_resource_definition(
        client.V1CustomResourceDefinition(
            metadata=client.V1ObjectMeta(name=f"{plural}.{group}"),
            spec=client.V1CustomResourceDefinitionSpec(
                group=group,
                scope="Namespaced",
                names=client.V1CustomResourceDefinitionNames(plural=plural, singular="widget", kind="Widget"),
                versions=[
                    client.V1CustomResourceDefinitionVersion(
                        name="v1",
                        served=True,
                        storage=True,
                        subresources=client.V1CustomResourceSubresources(status={}),
                        schema=client.V1CustomResourceValidation(
                            open_apiv3_schema=client.V1JSONSchemaProps(
                                type="object",
                                properties={
                                    "spec": client.V1JSONSchemaProps(
                                        type="object", properties={"size": client.V1JSONSchemaProps(type="integer")}
                                    ),
                                    "status": client.V1JSONSchemaProps(
                                        type="object", x_kubernetes_preserve_unknown_fields=True
                                    ),
                                },
                            )
                        ),
                    )
                ],
            ),
        )
    )
    try:

        def established() -> bool:
            crd = ext.read_custom_resource_definition(f"{plural}.{group}")
            return any(c.type == "Established" and c.status == "True" for c in crd.status.conditions or [])

        wait_for(established, 30, "the CRD to be Established")
        custom = client.CustomObjectsApi(kube_api)
        events: list[tuple[str, str]] = []
        # Watching from the list's resourceVersion sees every later change, however late the thread runs.
        since = custom.list_namespaced_custom_object(group, "v1", kube_namespace, plural)["metadata"]["resourceVersion"]

        def watch_widgets() -> None:
            w = watch.Watch()
            for event in w.stream(
                custom.list_namespaced_custom_object, group, "v1", kube_namespace, plural,
                resource_version=since, timeout_seconds=20,
            ):
                events.append((event["type"], event["object"]["metadata"]["name"]))
                if ("MODIFIED", "w1") in events:
                    w.stop()

        watcher = threading.Thread(target=watch_widgets, daemon=True)
        watcher.start()
        body = {"apiVersion": f"{group}/v1", "kind": "Widget", "metadata": {"name": "w1"}, "spec": {"size": 3}}
        custom.create_namespaced_custom_object(group, "v1", kube_namespace, plural, body)
        custom.patch_namespaced_custom_object_status(
            group, "v1", kube_namespace, plural, "w1", {"status": {"phase": "Ready"}}
        )
        watcher.join(25)
        assert events[:1] == [("ADDED", "w1")], events
        assert ("MODIFIED", "w1") in events
        with pytest.raises(ApiException) as invalid:
            bad = {**body, "metadata": {"name": "w2"}, "spec": {"size": "big"}}
            custom.create_namespaced_custom_object(group, "v1", kube_namespace, plural, bad)
        assert invalid.value.status == 422, "the structural schema is enforced"
    finally:
        ext.delete_custom_resource_definition(f"{plural}.{group}")


def test_server_side_apply(kube_api: client.ApiClient, kube_namespace: str) -> None:
    configmaps = dynamic.DynamicClient(kube_api).resources.get(api_version="v1", kind="ConfigMap")
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": {"mode": "a"}}

    first = configmaps.server_side_apply(body=body, namespace=kube_namespace, field_manager="req1-operator")
    again = configmaps.server_side_apply(body=body, namespace=kube_namespace, field_manager="req1-operator")
    assert again.metadata.resourceVersion == first.metadata.resourceVersion, "re-applying is a no-op"
    managers = [m.manager for m in again.metadata.managedFields]
    assert managers == ["req1-operator"]

    other = {**body, "data": {"mode": "b"}}
    with pytest.raises(ApiException) as conflict:
        configmaps.server_side_apply(body=other, namespace=kube_namespace, field_manager="someone-else")
    assert conflict.value.status == 409
    detail = conflict.value.body
    assert "data.mode" in (detail.decode() if isinstance(detail, bytes) else str(detail))

    forced = configmaps.server_side_apply(
        body=other, namespace=kube_namespace, field_manager="someone-else", force_conflicts=True
    )
    assert forced.data.mode == "b"
    assert [m.manager for m in forced.metadata.managedFields] == ["someone-else"]


def test_deleting_owner_garbage_collects_children(kube_api: client.ApiClient, kube_namespace: str) -> None:
    core, apps = client.CoreV1Api(kube_api), client.AppsV1Api(kube_api)
    owner = core.create_namespaced_config_map(
        kube_namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="owner"))
    )
    ref = client.V1OwnerReference(api_version="v1", kind="ConfigMap", name="owner", uid=owner.metadata.uid)
    for i in range(3):
        core.create_namespaced_secret(
            kube_namespace,
            client.V1Secret(metadata=client.V1ObjectMeta(name=f"child-{i}", owner_references=[ref])),
        )
    core.delete_namespaced_config_map("owner", kube_namespace, propagation_policy="Background")

    def children_gone() -> bool:
        names = [s.metadata.name for s in core.list_namespaced_secret(kube_namespace).items]
        return not any(n.startswith("child-") for n in names)

    wait_for(children_gone, 30, "the garbage collector to delete the owned Secrets")

    # The same machinery cascades through built-in controllers: Deployment -> ReplicaSet -> Pods.
    apps.create_namespaced_deployment(
        kube_namespace,
        client.V1Deployment(
            metadata=client.V1ObjectMeta(name="gone"),
            spec=client.V1DeploymentSpec(
                replicas=1, selector=client.V1LabelSelector(match_labels=labels("gone")), template=pod_template("gone")
            ),
        ),
    )
    wait_for(lambda: core.list_namespaced_pod(kube_namespace, label_selector="app=gone").items, 30, "a pod")
    apps.delete_namespaced_deployment("gone", kube_namespace, propagation_policy="Foreground")
    wait_for(
        lambda: not core.list_namespaced_pod(kube_namespace, label_selector="app=gone").items
        and not apps.list_namespaced_replica_set(kube_namespace, label_selector="app=gone").items,
        60,
        "the ReplicaSet and Pod of a deleted Deployment to be collected",
    )


def test_service_account_kubeconfig_has_only_granted_rights(
    kube_cluster: KubeCluster, kube_api: client.ApiClient, kube_namespace: str
) -> None:
    path = kube_cluster.service_account_kubeconfig(kube_namespace, "robot")
    rbac = client.RbacAuthorizationV1Api(kube_api)
    with kube_cluster.api_client(path) as sa_api:
        sa_core = client.CoreV1Api(sa_api)
        with pytest.raises(ApiException) as denied:
            sa_core.list_namespaced_config_map(kube_namespace)
        assert denied.value.status == 403

        rbac.create_namespaced_role(
            kube_namespace,
            client.V1Role(
                metadata=client.V1ObjectMeta(name="read-cm"),
                rules=[client.V1PolicyRule(api_groups=[""], resources=["configmaps"], verbs=["get", "list"])],
            ),
        )
        rbac.create_namespaced_role_binding(
            kube_namespace,
            client.V1RoleBinding(
                metadata=client.V1ObjectMeta(name="read-cm"),
                role_ref=client.V1RoleRef(api_group="rbac.authorization.k8s.io", kind="Role", name="read-cm"),
                subjects=[client.RbacV1Subject(kind="ServiceAccount", name="robot", namespace=kube_namespace)],
            ),
        )

        def allowed() -> bool:
            try:
                names = [c.metadata.name for c in sa_core.list_namespaced_config_map(kube_namespace).items]
            except ApiException:
                return False
            return "kube-root-ca.crt" in names  # published by the controller-manager

        wait_for(allowed, 20, "the RoleBinding to let the ServiceAccount list ConfigMaps")
        with pytest.raises(ApiException) as still_denied:
            sa_core.list_node()
        assert still_denied.value.status == 403


def test_nodes_stay_ready(kube_cluster: KubeCluster, kube_api: client.ApiClient) -> None:
    """KWOK renews node leases, so the node lifecycle controller never marks nodes unreachable."""
    core = client.CoreV1Api(kube_api)
    leases = client.CoordinationV1Api(kube_api).list_namespaced_lease("kube-node-lease").items
    assert {lease.metadata.name for lease in leases} >= {n.metadata.name for n in core.list_node().items}
    for node in core.list_node().items:
        assert node_ready(node)
        assert not node.spec.taints, f"{node.metadata.name} tainted: {node.spec.taints}"
