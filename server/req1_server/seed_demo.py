"""Demo content for `make up` / SEED_DEMO_DATA: one workspace and project, two modules with a dozen
objects, links between them (one suspect), attribute definitions and a baseline. Fills only an empty
database, so restarting never duplicates it."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from req1_server.domain.fingerprint import content_fingerprint
from req1_server.domain.ids import new_id
from req1_server.domain.sanitize import html_to_text, sanitize_html
from req1_server.store import history, outline

ADMIN_ID = uuid.UUID("00000000-0000-0000-0000-000000000002")
SATISFIES = uuid.UUID("00000000-0000-0000-0000-000000000010")
VERIFIES = uuid.UUID("00000000-0000-0000-0000-000000000012")

# (depth, heading, body, classification, attributes)
REQUIREMENTS: list[tuple[int, str, str, str, dict[str, Any]]] = [
    (0, "Introduction", "<p>Requirements for the <strong>brake-by-wire</strong> controller.</p>", "heading", {}),
    (1, "Purpose", "<p>Defines what the controller shall do and how it is verified.</p>", "informative", {}),
    (0, "Functional requirements", "", "heading", {}),
    (1, "Braking response", "<p>The controller shall apply full braking force within 150 ms of a "
                            "brake request.</p>", "normative", {"priority": "high", "safety_relevant": True}),
    (1, "Redundant sensing", "<p>Pedal position shall be measured by two independent sensors.</p>", "normative",
     {"priority": "high", "safety_relevant": True}),
    (1, "Diagnostics", "<p>Sensor disagreement above 5 % shall raise a fault within 20 ms.</p>", "normative",
     {"priority": "medium", "safety_relevant": True}),
    (0, "Non-functional requirements", "", "heading", {}),
    (1, "Availability", "<p>The controller shall be available 99.999 % of driving time.</p>", "normative",
     {"priority": "medium", "safety_relevant": False}),
]
TESTS: list[tuple[int, str, str, str, dict[str, Any]]] = [
    (0, "Test cases", "", "heading", {}),
    (1, "Brake latency test", "<p>Measure the time from request to full force on the HIL rig.</p>", "normative", {}),
    (1, "Sensor disagreement test", "<p>Inject a 6 % offset on sensor B and expect a fault.</p>", "normative", {}),
    (1, "Endurance run", "<p>1000 hours of simulated driving without unavailability.</p>", "normative", {}),
]


async def _module(conn: asyncpg.Connection, project_id: uuid.UUID, name: str, prefix: str, description: str,
                  rows: list[tuple[int, str, str, str, dict[str, Any]]]) -> list[uuid.UUID]:
    module_id = new_id()
    await conn.execute("INSERT INTO module (id, project_id, name, prefix, description) VALUES ($1, $2, $3, $4, $5)",
                       module_id, project_id, name, prefix, description)
    latest: dict[int, uuid.UUID] = {}
    objects = []
    for depth, heading, body, classification, attributes in rows:
        clean = sanitize_html(body) if body else None
        obj = outline.NewObject(
            id=new_id(), parent_id=latest.get(depth - 1) if depth else None, heading=heading, body=clean,
            body_text=html_to_text(clean), attributes=attributes, classification=classification,
            fingerprint=content_fingerprint(heading, clean, attributes),
        )
        latest[depth] = obj.id
        objects.append(obj)
    if name == "System Requirements":
        await conn.execute(
            "INSERT INTO attribute_definition (id, module_id, name, data_type, enum_values, default_value) "
            "VALUES ($1, $2, 'priority', 'enum', $3, 'medium'), ($4, $2, 'safety_relevant', 'bool', NULL, NULL)",
            new_id(), module_id, ["low", "medium", "high"], new_id(),  # the jsonb codec encodes the list
        )
    await outline.create_objects(conn, module_id, objects, ADMIN_ID)
    if name == "System Requirements":
        # a saved grid view (configs as the web UI's lib/grid.ts reads them); the jsonb codec encodes them
        await conn.execute(
            "INSERT INTO view (id, module_id, name, column_config, filter_config, sort_config) "
            "VALUES ($1, $2, 'Safety-relevant', $3, $4, $5)",
            new_id(), module_id,
            [{"key": "main", "width": 460}, {"key": "attr:priority", "width": 110},
             {"key": "attr:safety_relevant", "width": 130}, {"key": "indicators", "width": 150},
             {"key": "id", "width": 96, "hidden": True}],
            {"attrs": {"safety_relevant": "yes"}}, [{"key": "attr:priority", "dir": "asc"}],
        )
    return [o.id for o in objects]


async def seed_demo(conn: asyncpg.Connection) -> None:
    """Create the demo workspace when there is no workspace yet (one transaction)."""
    if await conn.fetchval("SELECT EXISTS (SELECT 1 FROM workspace)"):
        return
    async with conn.transaction():
        workspace_id, project_id = new_id(), new_id()
        await conn.execute("INSERT INTO workspace (id, name, description) VALUES ($1, 'Demo', $2)", workspace_id,
                           "Sample content to explore req1")
        # per-workspace access: the accounts that exist now (the first admin) are its members, as 0070 did
        await conn.execute("INSERT INTO workspace_member (workspace_id, user_id, role) "
                           "SELECT $1, id, role FROM app_user", workspace_id)
        await conn.execute("INSERT INTO project (id, workspace_id, name, description) VALUES ($1, $2, $3, $4)",
                           project_id, workspace_id, "Brake-by-wire", "A small example project")
        reqs = await _module(conn, project_id, "System Requirements", "SYS", "What the system shall do", REQUIREMENTS)
        tests = await _module(conn, project_id, "Verification", "TST", "How requirements are verified", TESTS)
        pairs = [(tests[1], reqs[3], VERIFIES), (tests[2], reqs[5], VERIFIES), (tests[3], reqs[7], VERIFIES),
                 (reqs[4], reqs[3], SATISFIES)]
        await conn.execute(
            """
            INSERT INTO link (id, source_object_id, target_object_id, link_type_id, source_fingerprint,
                              target_fingerprint)
            SELECT u.id, u.s, u.t, u.ty, s.content_fingerprint, t.content_fingerprint
            FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[]) AS u(id, s, t, ty)
            JOIN object s ON s.id = u.s JOIN object t ON t.id = u.t
            """,
            [new_id() for _ in pairs], [p[0] for p in pairs], [p[1] for p in pairs], [p[2] for p in pairs],
        )
        module_id = await conn.fetchval("SELECT module_id FROM object WHERE id = $1", reqs[0])
        baseline_id = new_id()
        await conn.execute("INSERT INTO baseline (id, module_id, name, description, created_by) "
                           "VALUES ($1, $2, 'Draft 1', 'First review', $3)", baseline_id, module_id, ADMIN_ID)
        await conn.execute("INSERT INTO baseline_entry (baseline_id, object_id, version) "
                           "SELECT $1, id, current_version FROM object WHERE module_id = $2 AND deleted_at IS NULL",
                           baseline_id, module_id)
        # a later edit after the baseline: one suspect link and a diff to look at
        body = sanitize_html("<p>The controller shall apply full braking force within 120 ms of a brake request.</p>")
        fingerprint = content_fingerprint("Braking response", body,
                                          {"priority": "high", "safety_relevant": True})
        await conn.execute(
            "UPDATE object SET body = $2, body_text = $3, content_fingerprint = $4, "
            "current_version = current_version + 1, updated_at = now() WHERE id = $1",
            reqs[3], body, html_to_text(body), fingerprint,
        )
        await history.flag_suspects(conn, [(reqs[3], fingerprint)])
        await history.write_history(conn, [reqs[3]], ADMIN_ID, "update")
        # and a second baseline after it, so the baselines screen has two to compare
        second_id = new_id()
        await conn.execute("INSERT INTO baseline (id, module_id, name, description, created_by, created_at) "
                           "VALUES ($1, $2, 'Draft 2', 'Faster braking response', $3, now() + interval '1 ms')",
                           second_id, module_id, ADMIN_ID)
        await conn.execute("INSERT INTO baseline_entry (baseline_id, object_id, version) "
                           "SELECT $1, id, current_version FROM object WHERE module_id = $2 AND deleted_at IS NULL",
                           second_id, module_id)


async def seed(conn: asyncpg.Connection, settings: object) -> bool:
    """The hook migrate.py calls under the migration lock; True when demo content was written."""
    had = await conn.fetchval("SELECT EXISTS (SELECT 1 FROM workspace)")
    await seed_demo(conn)
    return not had
