"""The resource commands of contract §14: each coroutine turns parsed arguments into API calls and an ``Out``."""

from __future__ import annotations

import argparse
import json
from collections.abc import Awaitable, Callable
from typing import Any

from req1_server.client import render
from req1_server.client.api import Api
from req1_server.client.credentials import UsageError
from req1_server.client.output import Out

Command = Callable[[Api, argparse.Namespace], Awaitable[Out]]


def _fields(args: argparse.Namespace, *names: str) -> dict[str, Any]:
    """The options the user gave (None = not given, so PATCH leaves that field alone)."""
    return {n: getattr(args, n) for n in names if getattr(args, n, None) is not None}


def _objects_path(args: argparse.Namespace) -> str:
    return f"/modules/{args.module_id}/objects"


async def list_modules(api: Api, args: argparse.Namespace) -> Out:
    items = await api.all("/modules", project_id=args.project_id)
    rows = [(m["id"], m.get("name"), m.get("description")) for m in items]
    return Out(items, render.table(["ID", "NAME", "DESCRIPTION"], rows, {"DESCRIPTION": 60}))


async def list_objects(api: Api, args: argparse.Namespace) -> Out:
    items = await api.all(_objects_path(args))
    if args.format == "json":
        return Out(items, json.dumps(items, indent=2, ensure_ascii=False))
    return Out(items, render.objects_tree(items) if args.tree else render.objects_table(items))


async def list_links(api: Api, args: argparse.Namespace) -> Out:
    items = await api.all("/links", module_id=args.module_id)
    rows = [(k["id"], k["source_object_id"], k["target_object_id"], k["link_type_id"],
             "yes" if k.get("suspect") else "no") for k in items]
    return Out(items, render.table(["ID", "SOURCE", "TARGET", "TYPE", "SUSPECT"], rows))


async def list_link_types(api: Api, args: argparse.Namespace) -> Out:
    items = await api.get("/link-types")
    rows = [(t["id"], t.get("name"), t.get("description")) for t in items]
    return Out(items, render.table(["ID", "NAME", "DESCRIPTION"], rows, {"DESCRIPTION": 60}))


async def create_object(api: Api, args: argparse.Namespace) -> Out:
    obj = await api.post(_objects_path(args), _fields(args, "heading", "body", "classification", "parent_id"))
    return Out(obj, f"created object {obj['id']} ({obj.get('level')})")


async def create_link(api: Api, args: argparse.Namespace) -> Out:
    link = await api.post("/links", {"source_object_id": args.source, "target_object_id": args.target,
                                     "link_type_id": args.link_type_id})
    return Out(link, f"created link {link['id']}")


async def create_link_type(api: Api, args: argparse.Namespace) -> Out:
    lt = await api.post("/link-types", _fields(args, "name", "description"))
    return Out(lt, f"created link type {lt['id']} ({lt.get('name')})")


async def update_object(api: Api, args: argparse.Namespace) -> Out:
    changes = _fields(args, "heading", "body", "classification")
    if not changes:
        raise UsageError("nothing to change: give --heading, --body or --classification")
    obj = await api.patch(f"{_objects_path(args)}/{args.object_id}", changes)
    return Out(obj, f"updated object {obj['id']} to version {obj.get('current_version')}")


async def delete_object(api: Api, args: argparse.Namespace) -> Out:
    await api.delete(f"{_objects_path(args)}/{args.object_id}")
    return Out({"id": args.object_id, "deleted": True}, f"deleted object {args.object_id}")


async def delete_link(api: Api, args: argparse.Namespace) -> Out:
    await api.delete(f"/links/{args.link_id}")
    return Out({"id": args.link_id, "deleted": True}, f"deleted link {args.link_id}")


async def validate(api: Api, args: argparse.Namespace) -> Out:
    report = await api.get(f"/modules/{args.module_id}/validate")
    return Out(report, render.validation(report), code=1 if render.has_errors(report) else 0)


async def review(api: Api, args: argparse.Namespace) -> Out:
    if args.object_id:
        ids = [args.object_id]
    else:
        ids = [o["id"] for o in await api.all(_objects_path(args), needs_review=True)]
    done = [await api.patch(f"{_objects_path(args)}/{oid}", {"reviewed": True}) for oid in ids]
    text = "\n".join(f"reviewed {o.get('level')} {o['id']}" for o in done)
    return Out(done, (text + "\n" if text else "") + f"{len(done)} object(s) reviewed")


async def resolve_suspect(api: Api, args: argparse.Namespace) -> Out:
    link = await api.patch(f"/links/{args.link_id}", {"suspect": False})
    return Out(link, f"link {link['id']} is no longer suspect")


async def reorder(api: Api, args: argparse.Namespace) -> Out:
    obj = await api.post(f"{_objects_path(args)}/{args.object_id}/move", {"action": args.action})
    return Out(obj, f"moved object {obj['id']} {args.action}: now {obj.get('level')}")


async def baseline_create(api: Api, args: argparse.Namespace) -> Out:
    b = await api.post(f"/modules/{args.module_id}/baselines", _fields(args, "name", "description"))
    return Out(b, f"created baseline {b['id']} ({b.get('name')}, {len(b.get('entries') or [])} objects)")


async def baseline_list(api: Api, args: argparse.Namespace) -> Out:
    items = await api.all(f"/modules/{args.module_id}/baselines")
    rows = [(b["id"], b.get("name"), b.get("created_at"), b.get("description")) for b in items]
    return Out(items, render.table(["ID", "NAME", "CREATED", "DESCRIPTION"], rows, {"DESCRIPTION": 50}))


async def baseline_diff(api: Api, args: argparse.Namespace) -> Out:
    result = await api.get("/baseline-diff", a=args.a, b=args.b)
    return Out(result, render.diff(result))


COMMANDS: dict[str, Command] = {
    "list modules": list_modules,
    "list objects": list_objects,
    "list links": list_links,
    "list link-types": list_link_types,
    "create object": create_object,
    "create link": create_link,
    "create link-type": create_link_type,
    "update object": update_object,
    "delete object": delete_object,
    "delete link": delete_link,
    "validate": validate,
    "review": review,
    "resolve-suspect": resolve_suspect,
    "reorder": reorder,
    "baseline create": baseline_create,
    "baseline list": baseline_list,
    "baseline diff": baseline_diff,
}
