"""PostgreSQL: one StatefulSet of instance-manager pods, the manager's RBAC, Services by role, configuration."""

from __future__ import annotations

from typing import Any

from req1_operator.render import RenderInput, config, names, postgres
from req1_operator.spec import parse_spec


def make(spec: dict[str, Any] | None = None) -> RenderInput:
    return RenderInput(name="demo", namespace="ns", uid="u", spec=parse_spec(spec or {}))


def env_of(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in container["env"]}


def test_one_statefulset_of_identical_pods() -> None:
    sts = postgres.render_statefulset(make({"postgres": {"replicas": 2}}))
    assert sts["metadata"]["name"] == "demo-postgres"  # the old primary's name: pod -0 keeps its claim
    assert sts["spec"]["replicas"] == 3
    assert sts["spec"]["serviceName"] == "demo-postgres-headless"
    assert sts["spec"]["podManagementPolicy"] == "Parallel"
    tpl = sts["spec"]["template"]
    # The role is the operator's to set on live pods, never part of the template or the selector.
    assert names.LABEL_ROLE not in tpl["metadata"]["labels"]
    assert names.LABEL_ROLE not in sts["spec"]["selector"]["matchLabels"]
    assert postgres.LEGACY_LABEL_SET not in tpl["metadata"]["labels"]
    assert sts["spec"]["selector"]["matchLabels"].items() <= tpl["metadata"]["labels"].items()
    pod = tpl["spec"]
    (c,) = pod["containers"]
    assert c["image"] == "ghcr.io/req1/req1-postgres:0.1.0-pg16"
    assert "args" not in c and "command" not in c  # the manager is the entrypoint and starts postgres itself
    assert "initContainers" not in pod
    assert "/docker-entrypoint-initdb.d" not in {m["mountPath"] for m in c["volumeMounts"]}
    assert pod["serviceAccountName"] == "demo-postgres" and pod["automountServiceAccountToken"] is True
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "manager"}
    assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "manager"}
    assert {"name": "manager", "containerPort": 8010, "protocol": "TCP"} in c["ports"]
    claim = sts["spec"]["volumeClaimTemplates"][0]
    assert claim["metadata"]["name"] == "data"
    assert claim["spec"]["resources"]["requests"]["storage"] == "10Gi"
    assert sts["spec"]["persistentVolumeClaimRetentionPolicy"] == {"whenDeleted": "Retain", "whenScaled": "Retain"}


def test_manager_environment_follows_the_contract() -> None:
    (c,) = postgres.render_statefulset(make())["spec"]["template"]["spec"]["containers"]
    env = env_of(c)
    assert env["POD_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    assert env["POD_NAMESPACE"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.namespace"
    assert env["REQ1_INSTANCE"]["value"] == "demo"
    assert env["PGDATA"]["value"] == "/var/lib/postgresql/data/pgdata"
    assert env["REQ1_PG_CONFIG_DIR"]["value"] == "/etc/req1/postgres"
    assert env["REQ1_PRIMARY_SERVICE"]["value"] == "demo-postgres-rw.ns.svc"
    assert env["REQ1_LEASE_SECONDS"]["value"] == "10"
    assert env["REQ1_MANAGER_PORT"]["value"] == "8010"
    for var, secret in [("POSTGRES_PASSWORD", "demo-postgres-superuser"), ("REQ1_APP_PASSWORD", "demo-postgres-app"),
                        ("REQ1_REPLICATION_USER", "demo-postgres-replication"),
                        ("REQ1_REPLICATION_PASSWORD", "demo-postgres-replication")]:  # fmt: skip
        assert env[var]["valueFrom"]["secretKeyRef"]["name"] == secret


def test_manager_rbac_is_exactly_the_documented_role() -> None:
    sa, role, binding = postgres.render_rbac(make())
    assert (sa["kind"], role["kind"], binding["kind"]) == ("ServiceAccount", "Role", "RoleBinding")
    verbs = {(g, r): set(rule["verbs"]) for rule in role["rules"] for g in rule["apiGroups"] for r in rule["resources"]}
    assert verbs == {
        ("", "pods"): {"get", "patch"},
        ("coordination.k8s.io", "leases"): {"get", "create", "update"},
        ("req1.io", "req1instances"): {"get", "list", "watch"},
        ("apps", "statefulsets"): {"get"},
    }
    assert binding["roleRef"]["name"] == role["metadata"]["name"] == "demo-postgres"
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "demo-postgres", "namespace": "ns"}]


