"""Pure rules of the pod spec, as a kubelet applies them: environment, command line, field paths.

Everything here is a function of the pod, the container and data already fetched (Secrets and
ConfigMaps by name), so it is tested without a cluster.
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from req1_testenv.kubelet.images import ImageStandIn

# Node allocatable, for resourceFieldRef when a container sets no limit (what a kubelet reports).
NODE_CPU = 2
NODE_MEMORY = 24 * 1024**3

_REF = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")


class ConfigError(RuntimeError):
    """The container cannot be configured yet (CreateContainerConfigError): a Secret, key or field is missing."""


@dataclass
class Sources:
    """Secrets and ConfigMaps of the pod's namespace by name (Secret data already base64-decoded)."""

    secrets: dict[str, dict[str, str] | None] = field(default_factory=dict)
    configmaps: dict[str, dict[str, str] | None] = field(default_factory=dict)


def expand(text: str, env: Mapping[str, str]) -> str:
    """Kubernetes ``$(VAR)`` expansion: a known variable is replaced, ``$$`` is a literal ``$``, the rest stays."""

    def sub(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1)
        return env.get(name, match.group(0))

    return _REF.sub(sub, text)


def decode_secret(secret: Mapping[str, Any]) -> dict[str, str]:
    data = {k: base64.b64decode(v).decode(errors="surrogateescape") for k, v in (secret.get("data") or {}).items()}
    data.update(secret.get("stringData") or {})
    return data


def referenced_names(pod: Mapping[str, Any]) -> tuple[set[str], set[str]]:
    """Names of the Secrets and ConfigMaps that the pod's env, envFrom and volumes refer to."""
    secrets: set[str] = set()
    configmaps: set[str] = set()
    spec = pod["spec"]
    for c in [*spec.get("initContainers", []), *spec.get("containers", [])]:
        for e in c.get("env", []):
            ref = e.get("valueFrom") or {}
            if "secretKeyRef" in ref:
                secrets.add(ref["secretKeyRef"]["name"])
            if "configMapKeyRef" in ref:
                configmaps.add(ref["configMapKeyRef"]["name"])
        for ef in c.get("envFrom", []):
            if "secretRef" in ef:
                secrets.add(ef["secretRef"]["name"])
            if "configMapRef" in ef:
                configmaps.add(ef["configMapRef"]["name"])
    for v in spec.get("volumes", []):
        if "secret" in v:
            secrets.add(v["secret"]["secretName"])
        if "configMap" in v:
            configmaps.add(v["configMap"]["name"])
        for src in (v.get("projected") or {}).get("sources", []):
            if "secret" in src:
                secrets.add(src["secret"]["name"])
            if "configMap" in src:
                configmaps.add(src["configMap"]["name"])
    return secrets, configmaps


def field_value(pod: Mapping[str, Any], path: str) -> str:
    """The value of a downward-API ``fieldRef.fieldPath``."""
    meta, spec, status = pod["metadata"], pod["spec"], pod.get("status") or {}
    simple = {
        "metadata.name": meta.get("name", ""),
        "metadata.namespace": meta.get("namespace", ""),
        "metadata.uid": meta.get("uid", ""),
        "spec.nodeName": spec.get("nodeName", ""),
        "spec.serviceAccountName": spec.get("serviceAccountName", "default"),
        "status.podIP": status.get("podIP", ""),
        "status.hostIP": status.get("hostIP", ""),
        "status.podIPs": ",".join(p["ip"] for p in status.get("podIPs", [])),
        "status.hostIPs": ",".join(p["ip"] for p in status.get("hostIPs", [])),
    }
    if path in simple:
        return str(simple[path])
    match = re.fullmatch(r"metadata\.(labels|annotations)\['(.+)'\]", path)
    if match:
        return str((meta.get(match.group(1)) or {}).get(match.group(2), ""))
    if path in ("metadata.labels", "metadata.annotations"):
        items = meta.get(path.split(".")[1]) or {}
        return "\n".join(f'{k}="{v}"' for k, v in sorted(items.items()))
    raise ConfigError(f"unsupported fieldPath {path!r}")


def _quantity(text: str) -> float:
    units = {"m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "Ki": 1024, "Mi": 1024**2, "Gi": 1024**3,
             "Ti": 1024**4}
    match = re.fullmatch(r"([0-9.]+)([a-zA-Z]*)", str(text))
    if not match:
        raise ConfigError(f"bad quantity {text!r}")
    return float(match.group(1)) * units.get(match.group(2), 1)


