"""The pure rules of reviews and e-signatures (extended contract §3): package graph, signature rule, four-eyes,
what a signature hashes."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import uuid

import pytest

from req1_server.domain import esignatures as sig
from req1_server.domain.reviews import (
    FOUR_EYES_CREATOR,
    GRAPH,
    PACKAGE_STATUSES,
    SIGNATURE_INCOMPLETE,
    SIGNATURE_REQUIRED,
    ReviewError,
    SignatureConfig,
    Signing,
    plan_transition,
)

ANN, BOB = uuid.uuid4(), uuid.uuid4()
ALLOWED = {("draft", "open"), ("open", "in_review"), ("open", "draft"), ("in_review", "approved"),
           ("in_review", "rejected"), ("in_review", "open"), ("approved", "closed"), ("rejected", "draft"),
           ("rejected", "closed")}


@pytest.mark.parametrize("current", PACKAGE_STATUSES)
@pytest.mark.parametrize("wanted", PACKAGE_STATUSES)
def test_the_graph_allows_exactly_the_contracts_edges(current: str, wanted: str) -> None:
    if (current, wanted) in ALLOWED:
        assert plan_transition(current, wanted, SignatureConfig(), Signing(), ANN, ANN) is False
    else:
        with pytest.raises(ReviewError, match=f"transition from '{current}' to '{wanted}' is not allowed"):
            plan_transition(current, wanted, SignatureConfig(), Signing(), ANN, ANN)
    assert {(a, b) for a, targets in GRAPH.items() for b in targets} == ALLOWED


def test_listed_transitions_need_password_and_meaning_and_unlisted_ones_still_sign() -> None:
    config = SignatureConfig.of({"require_signature_transitions": ["in_review->approved", 7], "require_four_eyes": 1})
    assert config == SignatureConfig(frozenset({"in_review->approved"}), False)  # only a real true turns it on
    for partial in (Signing(), Signing(password="pw"), Signing(meaning="Approved"), Signing("pw", "  ")):
        with pytest.raises(ReviewError, match=re.escape(SIGNATURE_REQUIRED)):
            plan_transition("in_review", "approved", config, partial, ANN, BOB)
    assert plan_transition("in_review", "approved", config, Signing("pw", "Approved"), ANN, BOB) is True
    assert plan_transition("in_review", "rejected", config, Signing("pw", "Rejected"), ANN, BOB) is True
    with pytest.raises(ReviewError, match=SIGNATURE_INCOMPLETE):
        plan_transition("in_review", "rejected", config, Signing(password="pw"), ANN, BOB)
    assert SignatureConfig.of("nonsense") == SignatureConfig() == SignatureConfig.of({"require_four_eyes": "yes"})


def test_four_eyes_refuses_the_creator_only_when_a_signature_is_made() -> None:
    config = SignatureConfig.of({"require_signature_transitions": ["in_review->approved"], "require_four_eyes": True})
    with pytest.raises(ReviewError, match=FOUR_EYES_CREATOR):
        plan_transition("in_review", "approved", config, Signing("pw", "Approved"), ANN, ANN)
    assert plan_transition("in_review", "approved", config, Signing("pw", "Approved"), BOB, ANN) is True
    assert plan_transition("draft", "open", config, Signing(), ANN, ANN) is False  # nobody signs: nothing to refuse
    assert plan_transition("in_review", "approved", config, Signing("pw", "ok"), ANN, None) is True  # legacy rows


def test_the_hash_is_sha256_of_the_canonical_statement() -> None:
    at = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    signed = sig.Signed(ANN, "ann@example.com", "object", BOB, 3, "f" * 64, "Apprové", at)
    expected = json.dumps({"created_at": "2026-01-02T01:04:05.000000Z", "entity_fingerprint": "f" * 64,
                           "entity_id": str(BOB), "entity_type": "object", "entity_version": 3,
                           "meaning": "Apprové", "signer_email": "ann@example.com", "user_id": str(ANN)},
                          separators=(",", ":"), ensure_ascii=False)
    assert signed.hash == hashlib.sha256(expected.encode()).hexdigest()
    row = {**signed.payload(), "user_id": ANN, "entity_id": BOB, "created_at": at}
    assert sig.Signed.of(row).hash == signed.hash
    for changed in ({"meaning": "Rejected"}, {"entity_fingerprint": "e" * 64}, {"signer_email": "x@example.com"},
                    {"created_at": at + dt.timedelta(microseconds=1)}, {"entity_version": 4}):
        assert sig.Signed.of({**row, **changed}).hash != signed.hash, changed


def test_a_rows_fingerprint_ignores_timestamps_only() -> None:
    row = {"id": "p", "name": "Pkg", "status": "open", "created_at": "t1", "updated_at": "t2"}
    assert sig.row_fingerprint(row) == sig.row_fingerprint({**row, "updated_at": "t3"})
    assert sig.row_fingerprint(row) != sig.row_fingerprint({**row, "status": "approved"})
    assert sig.row_fingerprint({"b": 1, "a": [1]}) == sig.row_fingerprint({"a": [1], "b": 1})


def test_entity_types_and_meanings() -> None:
    assert sig.entity_type("baseline_set") == "baseline_set"
    with pytest.raises(sig.SignatureError, match="invalid entity_type 'user', must be one of: object, review_package"):
        sig.entity_type("user")
    assert sig.meaning("é" * 500) == "é" * 500  # characters, not bytes
    with pytest.raises(sig.SignatureError, match="meaning must be at most 500 characters"):
        sig.meaning("x" * 501)
    with pytest.raises(sig.SignatureError, match="meaning must not be empty"):
        sig.meaning("  ")
