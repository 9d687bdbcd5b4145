"""`kubectl req1`: a thin client of the Req1Instance's own fields, never a second control path.

Installed with the Python package as `kubectl-req1`, which kubectl finds on PATH. Every action is a read of the
resource's status or a write of one of its spec fields (`spec.backup.request`, `spec.postgres.primary`, a new
instance with `spec.restore`); the operator does the work and reports it in status and Events, exactly as when
the fields are set by hand. It runs `kubectl` itself, so contexts, kubeconfigs and RBAC are the user's own.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Any

import yaml

PRIMARY_SELECTOR = "app.kubernetes.io/instance={name},app.kubernetes.io/component=postgres,req1.io/role=primary"
COMPONENT_SELECTOR = "app.kubernetes.io/instance={name},app.kubernetes.io/component={component}"


class PluginError(RuntimeError):
    """A refusal or a failed kubectl call, shown to the user as one line."""


def kubectl(base: Sequence[str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run([*base, *args], input=stdin, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise PluginError(done.stderr.strip() or f"kubectl {' '.join(args)} failed")
    return done.stdout


def get_instance(base: Sequence[str], name: str) -> dict[str, Any]:
    obj: dict[str, Any] = json.loads(kubectl(base, "get", "req1", name, "-o", "json"))
    return obj


def render_status(obj: dict[str, Any]) -> str:
    """A person's view of one instance: phase, components, PostgreSQL members, backups, the last failover."""
    st = obj.get("status") or {}
    lines = [f"{obj['metadata']['namespace']}/{obj['metadata']['name']}: {st.get('phase', 'Unknown')}"
             f"  version {st.get('version') or '-'}  url {st.get('url') or '-'}"]
    for c in st.get("conditions") or []:
        if c.get("status") != "True" or c.get("type") in ("Ready",):
            lines.append(f"  condition {c['type']}={c['status']} ({c.get('reason', '')}): {c.get('message', '')}")
    comps = st.get("components") or {}
    if comps:
        lines.append("components:")
        lines += [f"  {n:12} {'ready' if c.get('ready') else 'NOT READY'} {c.get('message', '')}".rstrip()
                  for n, c in sorted(comps.items())]
    pg = st.get("postgres") or {}
    if pg.get("members"):
        lines.append(f"postgres: primary {st.get('primary') or '-'}, timeline {pg.get('timeline') or '-'}, "
                     f"{pg.get('replication') or ''}")
        for m in pg["members"]:
            lines.append(f"  {m['name']:24} {m.get('role', '?'):8} {'ready' if m.get('ready') else 'not ready':9} "
                         f"lag {m.get('lagBytes', 0)} B  lsn {m.get('lsn', '')}")
    last = st.get("lastFailover")
    if last:
        lines.append(f"last failover: {last.get('from')} -> {last.get('to')} ({last.get('reason')}), "
                     f"RTO {last.get('rtoSeconds', '-')} s")
    bk = st.get("backup")
    if bk:
        lb = bk.get("lastBackup") or {}
        lines.append(f"backups: {bk.get('destination')}  archiving {bk.get('archiving', '-')}"
                     f" (last WAL {bk.get('lastArchivedWal', '-')})")
        lines.append(f"  last backup {lb.get('name', '-')} {lb.get('endTime', '')} {lb.get('sizeBytes', '')} B"
                     f"  next {bk.get('nextScheduledAt', '-')}")
        if bk.get("pending"):
            lines.append(f"  under way: {bk['pending']['id']} on {bk['pending']['pod']}")
    rs = st.get("restore") or {}
    if rs.get("phase"):
        lines.append(f"restored from {rs.get('source')} backup {rs.get('backupId')} to "
                     f"{rs.get('targetTime') or 'the end of the archive'}: {rs.get('phase')}")
    ip = rs.get("inPlace")
    if ip:
        lines.append(f"in-place restore {ip.get('request')}: {ip.get('phase')}  backup {ip.get('backupId') or 'latest'}"
                     f" to {ip.get('targetTime') or 'the end of the archive'}  (before it: {ip.get('preRestoreBackup')}"
                     f" {ip.get('preRestoreBackupId') or ''})".replace(" )", ")"))
        if ip.get("phase") in ("completed", "failed"):
            lines.append(f"  timeline {ip.get('timeline') or '-'}  lsn {ip.get('lsn') or '-'}  "
                         f"{ip.get('durationSeconds', 0)} s  at {ip.get('completedAt') or '-'}"
                         + (f"  error: {ip['error']}" if ip.get("error") else ""))
    return "\n".join(lines)