def resource_value(container: Mapping[str, Any], ref: Mapping[str, Any]) -> str:
    """``resourceFieldRef``: the limit (or request), else node allocatable, in units of the divisor (rounded up)."""
    kind, _, resource = ref["resource"].partition(".")
    res = (container.get("resources") or {}).get(kind) or {}
    if resource in res:
        value = _quantity(res[resource])
    elif resource == "cpu":
        value = float(NODE_CPU)
    else:
        value = float(NODE_MEMORY)
    divisor = _quantity(ref.get("divisor", "1"))
    return str(math.ceil(value / divisor))


def _lookup(kind: str, table: Mapping[str, dict[str, str] | None], name: str, key: str | None,
            optional: bool) -> dict[str, str] | str | None:
    data = table.get(name)
    if data is None:
        if optional:
            return None
        raise ConfigError(f'{kind} "{name}" not found')
    if key is None:
        return data
    if key not in data:
        if optional:
            return None
        raise ConfigError(f'couldn\'t find key {key} in {kind} "{name}"')
    return data[key]


def container_env(
    pod: Mapping[str, Any],
    container: Mapping[str, Any],
    image: ImageStandIn,
    sources: Sources,
    service_env: Mapping[str, str],
) -> dict[str, str]:
    """The process environment: image ENV, service variables, envFrom, then env (later wins), expanded in order."""
    env: dict[str, str] = {"HOSTNAME": pod["metadata"]["name"], **image.env, **service_env}
    env.setdefault("HOME", "/root")
    for ef in container.get("envFrom", []):
        prefix = ef.get("prefix", "")
        if "secretRef" in ef:
            ref, kind, table = ef["secretRef"], "secret", sources.secrets
        else:
            ref, kind, table = ef["configMapRef"], "configmap", sources.configmaps
        data = _lookup(kind, table, ref["name"], None, bool(ref.get("optional")))
        if isinstance(data, dict):
            env.update({prefix + k: v for k, v in data.items()})
    for e in container.get("env", []):
        name = e["name"]
        if "value" in e or "valueFrom" not in e:
            env[name] = expand(e.get("value", ""), env)
            continue
        ref = e["valueFrom"]
        value: Any
        if "secretKeyRef" in ref:
            r = ref["secretKeyRef"]
            value = _lookup("secret", sources.secrets, r["name"], r["key"], bool(r.get("optional")))
        elif "configMapKeyRef" in ref:
            r = ref["configMapKeyRef"]
            value = _lookup("configmap", sources.configmaps, r["name"], r["key"], bool(r.get("optional")))
        elif "fieldRef" in ref:
            value = field_value(pod, ref["fieldRef"]["fieldPath"])
        elif "resourceFieldRef" in ref:
            value = resource_value(container, ref["resourceFieldRef"])
        else:
            raise ConfigError(f"env {name}: unsupported valueFrom {sorted(ref)}")
        if value is not None:
            env[name] = str(value)
    return env


def command_line(container: Mapping[str, Any], image: ImageStandIn, env: Mapping[str, str]) -> list[str]:
    """ENTRYPOINT/CMD overridden by command/args as Kubernetes defines it, then ``$(VAR)``-expanded."""
    if container.get("command"):
        argv = [*container["command"], *container.get("args", [])]
    else:
        argv = [*image.entrypoint, *container.get("args", image.cmd)]
    if not argv:
        raise ConfigError("no command: neither the container nor the image gives one")
    return [expand(a, env) for a in argv]


def run_as(pod: Mapping[str, Any], container: Mapping[str, Any], image: ImageStandIn) -> tuple[int, int, list[int]]:
    """(uid, gid, supplementary groups) from the container's, then the pod's security context, then the image."""
    psc = pod["spec"].get("securityContext") or {}
    csc = container.get("securityContext") or {}
    uid = csc.get("runAsUser", psc.get("runAsUser", image.user if image.user is not None else 0))
    account = next((a for a in image.accounts if a.uid == uid), None)
    gid = csc.get("runAsGroup", psc.get("runAsGroup", account.gid if account else uid))
    groups = [gid, *psc.get("supplementalGroups", [])]
    if "fsGroup" in psc:
        groups.append(psc["fsGroup"])
    if (csc.get("runAsNonRoot", psc.get("runAsNonRoot")) is True) and uid == 0:
        raise ConfigError("container has runAsNonRoot and image will run as root")
    return int(uid), int(gid), sorted(set(groups))
