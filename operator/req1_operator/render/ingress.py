"""Ingress objects for ingress-nginx: the app (rate limited) and `/assets` (buffered, cacheable, not limited).

The cert-manager annotation sits on the main Ingress only, so exactly one Certificate owns the TLS Secret
both Ingresses reference.
"""

from __future__ import annotations

from typing import Any

from req1_operator.render import names
from req1_operator.render.types import RenderInput

NGINX = "nginx.ingress.kubernetes.io/"
#: MAX_UPLOAD_BYTES of the server is 50 MiB; nginx must let such bodies through.
PROXY_BODY_SIZE = "50m"


def tls_secret_name(inp: RenderInput) -> str:
    return inp.spec.ingress.tls.secret_name or f"{inp.name}-tls"


def url(inp: RenderInput) -> str | None:
    """Where req1 is served (status.url), or None without an ingress."""
    ing = inp.spec.ingress
    if not ing.enabled or not ing.host:
        return None
    return f"{'https' if ing.tls.enabled else 'http'}://{ing.host}"


def _common_annotations(inp: RenderInput) -> dict[str, str]:
    tls = inp.spec.ingress.tls.enabled
    return {
        NGINX + "proxy-body-size": PROXY_BODY_SIZE,
        NGINX + "ssl-redirect": "true" if tls else "false",
    }


def _ingress(inp: RenderInput, name: str, path: str, annotations: dict[str, str]) -> dict[str, Any]:
    ing = inp.spec.ingress
    annotations = {**annotations, **ing.annotations}  # the user's annotations win
    meta = names.metadata(inp, name, names.INGRESS)
    meta["annotations"] = dict(sorted(annotations.items()))
    spec: dict[str, Any] = {
        "ingressClassName": ing.class_name,
        "rules": [
            {
                "host": ing.host,
                "http": {
                    "paths": [
                        {
                            "path": path,
                            "pathType": "Prefix",
                            "backend": {"service": {"name": names.api(inp.name), "port": {"name": "http"}}},
                        }
                    ]
                },
            }
        ],
    }
    if ing.tls.enabled:
        spec["tls"] = [{"hosts": [ing.host], "secretName": tls_secret_name(inp)}]
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": meta, "spec": spec}


def render_main(inp: RenderInput) -> dict[str, Any]:
    ing = inp.spec.ingress
    ann = _common_annotations(inp)
    ann[NGINX + "limit-rps"] = str(ing.rate_limit.requests_per_second)
    ann[NGINX + "limit-burst-multiplier"] = str(ing.rate_limit.burst_multiplier)
    issuer = ing.tls.issuer
    if ing.tls.enabled and issuer is not None:
        key = "cert-manager.io/cluster-issuer" if issuer.kind == "ClusterIssuer" else "cert-manager.io/issuer"
        ann[key] = issuer.name
    return _ingress(inp, names.ingress(inp.name), "/", ann)


def render_assets(inp: RenderInput) -> dict[str, Any]:
    ing = inp.spec.ingress
    ann = _common_annotations(inp)
    ann[NGINX + "proxy-buffering"] = "on"
    if ing.cache_assets:
        ann[NGINX + "configuration-snippet"] = (
            f"proxy_cache {ing.cache_zone};\n"
            "proxy_cache_valid 200 30d;\n"
            "proxy_cache_use_stale error timeout updating http_500 http_502 http_503 http_504;\n"
            "proxy_cache_lock on;\n"
            "add_header X-Cache-Status $upstream_cache_status;\n"
        )
    return _ingress(inp, names.ingress_assets(inp.name), "/assets", ann)


def render(inp: RenderInput) -> list[dict[str, Any]]:
    if not inp.spec.ingress.enabled:
        return []
    return [render_main(inp), render_assets(inp)]
