"""``req1``: parse, resolve the server and token, run one command, print, and exit with a meaningful code.

Exit codes: 0 success; 1 an API error (its ``error.message`` is printed), an unreachable server, a bad
file, or ``validate`` finding an error; 2 a usage error or no valid login (``run 'req1 login'``); 130 Ctrl-C.
A user's mistake never shows a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

from req1_server.client import credentials
from req1_server.client.output import Out

SESSION = ("login", "logout", "whoami")
TRANSFER = ("publish", "export", "import")


async def run(args: argparse.Namespace) -> Out:
    """Resolve where and as whom, then dispatch (imports the HTTP stack only for commands that need it)."""
    from req1_server.client.api import Api
    from req1_server.client.commands import COMMANDS

    path = credentials.credentials_path()
    try:
        stored = credentials.load(path)
    except credentials.UsageError:
        if args.command not in ("login", "logout"):  # a broken file must not stand in the way of a new login
            raise
        stored = None
        args.broken_credentials = True
    url = credentials.resolve_url(args.url, os.environ.get("REQ1_URL"), stored)
    token, refreshable = credentials.resolve_token(url, args.token, os.environ.get("REQ1_TOKEN"), stored)
    async with Api(url, token, refreshable, store=path) as api:
        if args.command in SESSION:
            from req1_server.client import session

            act = {"login": session.login, "logout": session.logout, "whoami": session.whoami}[args.command]
            return await act(api, args, path)
        if args.command in TRANSFER:
            from req1_server.client import transfer

            handler = {"publish": transfer.publish, "export": transfer.export, "import": transfer.import_file}
            return await handler[args.command](api, args)
        return await COMMANDS[args.command](api, args)


def emit(out: Out, as_json: bool) -> None:
    if as_json:
        print(json.dumps(out.data, indent=2, ensure_ascii=False))
    elif out.text:
        print(out.text)


def fail(message: str, as_json: bool, payload: dict[str, object] | None = None) -> None:
    if as_json:
        print(json.dumps(payload or {"error": {"code": None, "message": message, "status": None}}), file=sys.stderr)
    else:
        print(f"req1: error: {message}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    from req1_server.client.parser import build_parser, children

    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:  # `req1` or `req1 list` alone: say what may follow
        (children(parser).get(args.group, parser) if args.group else parser).print_help(sys.stderr)
        return 2
    if args.command == "completion":
        from req1_server.client.completion import script

        sys.stdout.write(script(args.shell, parser))
        return 0
    import asyncio  # not before: help and completion stay quick

    from req1_server.client.api import ApiError

    try:
        out = asyncio.run(run(args))
    except ApiError as err:
        fail(err.message, args.json, err.as_json())
        return err.exit_code
    except credentials.UsageError as err:
        fail(str(err), args.json)
        return 1
    except KeyboardInterrupt:
        return 130
    emit(out, args.json)
    return out.code


def entry() -> None:
    """The console script: flush stdout even into a closed pipe (``req1 list objects | head``)."""
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        code = 1
    sys.exit(code)
