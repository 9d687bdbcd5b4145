"""The ``req1`` CLI (contract §14) as a user runs it: the installed console script in a subprocess, against a
real ``req1-server`` process on the real PostgreSQL, Redis and S3 fixtures, with its own HOME."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import ADMIN_EMAIL, ADMIN_PASSWORD, ServerProcess, SpawnServer

from req1_server.client import credentials
from req1_server.client.api import Api
from req1_server.client.credentials import Credentials
from req1_testenv.process import free_port

REQ1 = str(Path(sys.executable).parent / "req1")
NOT_LOGGED_IN = "not logged in or session expired: run 'req1 login'"


@dataclass
class Cli:
    """Runs ``req1`` with HOME and XDG_CONFIG_HOME in a temporary directory."""

    home: Path
    env: dict[str, str]

    @property
    def credentials(self) -> Path:
        return self.home / "config" / "req1" / "credentials.json"

    def run(self, *args: str, stdin: str | None = None, env: dict[str, str] | None = None
            ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([REQ1, *args], input=stdin, capture_output=True, text=True, timeout=120,
                              env={**self.env, **(env or {})}, check=False)
        assert "Traceback" not in done.stderr, done.stderr
        return done

    def ok(self, *args: str, **kw: Any) -> str:
        done = self.run(*args, **kw)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        return done.stdout

    def js(self, *args: str, **kw: Any) -> Any:
        return json.loads(self.ok("--json", *args, **kw))

    def fails(self, code: int, *args: str, **kw: Any) -> str:
        done = self.run(*args, **kw)
        assert done.returncode == code, (args, done.returncode, done.stdout, done.stderr)
        return done.stderr


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    home = tmp_path / "home"
    home.mkdir()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "XDG_CONFIG_HOME": str(home / "config"),
           "LANG": "C.UTF-8"}
    return Cli(home, env)


@pytest.fixture
def server(spawn_server: SpawnServer, server_env: dict[str, str]) -> ServerProcess:
    return spawn_server(server_env)


def call(server: ServerProcess, method: str, path: str, token: str, body: Any = None) -> tuple[int, Any]:
    """A direct API call (setup the CLI has no command for, and checks from outside the CLI)."""
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Authorization": f"Bearer {token}", **({"Content-Type": "application/json"} if data else {})}
    request = urllib.request.Request(server.url + "/api/v1" + path, data=data, method=method,  # noqa: S310
                                     headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:  # noqa: S310 - http to the test server
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


def login(cli: Cli, server: ServerProcess) -> str:
    cli.ok("login", "--url", server.url, "--email", ADMIN_EMAIL, "--password", ADMIN_PASSWORD)
    token: str = json.loads(cli.credentials.read_text())["token"]
    return token


def make_module(server: ServerProcess, token: str, **settings: Any) -> tuple[str, str]:
    """(project id, module id) of a new workspace → project → module."""
    status, ws = call(server, "POST", "/workspaces", token, {"name": "CLI"})
    assert status == 201, ws
    status, project = call(server, "POST", f"/workspaces/{ws['id']}/projects", token, {"name": "P"})
    assert status == 201, project
    status, module = call(server, "POST", "/modules", token,
                          {"name": "System", "project_id": project["id"], "prefix": "SYS", **settings})
    assert status == 201, module
    return project["id"], module["id"]


def test_login_stores_a_private_token_that_logout_revokes(cli: Cli, server: ServerProcess) -> None:
    out = cli.ok("login", "--url", server.url + "/", "--email", ADMIN_EMAIL, stdin=ADMIN_PASSWORD + "\n")
    assert f"logged in to {server.url} as {ADMIN_EMAIL}" in out
    assert stat.S_IMODE(cli.credentials.stat().st_mode) == 0o600
    stored = json.loads(cli.credentials.read_text())
    assert stored["url"] == server.url and stored["token"] and stored["refresh_token"]

    me = cli.js("whoami")  # no --url: the stored login's server
    assert (me["email"], me["role"], me["url"]) == (ADMIN_EMAIL, "admin", server.url)

    assert cli.ok("logout").strip() == "logged out"
    assert not cli.credentials.exists()
    assert call(server, "GET", "/auth/me", stored["token"])[0] == 401  # revoked on the server, not only forgotten
    assert NOT_LOGGED_IN in cli.fails(2, "whoami", "--url", server.url)

    err = cli.fails(1, "login", "--url", server.url, "--email", ADMIN_EMAIL, "--password", "wrong-password")
    assert err.strip() == "req1: error: invalid credentials"
    assert not cli.credentials.exists()


def test_an_expired_token_is_refreshed_once_then_login_is_asked_for(cli: Cli, server: ServerProcess) -> None:
    login(cli, server)
    stored = json.loads(cli.credentials.read_text())
    cli.credentials.write_text(json.dumps({**stored, "token": "expired.or.garbage"}))
    names = [t["name"] for t in cli.js("list", "link-types")]
    assert "satisfies" in names
    rotated = json.loads(cli.credentials.read_text())
    assert rotated["token"] != "expired.or.garbage" and rotated["refresh_token"] != stored["refresh_token"]
    assert stat.S_IMODE(cli.credentials.stat().st_mode) == 0o600

    cli.credentials.write_text(json.dumps({**rotated, "token": "bad", "refresh_token": stored["refresh_token"]}))
    assert NOT_LOGGED_IN in cli.fails(2, "list", "link-types")  # a replayed refresh token is refused
    err = json.loads(cli.fails(2, "--json", "list", "modules"))
    assert err["error"]["message"] == NOT_LOGGED_IN


async def test_a_refresh_saved_by_another_process_is_adopted_not_replayed(server: ServerProcess,
                                                                          tmp_path: Path) -> None:
    """Two ``req1`` commands find the token expired: the second, under the lock, finds the pair the first saved
    and uses it; sending the spent refresh token again would be a replay, which revokes the session."""
    path = tmp_path / "credentials.json"
    _, body = call(server, "POST", "/auth/login", "", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    spent = Credentials(server.url, "expired", body["refresh_token"])
    _, fresh = call(server, "POST", "/auth/refresh", "", {"refresh_token": body["refresh_token"]})  # the other one
    credentials.save(path, Credentials(server.url, fresh["token"], fresh["refresh_token"]))
    async with Api(server.url, spent.token, spent, store=path) as api:
        me = await api.get("/auth/me")
    assert me["email"] == ADMIN_EMAIL
    assert call(server, "GET", "/auth/me", fresh["token"])[0] == 200  # the session is alive
    assert credentials.load(path) == Credentials(server.url, fresh["token"], fresh["refresh_token"])


def test_a_broken_credentials_file_does_not_block_login(cli: Cli, server: ServerProcess) -> None:
    cli.credentials.parent.mkdir(parents=True)
    cli.credentials.write_text("{broken")
    cli.credentials.chmod(0o600)
    assert "run 'req1 login' again" in cli.fails(1, "list", "modules", "--url", server.url)
    login(cli, server)
    assert cli.js("whoami")["email"] == ADMIN_EMAIL


def test_commands_of_the_contract(cli: Cli, server: ServerProcess, tmp_path: Path) -> None:
    token = login(cli, server)
    project_id, module_id = make_module(server, token)
    m = ("--module-id", module_id)

    assert [x["id"] for x in cli.js("list", "modules", "--project-id", project_id)] == [module_id]
    assert "System" in cli.ok("list", "modules").splitlines()[1]
    intro = cli.js("create", "object", *m, "--heading", "Intro", "--body", "<p>hello</p><script>x</script>")
    assert intro["body"] == "<p>hello</p>" and intro["classification"] == "normative"
    child = cli.js("create", "object", *m, "--heading", "Scope", "--parent-id", intro["id"],
                   "--classification", "informative")
    last = cli.js("create", "object", *m, "--heading", "Last")
    assert [intro["level"], child["level"], last["level"]] == ["1", "1.1", "2"]

    table = cli.ok("list", "objects", *m).splitlines()
    assert table[0].split() == ["LEVEL", "ID", "HEADING", "CLASS", "VER", "REVIEWED"]
    assert table[2].split()[:3] == ["1.1", child["id"], "Scope"]
    tree = cli.ok("list", "objects", *m, "--tree").splitlines()
    assert tree[0].startswith("[ ] 1 Intro") and tree[1].startswith("  [ ] 1.1 Scope")
    assert [o["id"] for o in json.loads(cli.ok("list", "objects", *m, "--format", "json"))] == [
        intro["id"], child["id"], last["id"]]

    renamed = cli.js("update", "object", *m, "--object-id", child["id"], "--heading", "Scope and purpose")
    assert (renamed["heading"], renamed["current_version"]) == ("Scope and purpose", 2)
    assert cli.js("reorder", *m, "--object-id", last["id"], "--action", "up")["level"] == "1"
    err = cli.fails(1, "reorder", *m, "--object-id", last["id"], "--action", "dedent")
    assert err.strip() == "req1: error: cannot dedent: object is already at root level"

    link_type = cli.js("create", "link-type", "--name", "refines", "--description", "CLI test")
    assert "refines" in cli.ok("list", "link-types")
    link = cli.js("create", "link", "--source", last["id"], "--target", intro["id"], "--link-type-id", link_type["id"])
    assert cli.ok("list", "links", *m).splitlines()[1].split() == [
        link["id"], last["id"], intro["id"], link_type["id"], "no"]
    err = cli.fails(1, "create", "link", "--source", last["id"], "--target", last["id"],
                    "--link-type-id", link_type["id"])
    assert err.strip() == "req1: error: source and target must be different objects"
    cli.ok("update", "object", *m, "--object-id", intro["id"], "--body", "<p>changed</p>")
    assert [k["suspect"] for k in cli.js("list", "links")] == [True]
    assert cli.js("resolve-suspect", "--link-id", link["id"])["suspect"] is False

    reviewed = cli.js("review", *m)
    assert sorted(o["id"] for o in reviewed) == sorted([intro["id"], child["id"], last["id"]])
    assert cli.ok("review", *m).strip() == "0 object(s) reviewed"
    assert all(o["reviewed_fingerprint"] == o["content_fingerprint"] for o in cli.js("list", "objects", *m))

    report = cli.js("validate", *m)
    assert report["object_count"] == 3 and not [i for i in report["issues"] if i["severity"] == "error"]
    assert call(server, "PATCH", f"/modules/{module_id}", token, {"required_attributes": ["owner"]})[0] == 200
    done = cli.run("validate", *m)
    assert done.returncode == 1 and "missing_required_attribute" in done.stdout
    assert call(server, "PATCH", f"/modules/{module_id}", token, {"required_attributes": []})[0] == 200

    html, csv = tmp_path / "out.html", tmp_path / "out.csv"
    assert "bytes" in cli.ok("publish", *m, "-o", str(html))
    assert "<h1>System</h1>" in html.read_text() and "Scope and purpose" in html.read_text()
    assert cli.js("publish", *m, "--format", "csv", "-o", str(csv))["bytes"] == csv.stat().st_size
    assert csv.read_bytes().startswith(b"id,level,heading")
    err = cli.fails(1, "publish", *m, "--format", "nope", "-o", str(tmp_path / "x"))
    assert "unsupported format 'nope'" in err and not (tmp_path / "x").exists()

    reqif = tmp_path / "system.reqif"
    cli.ok("export", *m, "-o", str(reqif))
    assert b"REQ-IF" in reqif.read_bytes()
    imported = cli.js("import", "--project-id", project_id, "-f", str(reqif))
    assert imported["objects_created"] == 3 and imported["links_created"] == 1
    copy = imported["module_ids"][0]
    assert [o["heading"] for o in cli.js("list", "objects", "--module-id", copy)] == [
        "Last", "Intro", "Scope and purpose"]
    rows = tmp_path / "rows.csv"
    rows.write_text("level,heading\n1,From CSV\n1.1,Nested\n")
    assert cli.js("import", *m, "-f", str(rows)) == {"objects_created": 2}
    assert "CSV import needs --module-id" in cli.fails(1, "import", "-f", str(rows))

    first = cli.js("baseline", "create", *m, "--name", "v1", "--description", "first")
    cli.ok("update", "object", *m, "--object-id", child["id"], "--heading", "Scope v2")
    second = cli.js("baseline", "create", *m, "--name", "v2")
    assert [b["name"] for b in cli.js("baseline", "list", *m)] == ["v2", "v1"]
    diff = cli.ok("baseline", "diff", "--a", first["id"], "--b", second["id"])
    assert "~ " + child["id"] in diff and diff.splitlines()[-1] == "0 added, 0 removed, 1 modified"

    assert cli.js("delete", "link", "--link-id", link["id"]) == {"id": link["id"], "deleted": True}
    cli.ok("delete", "object", *m, "--object-id", last["id"])
    assert last["id"] not in [o["id"] for o in cli.js("list", "objects", *m)]
    err = cli.fails(1, "delete", "object", *m, "--object-id", last["id"])
    assert err.strip() == f"req1: error: object {last['id']} not found"


def test_roles_and_tokens_from_the_environment(cli: Cli, server: ServerProcess) -> None:
    token = login(cli, server)
    _, module_id = make_module(server, token)
    status, _ = call(server, "POST", "/users", token, {"email": "v@example.com", "display_name": "V",
                                                      "role": "viewer", "password": "viewer-password"})
    assert status == 201
    status, body = call(server, "POST", "/auth/login", "", {"email": "v@example.com", "password": "viewer-password"})
    viewer = {"REQ1_TOKEN": body["token"]}
    assert cli.js("whoami", env=viewer)["role"] == "viewer"  # REQ1_TOKEN wins over the stored admin login
    err = cli.fails(1, "create", "object", "--module-id", module_id, "--heading", "x", env=viewer)
    assert err.strip() == "req1: error: insufficient role: requires editor"
    err = json.loads(cli.fails(1, "--json", "create", "object", "--module-id", module_id, env=viewer))
    assert err == {"error": {"code": "FORBIDDEN", "message": "insufficient role: requires editor", "status": 403}}
    assert cli.js("whoami", "--token", token)["role"] == "admin"


def test_lists_page_through_total(cli: Cli, server: ServerProcess, tmp_path: Path) -> None:
    token = login(cli, server)
    _, module_id = make_module(server, token)
    rows = tmp_path / "many.csv"
    rows.write_text("level,heading\n" + "".join(f"{i},Requirement {i}\n" for i in range(1, 1202)))
    assert cli.js("import", "--module-id", module_id, "-f", str(rows))["objects_created"] == 1201
    items = cli.js("list", "objects", "--module-id", module_id)
    assert len(items) == 1201 and len({o["id"] for o in items}) == 1201  # two pages of limit=1000
    assert [o["level"] for o in items[998:1002]] == ["999", "1000", "1001", "1002"]


def test_clear_errors_without_a_server(cli: Cli, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    err = cli.fails(1, "list", "modules", "--url", url, env={"REQ1_TOKEN": "t"})
    assert err.startswith(f"req1: error: cannot reach the req1 server at {url}")
    assert NOT_LOGGED_IN in cli.fails(2, "list", "modules", "--url", url)
    assert "invalid URL" in cli.fails(1, "list", "modules", "--url", "localhost:8080", env={"REQ1_TOKEN": "t"})
    assert "invalid UUID 'x'" in cli.fails(2, "list", "objects", "--module-id", "x")
    err = cli.fails(1, "import", "--project-id", "00000000-0000-0000-0000-000000000001", "-f",
                    str(tmp_path / "missing.reqif"), "--url", url, env={"REQ1_TOKEN": "t"})
    assert err.startswith(f"req1: error: cannot read {tmp_path / 'missing.reqif'}")
    script = cli.ok("completion", "bash")
    assert "complete -o default -F _req1_complete req1" in script
