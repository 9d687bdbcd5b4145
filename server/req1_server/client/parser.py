"""The command table of contract §14 as argparse; the completion scripts are generated from it too.

Global options (``--url``, ``--token``, ``--json``) work before or after the command: each leaf parser
repeats them with ``SUPPRESS`` defaults, so a value given late is not overwritten by the root's default.
"""

from __future__ import annotations

import argparse
import uuid

PROG = "req1"


def uuid_arg(value: str) -> str:
    """IDs are checked before any request (they become URL path segments), and lowercased."""
    try:
        return str(uuid.UUID(value.strip()))
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid UUID {value!r}") from None


def children(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """The sub-commands of a parser by name (empty for a leaf)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _globals(parser: argparse.ArgumentParser, default: object) -> None:
    g = parser.add_argument_group("global options")
    g.add_argument("--url", default=default, metavar="URL",
                   help="server URL (env REQ1_URL, else the stored login's, else http://localhost:8080)")
    g.add_argument("--token", default=default, metavar="TOKEN",
                   help="access token (env REQ1_TOKEN, else the stored login)")
    g.add_argument("--json", action="store_true", default=default, help="machine-readable JSON on stdout")


class _Tree:
    """Adds leaf commands under nested sub-parsers, each with the global options and its ``command`` name."""

    def __init__(self, root: argparse.ArgumentParser) -> None:
        self.subs = root.add_subparsers(title="commands", metavar="COMMAND")
        self.groups: dict[str, argparse._SubParsersAction[argparse.ArgumentParser]] = {}

    def group(self, name: str, help_text: str) -> None:
        p = self.subs.add_parser(name, help=help_text, description=help_text)
        self.groups[name] = p.add_subparsers(title="commands", metavar="COMMAND")
        p.set_defaults(command=None, group=name)

    def leaf(self, path: str, help_text: str) -> argparse.ArgumentParser:
        *group, name = path.split()
        subs = self.groups[group[0]] if group else self.subs
        p = subs.add_parser(name, help=help_text, description=help_text)
        _globals(p, argparse.SUPPRESS)
        p.set_defaults(command=path)
        return p


def _module(p: argparse.ArgumentParser, required: bool = True) -> None:
    p.add_argument("--module-id", type=uuid_arg, required=required, metavar="ID")


def build_parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog=PROG, description="Command-line client of the req1 API.")
    _globals(root, None)
    root.set_defaults(command=None, group=None, json=False)
    t = _Tree(root)

    p = t.leaf("login", "log in and store the token (~/.config/req1/credentials.json, mode 0600)")
    p.add_argument("--email", required=True)
    p.add_argument("--password", help="prompted for when omitted (read from stdin when it is not a terminal)")
    t.leaf("logout", "end the login session on the server and forget the stored token")
    t.leaf("whoami", "show the logged-in user")

    t.group("list", "list modules, objects, links or link types")
    p = t.leaf("list modules", "modules (table ID, NAME, DESCRIPTION)")
    p.add_argument("--project-id", type=uuid_arg, metavar="ID")
    p = t.leaf("list objects", "objects of a module in document order")
    _module(p)
    p.add_argument("--tree", action="store_true", help="indent by hierarchy, [R] = reviewed")
    p.add_argument("--format", choices=["table", "json"], default="table")
    p = t.leaf("list links", "links (of a module: source or target in it)")
    _module(p, required=False)
    t.leaf("list link-types", "link types")

    t.group("create", "create an object, a link or a link type")
    p = t.leaf("create object", "create an object (appended under its parent)")
    _module(p)
    p.add_argument("--heading")
    p.add_argument("--body", help="HTML, sanitized by the server")
    p.add_argument("--classification", choices=["normative", "informative", "heading"], default="normative")
    p.add_argument("--parent-id", type=uuid_arg, metavar="ID")
    p = t.leaf("create link", "link two objects")
    p.add_argument("--source", type=uuid_arg, required=True, metavar="OBJECT_ID")
    p.add_argument("--target", type=uuid_arg, required=True, metavar="OBJECT_ID")
    p.add_argument("--link-type-id", type=uuid_arg, required=True, metavar="ID")
    p = t.leaf("create link-type", "create a link type")
    p.add_argument("--name", required=True)
    p.add_argument("--description")

    t.group("update", "update an object")
    p = t.leaf("update object", "change an object's heading, body or classification")
    _module(p)
    p.add_argument("--object-id", type=uuid_arg, required=True, metavar="ID")
    p.add_argument("--heading")
    p.add_argument("--body")
    p.add_argument("--classification", choices=["normative", "informative", "heading"])

    t.group("delete", "delete an object or a link")
    p = t.leaf("delete object", "delete an object (soft: history and baselines keep it)")
    _module(p)
    p.add_argument("--object-id", type=uuid_arg, required=True, metavar="ID")
    p = t.leaf("delete link", "delete a link")
    p.add_argument("--link-id", type=uuid_arg, required=True, metavar="ID")

    p = t.leaf("publish", "publish a module (bytes as served) to a file, '-' for stdout")
    _module(p)
    p.add_argument("--format", default="html", help="html, md, csv, … (whatever the server supports)")
    p.add_argument("-o", "--output", required=True, metavar="FILE")
    p = t.leaf("validate", "validate a module; exit code 1 when an issue is an error")
    _module(p)
    p = t.leaf("review", "mark one object, or every object that needs review, as reviewed")
    _module(p)
    p.add_argument("--object-id", type=uuid_arg, metavar="ID")
    p = t.leaf("resolve-suspect", "clear a link's suspect flag")
    p.add_argument("--link-id", type=uuid_arg, required=True, metavar="ID")
    p = t.leaf("import", "import ReqIF (into a project) or CSV (into a module)")
    p.add_argument("--project-id", type=uuid_arg, metavar="ID")
    _module(p, required=False)
    p.add_argument("-f", "--file", required=True, metavar="FILE")
    p.add_argument("--format", choices=["reqif", "reqifz", "csv"], help="default: by extension, else reqif")
    p = t.leaf("reorder", "move an object up, down, in or out")
    _module(p)
    p.add_argument("--object-id", type=uuid_arg, required=True, metavar="ID")
    p.add_argument("--action", choices=["up", "down", "indent", "dedent"], required=True)
    p = t.leaf("export", "export a module as ReqIF to a file, '-' for stdout")
    _module(p)
    p.add_argument("-o", "--output", required=True, metavar="FILE")
    p.add_argument("--format", choices=["reqif", "reqifz"], default="reqif")

    t.group("baseline", "create, list and compare baselines")
    p = t.leaf("baseline create", "snapshot a module's live objects")
    _module(p)
    p.add_argument("--name", required=True)
    p.add_argument("--description")
    p = t.leaf("baseline list", "a module's baselines, newest first")
    _module(p)
    p = t.leaf("baseline diff", "what changed between two baselines of one module")
    p.add_argument("--a", type=uuid_arg, required=True, metavar="BASELINE_ID")
    p.add_argument("--b", type=uuid_arg, required=True, metavar="BASELINE_ID")

    p = t.leaf("completion", "print a shell completion script: eval \"$(req1 completion bash)\"")
    p.add_argument("shell", choices=["bash", "zsh"])
    return root
