"""E-signatures (extended contract §3.4) on the real PostgreSQL and Redis: re-authentication (wrong password 403,
audited, counted in the auth rate limit), what is signed and its hash, verification detecting a changed entity
and a tampered row, four-eyes for objects, and immutability in the database itself."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

import asyncpg
import pytest
from conftest import ADMIN_EMAIL, ADMIN_PASSWORD, USER_PASSWORD
from domain_api import Api

TYPES = "object, review_package, change_proposal, baseline, baseline_set, test_case, test_execution, module"


@pytest.fixture
async def api(client: Any, admin_token: str) -> Api:
    return Api(client, admin_token)


def expected_hash(sig: dict[str, Any]) -> str:
    """The contract's formula, computed here independently of the server's code."""
    created = sig["created_at"].replace("+00:00", "")
    created = (created if "." in created else created + ".000000") + "Z"
    statement = {k: sig[k] for k in ("user_id", "signer_email", "entity_type", "entity_id", "entity_version",
                                     "entity_fingerprint", "meaning")}
    text = json.dumps({**statement, "created_at": created}, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


async def test_sign_an_object_and_verify_it_until_it_changes(api: Api, make_user: Any) -> None:
    signer, token = await make_user("reviewer", display_name="Rita Reviewer")
    m = (await api.module())["id"]
    obj = await api.obj(m, heading="Brakes", body="<p>stop</p>")
    sig = await api.post("/e-signatures", {"entity_type": "object", "entity_id": obj["id"], "password": USER_PASSWORD,
                                           "meaning": "Apprové"}, token=token)
    assert sig == {**sig, "user_id": signer["id"], "signer_email": signer["email"], "signer_name": "Rita Reviewer",
                   "entity_type": "object", "entity_id": obj["id"], "entity_version": 1,
                   "entity_fingerprint": obj["content_fingerprint"], "meaning": "Apprové"}
    assert sig["ip_address"] == "127.0.0.1" and sig["signature_hash"] == expected_hash(sig)
    verify = f"/e-signatures/{sig['id']}/verify"
    assert await api.get(verify) == {"signature_id": sig["id"], "valid": True, "entity_changed": False}
    [entry] = (await api.get(f"/audit-log?entity_id={sig['id']}&action=sign"))["items"]
    assert entry["user_id"] == signer["id"] and entry["details"]["entity_id"] == obj["id"]

    await api.patch(f"/modules/{m}/objects/{obj['id']}", {"heading": "Brakes!"})
    assert await api.get(verify) == {"signature_id": sig["id"], "valid": True, "entity_changed": True}
    second = await api.post("/e-signatures", {"entity_type": "object", "entity_id": obj["id"],
                                              "password": ADMIN_PASSWORD, "meaning": "Reviewed"})
    assert second["entity_version"] == 2
    listed = await api.get(f"/e-signatures/entity/object/{obj['id']}", token=token)
    assert [s["id"] for s in listed] == [sig["id"], second["id"]]  # by creation, a plain array
    await api.delete(f"/modules/{m}/objects/{obj['id']}")
    assert (await api.get(verify))["entity_changed"] is True  # gone counts as changed
    await api.error("POST", "/e-signatures", {"entity_type": "object", "entity_id": obj["id"],
                                              "password": ADMIN_PASSWORD, "meaning": "x"},
                    status=404, message=f"object {obj['id']} not found")


async def test_other_entities_validation_and_roles(api: Api, make_user: Any) -> None:
    _, viewer_token = await make_user("viewer")
    module = await api.module()
    baseline = await api.post(f"/modules/{module['id']}/baselines", {"name": "B1"})
    for kind, ident in (("module", module["id"]), ("baseline", baseline["id"])):
        sig = await api.post("/e-signatures", {"entity_type": kind, "entity_id": ident, "password": ADMIN_PASSWORD,
                                               "meaning": "Released"})
        assert sig["entity_version"] is None and len(sig["entity_fingerprint"]) == 64
        assert (await api.get(f"/e-signatures/{sig['id']}/verify"))["entity_changed"] is False
    await api.patch(f"/modules/{module['id']}", {"description": "now different"})
    module_sigs = await api.get(f"/e-signatures/entity/module/{module['id']}", token=viewer_token)
    assert (await api.get(f"/e-signatures/{module_sigs[0]['id']}/verify"))["entity_changed"] is True

    body = {"entity_type": "module", "entity_id": module["id"], "password": ADMIN_PASSWORD, "meaning": "ok"}
    await api.error("POST", "/e-signatures", body, status=403, token=viewer_token,
                    message="insufficient role: requires reviewer")
    await api.error("POST", "/e-signatures", {**body, "entity_type": "user"}, status=400,
                    message=f"invalid entity_type 'user', must be one of: {TYPES}")
    await api.error("POST", "/e-signatures", {**body, "meaning": " "}, status=400, message="meaning must not be empty")
    await api.error("POST", "/e-signatures", {**body, "meaning": "m" * 501}, status=400,
                    message="meaning must be at most 500 characters")
    await api.error("POST", "/e-signatures", {**body, "password": None}, status=400,
                    message="missing required field 'password'")
    missing = str(uuid.uuid4())
    await api.error("POST", "/e-signatures", {**body, "entity_type": "change_proposal", "entity_id": missing},
                    status=404, message=f"change_proposal {missing} not found")
    await api.error("POST", "/e-signatures", {**body, "entity_type": "baseline_set", "entity_id": missing},
                    status=404, message=f"baseline set {missing} not found")
    await api.error("GET", f"/e-signatures/entity/user/{missing}", status=400,
                    message=f"invalid entity_type 'user', must be one of: {TYPES}")
    assert await api.get(f"/e-signatures/entity/test_case/{missing}") == []
    await api.error("GET", f"/e-signatures/{missing}/verify", status=404, message=f"e_signature {missing} not found")
    sig_id = module_sigs[0]["id"]
    for method in ("PATCH", "DELETE"):  # no route changes a signature
        resp = await api.client.request(method, f"/api/v1/e-signatures/{sig_id}", json={"meaning": "x"},
                                        headers={"Authorization": f"Bearer {api.token}"})
        assert resp.status in (404, 405), resp.status


async def test_wrong_or_missing_password_is_403_and_audited(api: Api, make_user: Any, pg_dsn: str) -> None:
    user, token = await make_user("reviewer")
    m = (await api.module())["id"]
    body = {"entity_type": "module", "entity_id": m, "password": "not-my-password", "meaning": "Approved"}
    await api.error("POST", "/e-signatures", body, status=403, token=token, message="invalid password for e-signature")
    conn = await asyncpg.connect(pg_dsn)
    try:
        await conn.execute("UPDATE app_user SET password_hash = NULL WHERE id = $1", uuid.UUID(user["id"]))
    finally:
        await conn.close()
    await api.error("POST", "/e-signatures", {**body, "password": USER_PASSWORD}, status=403, token=token,
                    message="account has no password set")
    failed = (await api.get(f"/audit-log?action=sign_failed&user_id={user['id']}"))["items"]
    assert [e["details"]["reason"] for e in failed] == ["account has no password set",
                                                        "invalid password for e-signature"]
    assert failed[0]["entity_type"] == "e_signature" and failed[0]["details"]["entity_id"] == m
    assert "not-my-password" not in json.dumps(failed)
    assert await api.get(f"/e-signatures/entity/module/{m}") == []


async def test_four_eyes_for_objects(api: Api, make_user: Any) -> None:
    author, author_token = await make_user("editor")
    _, other_token = await make_user("reviewer")
    strict = (await api.module(signature_config={"require_four_eyes": True}))["id"]
    lax = (await api.module())["id"]
    for module_id in (strict, lax):
        obj = await api.obj(module_id, heading="h")
        await api.patch(f"/modules/{module_id}/objects/{obj['id']}", {"body": "<p>mine</p>"}, token=author_token)
        body = {"entity_type": "object", "entity_id": obj["id"], "password": USER_PASSWORD, "meaning": "Approved"}
        if module_id == strict:
            await api.error("POST", "/e-signatures", body, status=400, token=author_token,
                            message="four-eyes principle: signer cannot be the last modifier")
            await api.post("/e-signatures", body, token=other_token)
        else:
            signed = await api.post("/e-signatures", body, token=author_token)
            assert signed["user_id"] == author["id"]


async def test_signatures_are_immutable_and_tampering_is_detected(api: Api, make_user: Any, pg_dsn: str) -> None:
    user, token = await make_user("reviewer")
    m = (await api.module())["id"]
    sig = await api.post("/e-signatures", {"entity_type": "module", "entity_id": m, "password": USER_PASSWORD,
                                           "meaning": "Approved"}, token=token)
    await api.delete(f"/users/{user['id']}")  # the signer's snapshot outlives the account
    [kept] = await api.get(f"/e-signatures/entity/module/{m}")
    assert kept["signer_email"] == user["email"] and kept["user_id"] == user["id"]
    conn = await asyncpg.connect(pg_dsn)
    try:
        for sql in ("UPDATE e_signature SET meaning = 'Rejected'", "DELETE FROM e_signature", "TRUNCATE e_signature"):
            with pytest.raises(asyncpg.CheckViolationError, match="e-signatures are immutable"):
                await conn.execute(sql)
        # only by switching the guard off (what an intruder with the owner's rights could do) …
        await conn.execute("ALTER TABLE e_signature DISABLE TRIGGER e_signature_immutable")
        await conn.execute("UPDATE e_signature SET meaning = 'Rejected' WHERE id = $1", uuid.UUID(sig["id"]))
        await conn.execute("ALTER TABLE e_signature ENABLE TRIGGER e_signature_immutable")
    finally:
        await conn.close()
    # … and then the hash no longer recomputes
    assert await api.get(f"/e-signatures/{sig['id']}/verify") == {
        "signature_id": sig["id"], "valid": False, "entity_changed": False}
    await api.delete(f"/modules/{m}")  # no FK: the evidence outlives what it signed
    assert [s["id"] for s in await api.get(f"/e-signatures/entity/module/{m}")] == [sig["id"]]
    assert (await api.get(f"/e-signatures/{sig['id']}/verify"))["entity_changed"] is True


async def test_failures_spend_the_auth_rate_limit(server_env: dict[str, str], client_for: Any) -> None:
    client = await client_for({**server_env, "RATE_LIMIT_AUTH_PER_MINUTE": "3"})
    api = Api(client, "")
    login = await client.post("/api/v1/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    api.token = (await login.json())["token"]  # the login spent one of the three
    m = (await api.module())["id"]
    body = {"entity_type": "module", "entity_id": m, "password": "wrong-password", "meaning": "Approved"}
    statuses = [(await client.post("/api/v1/e-signatures", json=body, headers={
        "Authorization": f"Bearer {api.token}"})).status for _ in range(7)]
    # a window boundary can reset the count once, so allow one extra round of failures
    assert statuses[:2] == [403, 403] and statuses.count(429) >= 2, statuses
    failed = (await api.get("/audit-log?action=sign_failed"))["items"]
    assert len(failed) == statuses.count(403)  # a refused attempt (429) checks no password