def restore_manifest(source: dict[str, Any], new_name: str, backup_id: str | None, target_time: str | None,
                     ) -> dict[str, Any]:
    """A new instance bootstrapped from `source`'s backups, located by what its status says."""
    bk = (source.get("status") or {}).get("backup") or {}
    if not bk.get("destination"):
        raise PluginError(f"{source['metadata']['name']} reports no backups (spec.backup.enabled?)")
    bucket, _, path = str(bk["destination"]).removeprefix("s3://").partition("/")
    restore: dict[str, Any] = {"source": {"endpoint": bk.get("endpoint", ""), "bucket": bucket, "path": path,
                                          "secretName": bk.get("credentialsSecret", "")}}
    if backup_id:
        restore["backupId"] = backup_id
    if target_time:
        restore["targetTime"] = target_time
    return {"apiVersion": "req1.io/v1alpha1", "kind": "Req1Instance",
            "metadata": {"name": new_name, "namespace": source["metadata"]["namespace"]},
            "spec": {"restore": restore}}


def run(args: argparse.Namespace, base: list[str]) -> str:
    if args.command == "status":
        return render_status(get_instance(base, args.name))
    if args.command == "backup":
        request = args.request or time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        patch = {"spec": {"backup": {"request": request}}}
        kubectl(base, "patch", "req1", args.name, "--type=merge", "-p", json.dumps(patch))
        return f"asked {args.name} for backup on-demand-{request}; follow it with `kubectl req1 status {args.name}`"
    if args.command == "switchover":
        patch = {"spec": {"postgres": {"primary": args.pod}}}
        kubectl(base, "patch", "req1", args.name, "--type=merge", "-p", json.dumps(patch))
        return f"asked {args.name} to make {args.pod} the primary"
    if args.command == "restore":
        manifest = restore_manifest(get_instance(base, args.name), args.into, args.backup_id, args.target_time)
        text = yaml.safe_dump(manifest, sort_keys=False)
        if args.dry_run:
            return text.rstrip()
        kubectl(base, "create", "-f", "-", stdin=text)
        return f"created {args.into} from the backups of {args.name}"
    if args.command == "psql":
        found = kubectl(base, "get", "pods", "-l", PRIMARY_SELECTOR.format(name=args.name), "-o",
                        "jsonpath={.items[*].metadata.name}").split()
        pod = found[0] if found else ""
        if not pod:
            raise PluginError(f"{args.name} has no pod labelled primary right now")
        argv = [*base, "exec", "-it", pod, "-c", "postgres", "--", "psql", "-U", "postgres"]
        if args.print_command:
            return " ".join(argv)
        return str(subprocess.call(argv))  # interactive: the terminal is psql's
    if args.command == "logs":
        argv = [*base, "logs", "-l", COMPONENT_SELECTOR.format(name=args.name, component=args.component),
                "--all-containers", "--prefix", "--tail", str(args.tail)]
        if args.print_command:
            return " ".join(argv)
        return kubectl(base, *argv[len(base):]).rstrip()
    raise PluginError(f"unknown command {args.command}")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kubectl req1", description=__doc__.split("\n\n")[0])
    p.add_argument("-n", "--namespace", help="the instance's namespace (default: the context's)")
    p.add_argument("--kubeconfig", help="kubeconfig file (default: kubectl's own choice)")
    p.add_argument("--context", help="kubeconfig context")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("status", help="phase, components, PostgreSQL members, backups, last failover")
    s.add_argument("name")
    s = sub.add_parser("backup", help="take a base backup now (writes spec.backup.request)")
    s.add_argument("name")
    s.add_argument("--request", help="the request value; the backup is named on-demand-<value> (default: now)")
    s = sub.add_parser("switchover", help="make a PostgreSQL pod the primary (writes spec.postgres.primary)")
    s.add_argument("name")
    s.add_argument("pod")
    s = sub.add_parser("restore", help="create a new instance from this one's backups (spec.restore)")
    s.add_argument("name")
    s.add_argument("--into", required=True, help="name of the new instance")
    s.add_argument("--backup-id", help="a backup id or name (default: the latest)")
    s.add_argument("--target-time", help="RFC 3339 point in time, e.g. 2026-12-03T06:15:30Z")
    s.add_argument("--dry-run", action="store_true", help="print the manifest instead of creating it")
    s = sub.add_parser("psql", help="psql on the current primary")
    s.add_argument("name")
    s.add_argument("--print-command", action="store_true", help="print the kubectl command instead of running it")
    s = sub.add_parser("logs", help="recent logs of one component's pods")
    s.add_argument("name")
    s.add_argument("component", nargs="?", default="api", help="api, postgres, redis, seaweedfs, migrate")
    s.add_argument("--tail", type=int, default=100)
    s.add_argument("--print-command", action="store_true", help="print the kubectl command instead of running it")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    base = ["kubectl"]
    for flag in ("kubeconfig", "context", "namespace"):
        value = getattr(args, flag)
        if value:
            base.append(f"--{flag}={value}")
    try:
        print(run(args, base))
    except PluginError as e:
        print(f"kubectl req1: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
