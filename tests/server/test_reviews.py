"""Review packages, assignments and votes, package comments (extended contract §3.1 to §3.3) on the real
PostgreSQL and Redis: routes with their roles, the status graph and its signature rule, votes and the voting
summary, notifications for assignments and mentions, and what the audit log records."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import ADMIN_PASSWORD, USER_PASSWORD
from domain_api import Api

STATUSES = "draft, open, in_review, approved, rejected, closed"


@pytest.fixture
async def api(client: Any, admin_token: str) -> Api:
    return Api(client, admin_token)


async def audit(api: Api, entity_id: str, action: str | None = None) -> list[dict[str, Any]]:
    query = f"/audit-log?entity_id={entity_id}" + (f"&action={action}" if action else "")
    return list((await api.get(query))["items"])


async def test_package_routes_with_roles(api: Api, make_user: Any) -> None:
    editor, editor_token = await make_user("editor")
    _, reviewer_token = await make_user("reviewer")
    _, viewer_token = await make_user("viewer")
    m = (await api.module())["id"]
    base = f"/modules/{m}/review-packages"
    await api.error("POST", base, {"name": "P"}, status=403, token=reviewer_token,
                    message="insufficient role: requires editor")
    first = await api.post(base, {"name": "First", "description": "d"}, token=editor_token)
    assert first["status"] == "draft" and first["created_by"] == editor["id"] and first["module_id"] == m
    second = await api.post(base, {"name": "Second"}, token=editor_token)
    page = await api.get(base, token=viewer_token)
    assert [p["id"] for p in page["items"]] == [second["id"], first["id"]]  # newest first
    assert page["limit"] == 1000 and page["total"] == 2
    assert await api.get(f"{base}/{first['id']}", token=viewer_token) == first

    # PATCH: name and description editor+, status reviewer+
    await api.error("PATCH", f"{base}/{first['id']}", {"name": "x"}, status=403, token=reviewer_token,
                    message="insufficient role: requires editor")
    await api.error("PATCH", f"{base}/{first['id']}", {"status": "open"}, status=403, token=viewer_token,
                    message="insufficient role: requires reviewer")
    opened = await api.patch(f"{base}/{first['id']}", {"status": "open"}, token=reviewer_token)
    assert opened["status"] == "open" and opened["name"] == "First"
    renamed = await api.patch(f"{base}/{first['id']}", {"name": "Renamed", "description": None}, token=editor_token)
    assert renamed["name"] == "Renamed" and renamed["description"] is None and renamed["status"] == "open"
    await api.error("PATCH", f"{base}/{first['id']}", {"status": "closed"}, status=400,
                    message="review package transition from 'open' to 'closed' is not allowed")
    await api.error("PATCH", f"{base}/{first['id']}", {"status": "done"}, status=400,
                    message=f"invalid status 'done', must be one of: {STATUSES}")
    await api.error("POST", base, {"name": " "}, status=400, message="name must not be empty")

    # not found: unknown module, a package of another module, the literal voting-summary wins over {id}
    other = (await api.module())["id"]
    await api.error("GET", f"/modules/{other}/review-packages/{first['id']}", status=404,
                    message=f"review_package {first['id']} not found")
    await api.error("GET", f"/modules/{first['id']}/review-packages", status=404,
                    message=f"module {first['id']} not found")
    assert await api.get(f"/modules/{other}/review-packages/voting-summary") == []

    await api.error("DELETE", f"{base}/{second['id']}", status=403, token=reviewer_token)
    await api.delete(f"{base}/{second['id']}", token=editor_token)
    await api.error("GET", f"{base}/{second['id']}", status=404)
    actions = [e["action"] for e in reversed(await audit(api, first["id"]))]
    assert actions == ["create", "transition", "update"], actions  # the status move is one entry, not two


async def test_transition_graph_and_signature_rule(api: Api, make_user: Any) -> None:
    creator, creator_token = await make_user("editor")
    reviewer, reviewer_token = await make_user("reviewer")
    m = (await api.module(signature_config={"require_signature_transitions": ["in_review->approved"],
                                            "require_four_eyes": True}))["id"]
    base = f"/modules/{m}/review-packages"
    pkg = await api.post(base, {"name": "Brakes"}, token=creator_token)
    step = f"{base}/{pkg['id']}/transition"
    await api.error("POST", step, {"status": "open"}, status=403, token=(await make_user("viewer"))[1],
                    message="insufficient role: requires reviewer")
    await api.error("POST", step, {"status": "approved"}, status=400,
                    message="review package transition from 'draft' to 'approved' is not allowed")
    await api.error("POST", step, {"status": "nope"}, status=400,
                    message=f"invalid status 'nope', must be one of: {STATUSES}")
    for status in ("open", "in_review"):
        assert (await api.post(step, {"status": status}, expect=200, token=reviewer_token))["status"] == status

    need = "this transition requires an e-signature (password + meaning)"
    await api.error("POST", step, {"status": "approved"}, status=400, message=need, token=reviewer_token)
    await api.error("POST", step, {"status": "approved", "password": USER_PASSWORD}, status=400, message=need,
                    token=reviewer_token)
    await api.error("PATCH", f"{base}/{pkg['id']}", {"status": "approved"}, status=400, message=need,
                    token=reviewer_token)
    await api.error("POST", step, {"status": "approved", "password": USER_PASSWORD, "meaning": "Approved"},
                    status=400, message="four-eyes principle: signer cannot be the creator", token=creator_token)
    await api.error("POST", step, {"status": "approved", "password": "wrong-password", "meaning": "Approved"},
                    status=403, message="invalid password for e-signature", token=reviewer_token)
    assert (await api.get(f"{base}/{pkg['id']}"))["status"] == "in_review"  # nothing moved
    [failed] = (await api.get(f"/audit-log?action=sign_failed&user_id={reviewer['id']}"))["items"]
    assert failed["details"] == {"entity_type": "review_package", "entity_id": pkg["id"],
                                 "reason": "invalid password for e-signature"}

    approved = await api.post(step, {"status": "approved", "password": USER_PASSWORD, "meaning": "Approved"},
                              expect=200, token=reviewer_token)
    assert approved["status"] == "approved"
    [signature] = await api.get(f"/e-signatures/entity/review_package/{pkg['id']}")
    assert signature["user_id"] == reviewer["id"] and signature["meaning"] == "Approved"
    assert signature["signer_email"] == reviewer["email"] and signature["entity_version"] is None
    assert await api.get(f"/e-signatures/{signature['id']}/verify") == {
        "signature_id": signature["id"], "valid": True, "entity_changed": False}
    moved, *earlier = await audit(api, pkg["id"], "transition")  # newest first
    assert [e["details"]["signature_id"] for e in earlier] == [None, None]
    assert moved["details"] == {"from": "in_review", "to": "approved", "signature_id": signature["id"]}
    assert moved["user_id"] == reviewer["id"]

    # an unlisted transition with password and meaning still signs; the signed package cannot be deleted
    await api.post(step, {"status": "closed", "password": USER_PASSWORD, "meaning": "Closed"}, expect=200,
                   token=reviewer_token)
    assert len(await api.get(f"/e-signatures/entity/review_package/{pkg['id']}")) == 2
    assert (await api.get(f"/e-signatures/{signature['id']}/verify"))["entity_changed"] is True  # closed since
    await api.error("POST", step, {"status": "draft"}, status=400,
                    message="review package transition from 'closed' to 'draft' is not allowed")
    await api.error("DELETE", f"{base}/{pkg['id']}", status=409, message=f"review_package {pkg['id']} has e-signatures")
    assert creator["id"] == pkg["created_by"]


async def test_without_four_eyes_the_creator_may_sign(api: Api, make_user: Any) -> None:
    creator, token = await make_user("editor")
    m = (await api.module(signature_config={"require_signature_transitions": ["draft->open"]}))["id"]
    pkg = await api.post(f"/modules/{m}/review-packages", {"name": "Solo"}, token=token)
    step = f"/modules/{m}/review-packages/{pkg['id']}/transition"
    await api.error("POST", step, {"status": "open"}, status=400, token=token,
                    message="this transition requires an e-signature (password + meaning)")
    opened = await api.post(step, {"status": "open", "password": USER_PASSWORD, "meaning": "Ready"}, expect=200,
                            token=token)
    assert opened["status"] == "open" and opened["created_by"] == creator["id"]
    [signature] = await api.get(f"/e-signatures/entity/review_package/{pkg['id']}")
    assert signature["user_id"] == creator["id"] and signature["meaning"] == "Ready"


async def test_assignments_votes_summary_and_notifications(api: Api, make_user: Any) -> None:
    ann, ann_token = await make_user("reviewer", display_name="Ann Reviewer")
    bob, bob_token = await make_user("reviewer")
    _, editor_token = await make_user("editor")
    _, viewer_token = await make_user("viewer")
    m = (await api.module())["id"]
    pkg = await api.post(f"/modules/{m}/review-packages", {"name": "Wheels"}, token=editor_token)
    empty = await api.post(f"/modules/{m}/review-packages", {"name": "Empty"}, token=editor_token)
    base = f"/review-packages/{pkg['id']}/assignments"

    await api.error("POST", base, {"reviewer_id": ann["id"]}, status=403, token=ann_token,
                    message="insufficient role: requires editor")
    a = await api.post(base, {"reviewer_id": ann["id"]}, token=editor_token)
    assert a == {**a, "package_id": pkg["id"], "reviewer_id": ann["id"], "status": "pending", "comment": None,
                 "signed_at": None}
    await api.error("POST", base, {"reviewer_id": ann["id"]}, status=409,
                    message=f"user {ann['id']} is already assigned to this package")
    await api.error("POST", base, {"reviewer_id": pkg["id"]}, status=404, message=f"user {pkg['id']} not found")
    b = await api.post(base, {"reviewer_id": bob["id"]}, token=editor_token)
    open_one = await api.post(base, token=editor_token)  # nobody assigned yet
    assert open_one["reviewer_id"] is None
    await api.error("GET", f"/review-packages/{empty['id']}/assignments/{a['id']}", status=404,
                    message=f"review_assignment {a['id']} not found")

    [note] = (await api.get("/notifications", token=ann_token))["items"]
    assert note["notification_type"] == "review_assignment" and note["title"] == "You were assigned to review 'Wheels'"
    assert note["entity_type"] == "review_package" and note["entity_id"] == pkg["id"]

    # votes: the assigned reviewer or an admin; an open assignment: any reviewer+
    await api.error("PATCH", f"{base}/{a['id']}", {"status": "approved"}, status=403, token=bob_token,
                    message="only the assigned reviewer or an admin may vote")
    await api.error("PATCH", f"{base}/{a['id']}", {"status": "maybe"}, status=400, token=ann_token,
                    message="invalid status 'maybe', must be one of: pending, approved, rejected, abstained")
    voted = await api.patch(f"{base}/{a['id']}", {"status": "approved", "comment": "fine"}, token=ann_token)
    assert voted["status"] == "approved" and voted["comment"] == "fine" and voted["signed_at"] is not None
    back = await api.patch(f"{base}/{a['id']}", {"status": "pending"}, token=ann_token)
    assert back["signed_at"] is None and back["comment"] == "fine"
    await api.patch(f"{base}/{a['id']}", {"status": "approved"}, token=ann_token)
    await api.patch(f"{base}/{b['id']}", {"status": "rejected"})  # admin
    await api.error("PATCH", f"{base}/{open_one['id']}", {"status": "abstained"}, status=403, token=viewer_token,
                    message="insufficient role: requires reviewer")
    await api.patch(f"{base}/{open_one['id']}", {"status": "abstained"}, token=bob_token)
    await api.post(base, token=editor_token)

    votes = [e["details"]["status"] for e in reversed(await audit(api, a["id"], "vote"))]
    assert votes == ["approved", "pending", "approved"]
    assert [p["package_name"] for p in await api.get(f"/modules/{m}/review-packages/voting-summary")] == [
        "Empty", "Wheels"]
    summary = await api.get(f"/modules/{m}/review-packages/voting-summary", token=viewer_token)
    assert summary[1] == {"package_id": pkg["id"], "package_name": "Wheels", "package_status": "draft",
                          "total_assignments": 4, "approved": 1, "rejected": 1, "abstained": 1, "pending": 1}
    assert summary[0]["total_assignments"] == 0 and summary[0]["pending"] == 0

    listed = await api.get(base, token=viewer_token)
    assert [x["id"] for x in listed["items"]][:3] == [a["id"], b["id"], open_one["id"]] and listed["total"] == 4
    await api.error("DELETE", f"{base}/{b['id']}", status=403, token=bob_token)
    await api.delete(f"{base}/{b['id']}", token=editor_token)
    await api.delete(f"/modules/{m}/review-packages/{pkg['id']}", token=editor_token)  # cascades
    await api.error("GET", base, status=404, message=f"review_package {pkg['id']} not found")


async def test_package_comments_with_mentions(api: Api, make_user: Any) -> None:
    ann, ann_token = await make_user("reviewer", display_name="Ann Lee")
    _, bob_token = await make_user("reviewer", display_name="Bob Stone")
    dora, dora_token = await make_user("viewer", display_name="Dora")
    _, viewer_token = await make_user("viewer")
    m = (await api.module())["id"]
    pkg = await api.post(f"/modules/{m}/review-packages", {"name": "P"})
    base = f"/review-packages/{pkg['id']}/comments"
    await api.error("POST", base, {"body": "hi"}, status=403, token=viewer_token,
                    message="insufficient role: requires reviewer")
    await api.error("POST", base, {"body": "  "}, status=400, token=ann_token, message="body must not be empty")
    comment = await api.post(base, {"body": "@bob stone please look, and @Ann Lee too"}, token=ann_token)
    assert comment["author_id"] == ann["id"] and comment["package_id"] == pkg["id"]
    assert comment["mentioned_user_ids"] == [(await api.get("/auth/me", token=bob_token))["id"]]  # not the author

    [note] = (await api.get("/notifications", token=bob_token))["items"]
    assert note["title"] == "You were mentioned in a review_comment" and note["entity_type"] == "review_comment"
    assert note["entity_id"] == comment["id"] and note["body"] == comment["body"]
    assert (await api.get("/notifications/unread-count", token=ann_token)) == {"count": 0}

    await api.error("PATCH", f"{base}/{comment['id']}", {"body": "mine now"}, status=403, token=bob_token,
                    message="only the author or an admin may do this")
    edited = await api.patch(f"{base}/{comment['id']}", {"body": "@Bob Stone @Dora again"}, token=ann_token)
    assert sorted(edited["mentioned_user_ids"]) == sorted([note["user_id"], dora["id"]])
    assert (await api.get("/notifications/unread-count", token=bob_token)) == {"count": 1}  # not notified twice
    assert (await api.get("/notifications/unread-count", token=dora_token)) == {"count": 1}

    second = await api.post(base, {"body": "second"}, token=bob_token)
    page = await api.get(base, token=viewer_token)
    assert [c["id"] for c in page["items"]] == [comment["id"], second["id"]] and page["limit"] == 1000
    await api.error("DELETE", f"{base}/{second['id']}", status=403, token=ann_token,
                    message="only the author or an admin may do this")
    await api.delete(f"{base}/{second['id']}")  # admin
    await api.delete(f"{base}/{comment['id']}", token=ann_token)
    assert (await api.get(base))["total"] == 0
    assert [e["action"] for e in reversed(await audit(api, comment["id"]))] == ["create", "update", "delete"]


async def test_responses_match_the_openapi_document(client: Any, admin_token: str) -> None:
    """Every response of the review and e-signature routes is what the served document declares."""
    sys.path.insert(0, str(Path(__file__).parents[1] / "web"))
    from openapi_check import OpenApiChecker

    seen: list[tuple[str, str, int, Any]] = []

    class Recording(Api):
        async def call(self, method: str, path: str, json: Any = None, **kwargs: Any) -> Any:
            body = await super().call(method, path, json, **kwargs)
            seen.append((method, path if path.startswith("/api/") else "/api/v1" + path, self.last_status, body))
            return body

    api = Recording(client, admin_token)
    m = (await api.module(signature_config={"require_signature_transitions": ["draft->open"]}))["id"]
    base = f"/modules/{m}/review-packages"
    pkg = await api.post(base, {"name": "P", "description": "d"})
    await api.get(base)
    await api.get(f"{base}/{pkg['id']}")
    await api.patch(f"{base}/{pkg['id']}", {"name": "Q"})
    await api.post(f"{base}/{pkg['id']}/transition", {"status": "open", "password": ADMIN_PASSWORD,
                                                      "meaning": "Opened"}, expect=200)
    assignment = await api.post(f"/review-packages/{pkg['id']}/assignments", {})
    await api.patch(f"/review-packages/{pkg['id']}/assignments/{assignment['id']}", {"status": "approved"})
    await api.get(f"/review-packages/{pkg['id']}/assignments")
    await api.get(f"/review-packages/{pkg['id']}/assignments/{assignment['id']}")
    comment = await api.post(f"/review-packages/{pkg['id']}/comments", {"body": "c"})
    await api.get(f"/review-packages/{pkg['id']}/comments")
    await api.patch(f"/review-packages/{pkg['id']}/comments/{comment['id']}", {"body": "d"})
    await api.get(f"{base}/voting-summary")
    [sig] = await api.get(f"/e-signatures/entity/review_package/{pkg['id']}")
    await api.get(f"/e-signatures/{sig['id']}/verify")
    await api.post("/e-signatures", {"entity_type": "module", "entity_id": m, "password": ADMIN_PASSWORD,
                                     "meaning": "Released"})
    await api.error("POST", f"{base}/{pkg['id']}/transition", {"status": "closed"}, status=400)
    await api.delete(f"/review-packages/{pkg['id']}/assignments/{assignment['id']}")

    document = await (await client.get("/api/docs/openapi.json")).json()
    checker = OpenApiChecker(document)
    assert [p for method, url, status, body in seen for p in checker.problems(method, url, status, body)] == []
    assert checker.checked >= 18


async def test_concurrent_assignments_and_transitions_stay_consistent(api: Api, make_user: Any) -> None:
    """The same reviewer assigned five times at once: one assignment, the rest 409 (never a 500); two identical
    transitions at once: one moves the package, the other finds it moved (400)."""
    ann, _ = await make_user("reviewer")
    m = (await api.module())["id"]
    pkg = await api.post(f"/modules/{m}/review-packages", {"name": "Race"})
    headers = {"Authorization": f"Bearer {api.token}"}

    async def at_once(path: str, body: dict[str, Any], n: int) -> list[tuple[int, str | None]]:
        answers = await asyncio.gather(*(api.client.post("/api/v1" + path, json=body, headers=headers)
                                         for _ in range(n)))
        bodies = [await r.json() for r in answers]
        return sorted((r.status, b.get("error", {}).get("message")) for r, b in zip(answers, bodies, strict=True))

    base = f"/review-packages/{pkg['id']}/assignments"
    taken = f"user {ann['id']} is already assigned to this package"
    assert await at_once(base, {"reviewer_id": ann["id"]}, 5) == [(201, None)] + [(409, taken)] * 4
    assert (await api.get(base))["total"] == 1

    step = f"/modules/{m}/review-packages/{pkg['id']}/transition"
    assert await at_once(step, {"status": "open"}, 2) == [
        (200, None), (400, "review package transition from 'open' to 'open' is not allowed")]
    assert len(await audit(api, pkg["id"], "transition")) == 1
