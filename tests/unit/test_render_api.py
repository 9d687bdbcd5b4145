"""API Deployment, Service, migrate Job, HPA and PDB."""

from __future__ import annotations

from typing import Any

from req1_operator.render import RenderInput, api, names
from req1_operator.spec import parse_spec


def make(spec: dict[str, Any] | None = None) -> RenderInput:
    return RenderInput(name="demo", namespace="team-a", uid="u-1", spec=parse_spec(spec or {}))


def env_of(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in container["env"]}


def test_deployment_probes_rollout_and_security() -> None:
    dep = api.render_deployment(make())
    assert dep["spec"]["replicas"] == 2
    assert dep["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    pod = dep["spec"]["template"]["spec"]
    (c,) = pod["containers"]
    assert c["command"] == ["req1-server", "serve"]
    assert c["image"] == "ghcr.io/req1/req1-server:0.1.0"
    assert c["livenessProbe"]["httpGet"]["path"] == "/health/live"
    assert c["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    assert c["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 1000
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    assert c["securityContext"]["allowPrivilegeEscalation"] is False
    assert c["resources"] == {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": "512Mi"}}
    spreads = pod["topologySpreadConstraints"]
    assert {s["topologyKey"] for s in spreads} == {"kubernetes.io/hostname", "topology.kubernetes.io/zone"}
    assert all(s["labelSelector"]["matchLabels"] == dep["spec"]["selector"]["matchLabels"] for s in spreads)
    assert pod["automountServiceAccountToken"] is False
    # Selector is a subset of the pod labels and carries no mutable label (version).
    labels = dep["spec"]["template"]["metadata"]["labels"]
    assert dep["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert names.LABEL_VERSION not in dep["spec"]["selector"]["matchLabels"]


def test_environment_comes_from_secrets_and_config() -> None:
    dep = api.render_deployment(make())
    (c,) = dep["spec"]["template"]["spec"]["containers"]
    env = env_of(c)
    assert c["envFrom"] == [{"configMapRef": {"name": "demo-api"}}]
    assert env["DATABASE_URL"]["value"] == (
        "postgresql://$(REQ1_DB_USER):$(REQ1_DB_PASSWORD)@demo-postgres-rw.team-a.svc:5432/$(REQ1_DB_NAME)"
    )
    assert "DATABASE_REPLICA_URL" not in env  # no replicas by default
    assert env["REDIS_URL"]["value"] == "redis://:$(REQ1_REDIS_PASSWORD)@demo-redis.team-a.svc:6379/0"
    assert env["JWT_SECRET"]["valueFrom"]["secretKeyRef"] == {"name": "demo-api", "key": "jwt-secret"}
    assert env["ADMIN_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": "demo-api", "key": "admin-password"}
    assert env["S3_ACCESS_KEY"]["valueFrom"]["secretKeyRef"]["name"] == "demo-seaweedfs-s3"
    # $(VAR) expansion only sees variables defined earlier in the list.
    order = [e["name"] for e in c["env"]]
    assert order.index("REQ1_DB_PASSWORD") < order.index("DATABASE_URL")
    assert order.index("REQ1_REDIS_PASSWORD") < order.index("REDIS_URL")


def test_replicas_add_the_replica_url_and_external_s3_uses_its_secret() -> None:
    spec = {
        "postgres": {"replicas": 1},
        "storage": {"external": {"endpoint": "https://s3.example.com", "bucket": "att", "secretName": "my-s3"}},
    }
    (c,) = api.render_deployment(make(spec))["spec"]["template"]["spec"]["containers"]
    env = env_of(c)
    assert "@demo-postgres-ro.team-a.svc:5432/" in env["DATABASE_REPLICA_URL"]["value"]
    assert env["S3_SECRET_KEY"]["valueFrom"]["secretKeyRef"] == {"name": "my-s3", "key": "secretKey"}


def test_extra_env_is_appended() -> None:
    spec = {
        "api": {
            "extraEnv": [
                {"name": "LOG_LEVEL", "value": "debug"},
                {"name": "SMTP_PASSWORD", "secretKeyRef": {"name": "smtp", "key": "pw"}},
            ]
        }
    }
    (c,) = api.render_deployment(make(spec))["spec"]["template"]["spec"]["containers"]
    env = env_of(c)
    assert env["LOG_LEVEL"] == {"name": "LOG_LEVEL", "value": "debug"}
    assert env["SMTP_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": "smtp", "key": "pw"}


def test_hpa_owns_replicas_when_autoscaling() -> None:
    inp = make({"api": {"replicas": 4, "autoscaling": {"enabled": True, "minReplicas": 3, "maxReplicas": 9}}})
    dep = api.render_deployment(inp)
    assert "replicas" not in dep["spec"]
    hpa = api.render_hpa(inp)
    assert hpa is not None
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "demo-api"}
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (3, 9)
    assert hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 70
    assert any(o["kind"] == "HorizontalPodAutoscaler" for o in api.render(inp))


def test_no_hpa_without_autoscaling() -> None:
    inp = make({"api": {"replicas": 4}})
    assert api.render_hpa(inp) is None
    assert api.render_deployment(inp)["spec"]["replicas"] == 4


def test_config_change_changes_the_checksum_annotation() -> None:
    def checksum(spec: dict[str, Any]) -> str:
        dep = api.render_deployment(make(spec))
        return str(dep["spec"]["template"]["metadata"]["annotations"][names.ANNOTATION_CONFIG_CHECKSUM])

    base = checksum({})
    assert base == checksum({})
    assert base != checksum({"api": {"corsOrigin": "https://a.example.com"}})
    assert base != checksum({"api": {"extraEnv": [{"name": "X", "value": "1"}]}})
    assert base == checksum({"api": {"replicas": 5}})  # scaling alone does not roll pods


def test_migrate_job_is_named_by_version_and_image() -> None:
    job = api.render_migrate_job(make({"version": "1.2.3"}))
    assert job["metadata"]["name"].startswith("demo-migrate-1-2-3-")
    (c,) = job["spec"]["template"]["spec"]["containers"]
    assert c["command"] == ["req1-server", "migrate"]
    assert c["image"] == "ghcr.io/req1/req1-server:1.2.3"
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    assert "DATABASE_URL" in env_of(c)
    same = api.render_migrate_job(make({"version": "1.2.3"}))["metadata"]["name"]
    bumped = api.render_migrate_job(make({"version": "1.2.4"}))["metadata"]["name"]
    new_image = api.render_migrate_job(make({"version": "1.2.3", "image": "registry.example.com/req1:1.2.3-p1"}))
    assert same == job["metadata"]["name"]
    assert bumped != same
    assert new_image["metadata"]["name"] != same
    assert len(new_image["metadata"]["name"]) <= 63


def test_migrate_job_name_fits_with_long_names() -> None:
    name = names.migrate_job("a" * 30, "10.200.3000-rc.1+build-very-long", "x" * 300)
    assert len(name) <= 63
    assert name == name.lower()


def test_api_and_migrate_pods_may_reach_the_database() -> None:
    inp = make()
    for obj in (api.render_deployment(inp), api.render_migrate_job(inp)):
        assert obj["spec"]["template"]["metadata"]["labels"][names.LABEL_DB_CLIENT] == "true"


def test_service_and_pdb_select_the_api_pods() -> None:
    inp = make()
    sel = api.render_deployment(inp)["spec"]["selector"]["matchLabels"]
    svc = api.render_service(inp)
    assert svc["spec"]["selector"] == sel
    assert svc["spec"]["ports"][0]["targetPort"] == "http"
    pdb = api.render_pdb(inp)
    assert pdb["spec"]["selector"]["matchLabels"] == sel
    assert pdb["spec"]["maxUnavailable"] == 1


def test_api_pod_selector_string_matches_the_deployment_selector() -> None:
    sel = api.render_deployment(make())["spec"]["selector"]["matchLabels"]
    parsed = dict(part.split("=", 1) for part in names.api_pod_selector("demo").split(","))
    assert parsed == sel


def test_readiness_outlasts_a_failover() -> None:
    """A primary gone for a failover (seconds) must not take every API pod out of its Service."""
    (c,) = api.render_deployment(make())["spec"]["template"]["spec"]["containers"]
    probe = c["readinessProbe"]
    assert probe["httpGet"]["path"] == "/health/ready"
    assert probe["periodSeconds"] * probe["failureThreshold"] >= 30
