"""The CLI's command table: contract §14 commands, global options anywhere, IDs checked, completion scripts."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from req1_server.client.completion import command_tree, script
from req1_server.client.parser import build_parser
from req1_server.client.transfer import import_format

ID = "0195A1B2-0000-7000-8000-000000000001"


def test_every_contract_command_exists() -> None:
    tree = command_tree(build_parser())
    for path in ["login", "logout", "list modules", "list objects", "list links", "list link-types",
                 "create object", "create link", "create link-type", "update object", "delete object",
                 "delete link", "publish", "validate", "review", "resolve-suspect", "import", "reorder", "export",
                 "baseline create", "baseline list", "baseline diff", "completion"]:
        assert path in tree, path


def test_global_options_before_or_after_the_command() -> None:
    parser = build_parser()
    late = parser.parse_args(["list", "objects", "--module-id", ID, "--json", "--url", "http://h:1"])
    early = parser.parse_args(["--json", "--url", "http://h:1", "list", "objects", "--module-id", ID])
    for args in (late, early):
        assert (args.command, args.json, args.url, args.module_id) == (
            "list objects", True, "http://h:1", ID.lower())
    plain = parser.parse_args(["validate", "--module-id", ID])
    assert (plain.json, plain.url, plain.token) == (False, None, None)


def test_defaults_of_the_contract() -> None:
    parser = build_parser()
    create = parser.parse_args(["create", "object", "--module-id", ID])
    assert (create.classification, create.heading, create.parent_id) == ("normative", None, None)
    publish = parser.parse_args(["publish", "--module-id", ID, "-o", "x.html"])
    assert (publish.format, publish.output) == ("html", "x.html")
    assert parser.parse_args(["export", "--module-id", ID, "-o", "-"]).format == "reqif"


@pytest.mark.parametrize("argv", [
    ["list", "objects", "--module-id", "../users"],
    ["reorder", "--module-id", ID, "--object-id", ID, "--action", "sideways"],
    ["list", "objects"],
    ["nope"],
])
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(argv)
    assert exc.value.code == 2
    assert "error:" in capsys.readouterr().err


@pytest.mark.parametrize(("file", "explicit", "fmt"), [
    ("spec.reqifz", None, "reqifz"), ("a.CSV", None, "csv"), ("x.reqif", None, "reqif"), ("x.xml", None, "reqif"),
    ("x.txt", "csv", "csv")])
def test_import_format_by_extension(file: str, explicit: str | None, fmt: str) -> None:
    assert import_format(file, explicit) == fmt


def complete(words: str, shell_script: str) -> list[str]:
    """Run the generated bash function as bash would on TAB after ``words``."""
    parts = words.split(" ")
    program = (shell_script + "\nCOMP_WORDS=(" + " ".join(f"'{w}'" for w in parts) + ")\n"
               f"COMP_CWORD={len(parts) - 1}\n_req1_complete\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\n")
    done = subprocess.run(["bash", "--norc", "-c", program], capture_output=True, text=True, check=True)
    return [w for w in done.stdout.splitlines() if w]


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_bash_completion_completes_commands_options_and_choices() -> None:
    bash = script("bash", build_parser())
    assert "list" in complete("req1 ", bash) and "baseline" in complete("req1 ", bash)
    assert complete("req1 li", bash) == ["list"]
    assert complete("req1 list ob", bash) == ["objects"]
    assert set(complete("req1 list objects --", bash)) >= {"--module-id", "--tree", "--format", "--json"}
    assert complete("req1 --json list objects --format ", bash) == ["table", "json"]
    assert complete("req1 reorder --action d", bash) == ["down", "dedent"]
    assert complete("req1 baseline d", bash) == ["diff"]
    assert complete("req1 list objects --module-id ", bash) == []


def test_zsh_script_loads_bash_emulation() -> None:
    zsh = script("zsh", build_parser())
    assert "bashcompinit" in zsh and "complete -o default -F _req1_complete req1" in zsh
