"""The code's shape, checked so it stays readable as it grows (issue #12): no Python file in server/ or operator/
over 400 lines, no aiohttp request handler in server/req1_server/resources/ over 40 lines (handlers parse, call
the store and respond; anything longer belongs in the store or the domain)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAX_FILE_LINES = 400
MAX_HANDLER_LINES = 40
RESOURCES = ROOT / "server" / "req1_server" / "resources"

#: Files allowed over the limit for now, each with the issue that splits it. An entry must still be over the limit
#: (the test says when it can go), so the list only shrinks.
FILE_EXCEPTIONS: dict[str, str] = {}


def python_files() -> Iterator[Path]:
    for top in ("server", "operator"):
        for path in sorted((ROOT / top).rglob("*.py")):
            if not {"__pycache__", "node_modules", ".venv"} & set(path.parts):
                yield path


def line_count(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def handlers(path: Path) -> Iterator[tuple[str, int, int]]:
    """(name, first line, length) of every function taking the aiohttp request first (`request: web.Request`)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) or not node.args.args:
            continue
        first = node.args.args[0]
        annotation = ast.unparse(first.annotation) if first.annotation is not None else ""
        if annotation in {"web.Request", "Request", "aiohttp.web.Request"}:
            yield node.name, node.lineno, (node.end_lineno or node.lineno) - node.lineno + 1


def test_no_python_file_is_over_400_lines() -> None:
    too_long = {
        str(p.relative_to(ROOT)): n
        for p in python_files()
        if (n := line_count(p)) > MAX_FILE_LINES and str(p.relative_to(ROOT)) not in FILE_EXCEPTIONS
    }
    assert not too_long, f"split these by job (at most {MAX_FILE_LINES} lines each): {too_long}"


@pytest.mark.parametrize("name", sorted(FILE_EXCEPTIONS) or ["(none)"])
def test_known_exceptions_are_still_needed(name: str) -> None:
    if name == "(none)":
        return
    assert line_count(ROOT / name) > MAX_FILE_LINES, f"{name} is split ({FILE_EXCEPTIONS[name]}): drop its entry"


def test_no_request_handler_is_over_40_lines() -> None:
    found = [
        (f"{path.relative_to(ROOT)}:{line} {name}", length)
        for path in sorted(RESOURCES.rglob("*.py"))
        for name, line, length in handlers(path)
    ]
    # The detector must see the handlers, or this test would pass on nothing.
    assert len(found) >= 80, found
    assert any(where.endswith(" update_object") for where, _ in found), "update_object not recognised as a handler"
    too_long = {where: length for where, length in found if length > MAX_HANDLER_LINES}
    assert not too_long, f"handlers over {MAX_HANDLER_LINES} lines (move the work to store/ or domain/): {too_long}"


def test_the_handler_detector_measures_from_def_to_last_line(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    body = "\n".join(f"    x{i} = {i}" for i in range(41))
    sample.write_text(
        "from aiohttp import web\n\n\n"
        f"async def long_one(request: web.Request) -> web.Response:\n{body}\n    return web.Response()\n\n\n"
        "def helper(value: int) -> int:\n    return value\n"
    )
    assert list(handlers(sample)) == [("long_one", 4, 43)]
