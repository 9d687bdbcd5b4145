"""PostgreSQL: primary and replica StatefulSets, Services by role, streaming replication, configuration."""

from __future__ import annotations

from typing import Any

from req1_operator.render import RenderInput, config, names, postgres
from req1_operator.spec import parse_spec


def make(spec: dict[str, Any] | None = None) -> RenderInput:
    return RenderInput(name="demo", namespace="ns", uid="u", spec=parse_spec(spec or {}))


def test_primary_statefulset() -> None:
    sts = postgres.render_primary(make())
    assert sts["metadata"]["name"] == "demo-postgres"
    assert sts["spec"]["replicas"] == 1
    assert sts["spec"]["serviceName"] == "demo-postgres-headless"
    pod_labels = sts["spec"]["template"]["metadata"]["labels"]
    assert pod_labels[names.LABEL_ROLE] == "primary"
    assert pod_labels[names.LABEL_COMPONENT] == "postgres"
    # The role label is mutable (failover moves it), so it must not be part of the immutable selector.
    assert names.LABEL_ROLE not in sts["spec"]["selector"]["matchLabels"]
    assert sts["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    pod = sts["spec"]["template"]["spec"]
    (c,) = pod["containers"]
    assert c["image"] == "postgres:16"
    assert "config_file=/etc/req1/postgres/postgresql.conf" in c["args"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    assert "initContainers" not in pod
    mounts = {m["mountPath"] for m in c["volumeMounts"]}
    assert "/docker-entrypoint-initdb.d" in mounts  # creates the app and replication roles on first start
    claim = sts["spec"]["volumeClaimTemplates"][0]
    assert claim["spec"]["resources"]["requests"]["storage"] == "10Gi"
    assert sts["spec"]["persistentVolumeClaimRetentionPolicy"] == {"whenDeleted": "Retain", "whenScaled": "Retain"}


def test_replica_statefulset_bootstraps_with_pg_basebackup() -> None:
    sts = postgres.render_replica(make({"postgres": {"replicas": 2}}))
    assert sts["metadata"]["name"] == "demo-postgres-replica"
    assert sts["spec"]["replicas"] == 2
    assert sts["spec"]["template"]["metadata"]["labels"][names.LABEL_ROLE] == "replica"
    (init,) = sts["spec"]["template"]["spec"]["initContainers"]
    assert init["command"] == ["sh", "/etc/req1/postgres/replica-bootstrap.sh"]
    env = {e["name"]: e for e in init["env"]}
    assert env["PRIMARY_HOST"]["value"] == "demo-postgres.ns.svc"
    assert env["REQ1_REPLICATION_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == "demo-postgres-replication"
    script = config.REPLICA_BOOTSTRAP_SH
    assert "pg_basebackup" in script and " -R" in script  # -R writes standby.signal + primary_conninfo


def test_two_statefulsets_never_select_each_others_pods() -> None:
    inp = make({"postgres": {"replicas": 1}})
    p_sel = postgres.render_primary(inp)["spec"]["selector"]["matchLabels"]
    r_labels = postgres.render_replica(inp)["spec"]["template"]["metadata"]["labels"]
    assert not p_sel.items() <= r_labels.items()


def test_services_select_by_role() -> None:
    svcs = {s["metadata"]["name"]: s for s in postgres.render_services(make())}
    assert svcs["demo-postgres"]["spec"]["selector"][names.LABEL_ROLE] == "primary"
    assert svcs["demo-postgres-replica"]["spec"]["selector"][names.LABEL_ROLE] == "replica"
    headless = svcs["demo-postgres-headless"]["spec"]
    assert headless["clusterIP"] == "None"
    assert names.LABEL_ROLE not in headless["selector"]


def test_replica_statefulset_exists_with_zero_replicas() -> None:
    assert postgres.render_replica(make())["spec"]["replicas"] == 0


def test_parameters_and_managed_settings() -> None:
    inp = make({"postgres": {"replicas": 1, "synchronousMode": True, "parameters": {"work_mem": "16MB"}}})
    conf = config.postgresql_conf(inp)
    assert "work_mem = '16MB'" in conf
    assert "wal_level = 'replica'" in conf
    assert "hot_standby = 'on'" in conf
    assert "synchronous_standby_names = 'ANY 1 (*)'" in conf
    assert "archive_mode = 'on'" in conf
    assert "archive_command = '/etc/req1/postgres/archive-wal.sh %p %f'" in conf
    assert "hba_file = '/etc/req1/postgres/pg_hba.conf'" in conf
    assert "synchronous_standby_names = ''" in config.postgresql_conf(make())


def test_quoting_of_parameter_values() -> None:
    conf = config.postgresql_conf(make({"postgres": {"parameters": {"search_path": "it's"}}}))
    assert "search_path = 'it''s'" in conf


def test_pg_hba_allows_replication_with_a_password() -> None:
    assert "replication  replicator   0.0.0.0/0    scram-sha-256" in config.PG_HBA


def test_config_change_rolls_the_pods() -> None:
    def checksum(spec: dict[str, Any]) -> str:
        sts = postgres.render_primary(make(spec))
        return str(sts["spec"]["template"]["metadata"]["annotations"][names.ANNOTATION_CONFIG_CHECKSUM])

    assert checksum({}) == checksum({})
    assert checksum({}) != checksum({"postgres": {"parameters": {"work_mem": "8MB"}}})


def test_deletion_policy_delete_removes_claims_with_the_statefulset() -> None:
    sts = postgres.render_primary(make({"deletionPolicy": "Delete", "postgres": {"storage": {"size": "5Gi"}}}))
    assert sts["spec"]["persistentVolumeClaimRetentionPolicy"]["whenDeleted"] == "Delete"
    assert sts["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] == "5Gi"


def test_custom_image_and_storage_class() -> None:
    sts = postgres.render_primary(
        make({"postgres": {"image": "registry.example.com/pg:16.4", "storage": {"storageClassName": "fast"}}})
    )
    assert sts["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.example.com/pg:16.4"
    assert sts["spec"]["volumeClaimTemplates"][0]["spec"]["storageClassName"] == "fast"
