"""The one place that says which creatives are approved to be served.

A creative's state comes from the append-only `creative_decisions` audit: its latest approve or
reject row that no undo row cancels. With no such row, the campaign's auto-approve rule decides
(`review_rules`); with no rule (or the rule switched off) the creative is not approved. An
explicit human decision always wins over the rule, in both directions.

Query helpers take the session as a keyword argument; the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Select, exists, func, select
from sqlalchemy.orm import Session, aliased

from shared.db.models import Creative, Score
from shared.review.models import APPROVE, DECISIONS, REJECT, UNDO, CreativeDecision, ReviewRule

# Fixed rejection reasons (code -> label); "other" needs free text.
REJECT_REASONS: dict[str, str] = {
    "off_brand": "Off brand (colours, tone, logo)",
    "wrong_product": "Wrong or unrecognisable product",
    "image_quality": "Poor image quality / artefacts",
    "copy_error": "Copy is wrong (price, spelling, claim)",
    "layout": "Layout problem (cropping, overlap, legibility)",
    "policy": "Policy or legal concern",
    "duplicate": "Duplicate of another creative",
    "other": "Other (explain)",
}
MAX_REASON_TEXT = 500

# Review states shown in the UI; "approved" and "auto" may be served.
PENDING, APPROVED, REJECTED, AUTO = "pending", "approved", "rejected", "auto"
SERVABLE_STATES = frozenset({APPROVED, AUTO})

_IN_CHUNK = 500  # below SQLite's bound-parameter limit


class DecisionError(ValueError):
    """A decision that cannot be recorded (bad reason, nothing to undo, unknown creative)."""


@dataclass(frozen=True)
class AutoRule:
    """A campaign's auto-approve rule; a check set to None is off."""

    auto_approve: bool = False
    require_servable: bool = True
    min_alignment: float | None = None
    min_realism: float | None = None

    @classmethod
    def from_row(cls, row: ReviewRule) -> AutoRule:
        return cls(row.auto_approve, row.require_servable, row.min_alignment, row.min_realism)


def rule_approves(rule: AutoRule, *, servable: bool, scores: Mapping[str, float]) -> bool:
    """Whether `rule` approves an undecided creative. A threshold on a score the creative does
    not have fails closed (not approved)."""
    if not rule.auto_approve or (rule.require_servable and not servable):
        return False
    for metric, floor in (("alignment", rule.min_alignment), ("realism", rule.min_realism)):
        if floor is not None and not scores.get(metric, float("-inf")) >= floor:
            return False
    return True


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), _IN_CHUNK):
        yield items[i : i + _IN_CHUNK]


def live_decisions(creative_ids: Sequence[str] | None = None) -> Select:
    """(creative_id, id) of each creative's current decision: its newest approve/reject row
    that no undo cancels; only for `creative_ids` when given (filtered inside the grouping, so
    the database never groups the whole audit). Usable as a subquery (the queue filters on it)."""
    d = aliased(CreativeDecision)
    undo = aliased(CreativeDecision)
    q = (
        select(d.creative_id, func.max(d.id).label("id"))
        .where(d.decision.in_((APPROVE, REJECT)), ~exists().where(undo.undoes_id == d.id))
        .group_by(d.creative_id)
    )
    return q if creative_ids is None else q.where(d.creative_id.in_(creative_ids))


def _decided(session: Session, ids: Sequence[str]) -> dict[str, CreativeDecision]:
    """Each creative's current decision row (creatives with none are absent)."""
    out: dict[str, CreativeDecision] = {}
    for chunk in _chunks(ids):
        live = live_decisions(chunk).subquery()
        rows = session.scalars(
            select(CreativeDecision).join(live, live.c.id == CreativeDecision.id)
        )
        out.update((r.creative_id, r) for r in rows)
    return out


