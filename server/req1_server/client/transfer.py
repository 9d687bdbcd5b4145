"""Commands that move files: ``publish`` and ``export`` write the served bytes as they are (Δ: the original
wrote text, corrupting PDF/XLSX/DOCX), ``import`` uploads ReqIF (multipart) or CSV (raw ``text/csv``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import aiohttp

from req1_server.client.api import Api
from req1_server.client.credentials import UsageError
from req1_server.client.output import Out

CONTENT_TYPES = {"reqif": "application/xml", "reqifz": "application/zip"}


def import_format(file: str, explicit: str | None) -> str:
    """``--format``, else by extension (``.reqifz``, ``.csv``), else ``reqif``."""
    if explicit:
        return explicit
    suffix = Path(file).suffix.lower()
    return {".reqifz": "reqifz", ".csv": "csv"}.get(suffix, "reqif")


def write_output(target: str, body: bytes) -> str:
    """Write to the file (or stdout for '-'); returns where it went, for the message."""
    if target == "-":
        sys.stdout.buffer.write(body)
        sys.stdout.buffer.flush()
        return "stdout"
    try:
        Path(target).write_bytes(body)
    except OSError as err:
        raise UsageError(f"cannot write {target}: {err.strerror or err}") from err
    return target


def _read(file: str) -> bytes:
    try:
        return Path(file).read_bytes()
    except OSError as err:
        raise UsageError(f"cannot read {file}: {err.strerror or err}") from err


async def _download(api: Api, args: argparse.Namespace, path: str) -> Out:
    resp = await api.send("GET", path, params={"format": args.format})
    where = write_output(args.output, resp.body)
    data = {"file": None if where == "stdout" else where, "bytes": len(resp.body),
            "content_type": resp.content_type, "format": args.format}
    return Out(data, f"wrote {len(resp.body)} bytes ({resp.content_type}) to {where}")


async def publish(api: Api, args: argparse.Namespace) -> Out:
    return await _download(api, args, f"/modules/{args.module_id}/publish")


async def export(api: Api, args: argparse.Namespace) -> Out:
    return await _download(api, args, f"/modules/{args.module_id}/reqif/export")


async def import_file(api: Api, args: argparse.Namespace) -> Out:
    fmt = import_format(args.file, args.format)
    if fmt == "csv" and not args.module_id:
        raise UsageError("CSV import needs --module-id")
    if fmt != "csv" and not args.project_id:
        raise UsageError("ReqIF import needs --project-id")
    content = _read(args.file)
    if fmt == "csv":
        resp = await api.send("POST", f"/modules/{args.module_id}/import/csv", data=content,
                              headers={"Content-Type": "text/csv; charset=utf-8"})
        result = resp.json()
        return Out(result, f"imported {result.get('objects_created', 0)} objects into module {args.module_id}")

    def form() -> aiohttp.FormData:
        fd = aiohttp.FormData()
        fd.add_field("file", content, filename=Path(args.file).name, content_type=CONTENT_TYPES[fmt])
        return fd

    result = (await api.send("POST", f"/projects/{args.project_id}/reqif/import", data=form)).json()
    modules = result.get("module_ids") or [result.get("module_id")]
    return Out(result, f"imported {result.get('objects_created', 0)} objects, {result.get('links_created', 0)} links "
                       f"into {len(modules)} module(s): {', '.join(str(m) for m in modules)}")
