"""Ingress: host, class, TLS via cert-manager or an existing Secret, nginx rate limiting, /assets caching."""

from __future__ import annotations

from typing import Any

from req1_operator.render import RenderInput, ingress
from req1_operator.spec import parse_spec

NGINX = "nginx.ingress.kubernetes.io/"


def make(ing: dict[str, Any]) -> RenderInput:
    return RenderInput(name="demo", namespace="ns", uid="u", spec=parse_spec({"ingress": ing}))


def test_disabled_renders_nothing() -> None:
    assert ingress.render(make({})) == []
    assert ingress.url(make({})) is None


def test_main_ingress_rate_limits_and_routes_to_the_api() -> None:
    inp = make(
        {"enabled": True, "host": "req1.example.com", "rateLimit": {"requestsPerSecond": 7, "burstMultiplier": 3}}
    )
    main, assets = ingress.render(inp)
    ann = main["metadata"]["annotations"]
    assert ann[NGINX + "limit-rps"] == "7"
    assert ann[NGINX + "limit-burst-multiplier"] == "3"
    assert main["spec"]["ingressClassName"] == "nginx"
    rule = main["spec"]["rules"][0]
    assert rule["host"] == "req1.example.com"
    path = rule["http"]["paths"][0]
    assert path["path"] == "/"
    assert path["backend"]["service"] == {"name": "demo-api", "port": {"name": "http"}}
    assert "tls" not in main["spec"]
    assert ingress.url(inp) == "http://req1.example.com"
    # /assets is immutable content: outside the rate limit.
    assert assets["spec"]["rules"][0]["http"]["paths"][0]["path"] == "/assets"
    assert NGINX + "limit-rps" not in assets["metadata"]["annotations"]
    assert assets["metadata"]["annotations"][NGINX + "proxy-buffering"] == "on"


def test_tls_with_a_cluster_issuer() -> None:
    inp = make(
        {"enabled": True, "host": "req1.example.com", "tls": {"enabled": True, "issuer": {"name": "letsencrypt"}}}
    )
    main, assets = ingress.render(inp)
    assert main["metadata"]["annotations"]["cert-manager.io/cluster-issuer"] == "letsencrypt"
    assert main["spec"]["tls"] == [{"hosts": ["req1.example.com"], "secretName": "demo-tls"}]
    # One Certificate owns the Secret: the assets Ingress reuses it without asking cert-manager again.
    assert assets["spec"]["tls"] == main["spec"]["tls"]
    assert not any(k.startswith("cert-manager.io/") for k in assets["metadata"]["annotations"])
    assert main["metadata"]["annotations"][NGINX + "ssl-redirect"] == "true"
    assert ingress.url(inp) == "https://req1.example.com"


def test_tls_with_a_namespaced_issuer_or_existing_secret() -> None:
    issuer = make(
        {"enabled": True, "host": "a.example.com", "tls": {"enabled": True, "issuer": {"kind": "Issuer", "name": "ca"}}}
    )
    assert ingress.render_main(issuer)["metadata"]["annotations"]["cert-manager.io/issuer"] == "ca"
    secret = make({"enabled": True, "host": "a.example.com", "tls": {"enabled": True, "secretName": "my-cert"}})
    main = ingress.render_main(secret)
    assert main["spec"]["tls"][0]["secretName"] == "my-cert"
    assert not any(k.startswith("cert-manager.io/") for k in main["metadata"]["annotations"])


def test_asset_cache_snippet_and_user_annotations() -> None:
    inp = make(
        {
            "enabled": True,
            "host": "a.example.com",
            "className": "public",
            "cacheAssets": True,
            "annotations": {NGINX + "proxy-body-size": "10m", "team": "docs"},
        }
    )
    main, assets = ingress.render(inp)
    assert "proxy_cache req1-assets;" in assets["metadata"]["annotations"][NGINX + "configuration-snippet"]
    assert NGINX + "configuration-snippet" not in main["metadata"]["annotations"]
    assert main["metadata"]["annotations"][NGINX + "proxy-body-size"] == "10m"  # the user wins
    assert main["metadata"]["annotations"]["team"] == "docs"
    assert main["spec"]["ingressClassName"] == "public"