def _auto_approved(session: Session, ids: Sequence[str]) -> set[str]:
    """The creatives among `ids` that their campaign's auto-approve rule approves."""
    out: set[str] = set()
    for chunk in _chunks(ids):
        rows = session.execute(
            select(Creative.creative_id, Creative.servable, ReviewRule)
            .join(ReviewRule, ReviewRule.campaign_id == Creative.campaign_id)
            .where(Creative.creative_id.in_(chunk), ReviewRule.auto_approve.is_(True))
        ).all()
        if not rows:
            continue
        scores: dict[str, dict[str, float]] = {}
        for cid, metric, value in session.execute(
            select(Score.creative_id, Score.metric, Score.value).where(
                Score.creative_id.in_([r[0] for r in rows]),
                Score.metric.in_(("alignment", "realism")),
            )
        ):
            scores.setdefault(cid, {})[metric] = value
        out.update(
            cid
            for cid, servable, rule in rows
            if rule_approves(AutoRule.from_row(rule), servable=servable, scores=scores.get(cid, {}))
        )
    return out


def review_states(*, session: Session, creative_ids: Collection[str]) -> dict[str, str]:
    """Each creative's review state: approved / rejected (a person decided), auto (the rule
    approves it) or pending. Unknown ids come back pending."""
    ids = sorted(set(creative_ids))
    decided = _decided(session, ids)
    states = {
        cid: (APPROVED if row.decision == APPROVE else REJECTED) for cid, row in decided.items()
    }
    auto = _auto_approved(session, [i for i in ids if i not in states])
    return {i: states.get(i, AUTO if i in auto else PENDING) for i in ids}


def approved_ids(*, session: Session, creative_ids: Collection[str]) -> set[str]:
    """The creatives among `creative_ids` that may be served (approved by a person, or by the
    campaign's auto-approve rule with no human decision)."""
    return {
        cid
        for cid, state in review_states(session=session, creative_ids=creative_ids).items()
        if state in SERVABLE_STATES
    }


def _check_reason(decision: str, reason_code: str | None, reason_text: str | None) -> None:
    if decision not in DECISIONS:
        raise DecisionError(f"unknown decision {decision!r}")
    if reason_text is not None and len(reason_text) > MAX_REASON_TEXT:
        raise DecisionError(f"reason text is longer than {MAX_REASON_TEXT} characters")
    if decision == REJECT:
        if reason_code not in REJECT_REASONS:
            raise DecisionError("a rejection needs one of the listed reasons")
        if reason_code == "other" and not (reason_text or "").strip():
            raise DecisionError("reason 'other' needs an explanation")
    elif reason_code is not None:
        raise DecisionError("only a rejection takes a reason code")


def record_decision(
    *,
    session: Session,
    creative_id: str,
    decision: str,
    actor: str,
    reason_code: str | None = None,
    reason_text: str | None = None,
) -> CreativeDecision | None:
    """Append one audit row. An undo cancels the creative's current decision (DecisionError if
    there is none). Repeating the current decision appends nothing and returns None, so a bulk
    approve never stacks rows an undo would then have to peel off one by one."""
    _check_reason(decision, reason_code, reason_text)
    if session.get(Creative, creative_id) is None:
        raise DecisionError(f"no creative {creative_id!r}")
    current = _decided(session, [creative_id]).get(creative_id)
    if decision == UNDO:
        if current is None:
            raise DecisionError("nothing to undo")
        row = CreativeDecision(
            creative_id=creative_id,
            decision=UNDO,
            actor=actor,
            undoes_id=current.id,
            reason_text=reason_text or None,
        )
    elif current is not None and current.decision == decision and decision == APPROVE:
        return None
    else:
        row = CreativeDecision(
            creative_id=creative_id,
            decision=decision,
            actor=actor,
            reason_code=reason_code,
            reason_text=(reason_text or None),
        )
    session.add(row)
    session.flush()  # assigns the id; a concurrent second undo of one row fails (unique index)
    return row


def approve_many(*, session: Session, creative_ids: Collection[str], actor: str) -> int:
    """Approve every creative in `creative_ids` not already approved by a person; returns how
    many rows were appended."""
    ids = sorted(set(creative_ids))
    decided = _decided(session, ids)
    fresh = [i for i in ids if not (i in decided and decided[i].decision == APPROVE)]
    session.add_all(CreativeDecision(creative_id=i, decision=APPROVE, actor=actor) for i in fresh)
    session.flush()
    return len(fresh)