def test_services_select_by_role() -> None:
    svcs = {s["metadata"]["name"]: s for s in postgres.render_services(make())}
    assert svcs["demo-postgres-rw"]["spec"]["selector"][names.LABEL_ROLE] == "primary"
    assert svcs["demo-postgres-ro"]["spec"]["selector"][names.LABEL_ROLE] == "replica"
    headless = svcs["demo-postgres-headless"]["spec"]
    assert headless["clusterIP"] == "None"
    assert names.LABEL_ROLE not in headless["selector"]


def test_primary_pdb() -> None:
    pdb = postgres.render_primary_pdb(make())
    assert pdb["spec"]["minAvailable"] == 1
    assert pdb["spec"]["selector"]["matchLabels"][names.LABEL_ROLE] == "primary"


def test_parameters_and_managed_settings() -> None:
    inp = make({"postgres": {"replicas": 1, "synchronousMode": "required", "parameters": {"work_mem": "16MB"}}})
    conf = config.postgresql_conf(inp)
    assert "work_mem = '16MB'" in conf
    assert "wal_level = 'replica'" in conf
    assert "wal_log_hints = 'on'" in conf  # pg_rewind
    assert "hot_standby = 'on'" in conf
    assert "synchronous_standby_names = 'ANY 1 (*)'" in conf
    assert "archive_mode = 'on'" in conf
    assert "archive_command = '/etc/req1/postgres/archive-wal.sh %p %f'" in conf
    assert "hba_file = '/etc/req1/postgres/pg_hba.conf'" in conf
    assert "synchronous_standby_names = ''" in config.postgresql_conf(make())
    # preferred starts asynchronous; the manager switches it on while a standby streams
    preferred = make({"postgres": {"synchronousMode": "preferred"}})
    assert "synchronous_standby_names = ''" in config.postgresql_conf(preferred)
    assert set(config.postgres_data(make())) == {"postgresql.conf", "pg_hba.conf", "archive-wal.sh"}


def test_quoting_of_parameter_values() -> None:
    conf = config.postgresql_conf(make({"postgres": {"parameters": {"search_path": "it's"}}}))
    assert "search_path = 'it''s'" in conf


def test_pg_hba_replication_matches_any_replication_role() -> None:
    # REQ1_REPLICATION_USER comes from a Secret a user may own: the line must not hard-code its name.
    assert "host    replication  all          0.0.0.0/0    scram-sha-256" in config.PG_HBA
    assert "replicator" not in config.PG_HBA


def test_config_change_rolls_the_pods() -> None:
    def checksum(spec: dict[str, Any]) -> str:
        sts = postgres.render_statefulset(make(spec))
        return str(sts["spec"]["template"]["metadata"]["annotations"][names.ANNOTATION_CONFIG_CHECKSUM])

    assert checksum({}) == checksum({})
    assert checksum({}) != checksum({"postgres": {"parameters": {"work_mem": "8MB"}}})
    assert checksum({}) == checksum({"postgres": {"replicas": 2}})  # scaling never rolls the primary


def test_scaling_changes_only_the_size_and_the_operator_rolls_the_pods() -> None:
    """The controller restarts no pod by itself (OnDelete: the operator rolls replicas first, rolling.py), and a
    change of postgres.replicas leaves the template, hence every pod's revision and the primary, alone."""
    small = postgres.render_statefulset(make({"postgres": {"replicas": 1}}))
    large = postgres.render_statefulset(make({"postgres": {"replicas": 3}}))
    assert small["spec"]["updateStrategy"] == {"type": "OnDelete"}
    assert (small["spec"]["replicas"], large["spec"]["replicas"]) == (2, 4)
    assert small["spec"]["template"] == large["spec"]["template"]
    assert {k: v for k, v in small["spec"].items() if k != "replicas"} == {
        k: v for k, v in large["spec"].items() if k != "replicas"
    }


def test_deletion_policy_delete_removes_claims_with_the_statefulset() -> None:
    sts = postgres.render_statefulset(make({"deletionPolicy": "Delete", "postgres": {"storage": {"size": "5Gi"}}}))
    assert sts["spec"]["persistentVolumeClaimRetentionPolicy"]["whenDeleted"] == "Delete"
    assert sts["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] == "5Gi"


def test_custom_image_and_storage_class() -> None:
    sts = postgres.render_statefulset(
        make({"postgres": {"image": "registry.example.com/req1-postgres:16.4", "storage": {"storageClassName": "x"}}})
    )
    assert sts["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.example.com/req1-postgres:16.4"
    assert sts["spec"]["volumeClaimTemplates"][0]["spec"]["storageClassName"] == "x"
