"""approved_ids and record_decision on the embedded SQLite database (migration 0004 applied)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.review.approval import (
    AUTO,
    PENDING,
    REJECTED,
    AutoRule,
    DecisionError,
    approve_many,
    approved_ids,
    record_decision,
    review_states,
    rule_approves,
)
from shared.review.models import CreativeDecision, ReviewRule
from tests.support.review_factory import Spec, add_creatives


def _decide(session: Session, cid: str, decision: str, **kw: str) -> None:
    record_decision(session=session, creative_id=cid, decision=decision, actor="ann", **kw)


def test_nothing_decided_and_no_rule_means_not_approved(session: Session) -> None:
    ids = add_creatives(session, [Spec(), Spec()])
    assert approved_ids(session=session, creative_ids=ids) == set()
    assert review_states(session=session, creative_ids=ids) == dict.fromkeys(ids, PENDING)


def test_approve_and_reject(session: Session) -> None:
    a, b, c = add_creatives(session, [Spec(), Spec(), Spec()])
    _decide(session, a, "approve")
    _decide(session, b, "reject", reason_code="off_brand", reason_text="wrong blue")
    assert approved_ids(session=session, creative_ids=[a, b, c]) == {a}
    assert approved_ids(session=session, creative_ids=[b, c]) == set()
    # A later decision replaces an earlier one.
    _decide(session, a, "reject", reason_code="policy")
    _decide(session, b, "approve")
    assert approved_ids(session=session, creative_ids=[a, b, c]) == {b}


def test_undo_restores_the_previous_decision_and_is_a_new_row(session: Session) -> None:
    (a,) = add_creatives(session, [Spec()])
    _decide(session, a, "approve")
    _decide(session, a, "reject", reason_code="layout")
    assert approved_ids(session=session, creative_ids=[a]) == set()
    _decide(session, a, "undo")
    assert approved_ids(session=session, creative_ids=[a]) == {a}  # back to the approval
    _decide(session, a, "undo")
    assert approved_ids(session=session, creative_ids=[a]) == set()  # back to undecided
    with pytest.raises(DecisionError, match="nothing to undo"):
        _decide(session, a, "undo")
    rows = session.scalars(select(CreativeDecision).order_by(CreativeDecision.id)).all()
    assert [r.decision for r in rows] == ["approve", "reject", "undo", "undo"]
    assert [r.undoes_id for r in rows[2:]] == [rows[1].id, rows[0].id]


def _rule(session: Session, campaign: str, **kw: object) -> None:
    session.merge(
        ReviewRule(
            campaign_id=campaign,
            updated_by="admin",
            **{"auto_approve": True, "require_servable": True, **kw},
        )
    )
    session.flush()


def test_auto_rule_approves_undecided_creatives_that_pass_it(session: Session) -> None:
    good, low, unservable, other = add_creatives(
        session,
        [
            Spec(alignment=0.6),
            Spec(alignment=0.1),
            Spec(servable=False, alignment=0.9),
            Spec(campaign="camp-b", alignment=0.9),
        ],
    )
    _rule(session, "camp-a", min_alignment=0.3)
    ids = [good, low, unservable, other]
    assert approved_ids(session=session, creative_ids=ids) == {good}
    states = review_states(session=session, creative_ids=ids)
    assert states[good] == AUTO and states[low] == PENDING and states[other] == PENDING


def test_a_human_decision_beats_the_rule(session: Session) -> None:
    a, b = add_creatives(session, [Spec(alignment=0.9), Spec(servable=False)])
    _rule(session, "camp-a", min_alignment=0.3)
    _decide(session, a, "reject", reason_code="copy_error")
    _decide(session, b, "approve")  # a person may approve what the gate flagged
    assert approved_ids(session=session, creative_ids=[a, b]) == {b}
    assert review_states(session=session, creative_ids=[a])[a] == REJECTED
    _decide(session, a, "undo")  # undecided again: the rule applies
    assert approved_ids(session=session, creative_ids=[a, b]) == {a, b}


def test_rule_switched_off_approves_nothing(session: Session) -> None:
    (a,) = add_creatives(session, [Spec(alignment=0.9)])
    _rule(session, "camp-a", auto_approve=False)
    assert approved_ids(session=session, creative_ids=[a]) == set()


def test_rule_threshold_on_a_missing_score_fails_closed() -> None:
    rule = AutoRule(auto_approve=True, min_realism=0.5)
    assert not rule_approves(rule, servable=True, scores={"alignment": 1.0})
    assert rule_approves(rule, servable=True, scores={"realism": 0.5})
    assert not rule_approves(AutoRule(auto_approve=True), servable=False, scores={})
    assert rule_approves(
        AutoRule(auto_approve=True, require_servable=False), servable=False, scores={}
    )
    assert not rule_approves(
        AutoRule(auto_approve=True, min_alignment=0.2),
        servable=True,
        scores={"alignment": float("nan")},
    )


@pytest.mark.parametrize(
    ("decision", "kw", "message"),
    [
        ("reject", {}, "listed reasons"),
        ("reject", {"reason_code": "made_up"}, "listed reasons"),
        ("reject", {"reason_code": "other"}, "needs an explanation"),
        ("reject", {"reason_code": "policy", "reason_text": "x" * 501}, "longer than"),
        ("approve", {"reason_code": "policy"}, "only a rejection"),
        ("delete", {}, "unknown decision"),
    ],
)
def test_bad_decisions_are_refused(
    session: Session, decision: str, kw: dict[str, str], message: str
) -> None:
    (a,) = add_creatives(session, [Spec()])
    with pytest.raises(DecisionError, match=message):
        _decide(session, a, decision, **kw)
    with pytest.raises(DecisionError, match="no creative"):
        _decide(session, "no-such-id", "approve")
    assert session.scalar(select(func.count()).select_from(CreativeDecision)) == 0


def test_repeated_approve_and_bulk_approve_append_once(session: Session) -> None:
    a, b, c = add_creatives(session, [Spec(), Spec(), Spec()])
    _decide(session, a, "approve")
    _decide(session, a, "approve")
    assert approve_many(session=session, creative_ids=[a, b, c], actor="bob") == 2
    assert approve_many(session=session, creative_ids=[a, b, c], actor="bob") == 0
    assert session.scalar(select(func.count()).select_from(CreativeDecision)) == 3
    assert approved_ids(session=session, creative_ids=[a, b, c]) == {a, b, c}
    _decide(session, b, "undo")
    assert approved_ids(session=session, creative_ids=[a, b, c]) == {a, c}


def test_many_ids_are_chunked(session: Session) -> None:
    ids = add_creatives(session, [Spec()] * 3)
    _decide(session, ids[1], "approve")
    many = ids + [f"missing-{i}" for i in range(1200)]
    assert approved_ids(session=session, creative_ids=many) == {ids[1]}
