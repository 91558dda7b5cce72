"""The `analytics` views the report reads, as SQLAlchemy Core selectables.

On Postgres these are the real `analytics.*` views (migrations 0002/0003), which are all an
analyst role may read, so `adgen report` works connected as that role. The embedded SQLite
database has no schemas or roles and its migrations create no views; there the report reads
stand-ins: selects over the tables with the same column names and meanings. Only the columns
the report uses are declared; an integration test checks each exists in the Postgres view.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    Boolean,
    Column,
    ColumnElement,
    Date,
    DateTime,
    Float,
    FromClause,
    Integer,
    MetaData,
    SQLColumnExpression,
    String,
    Table,
    Text,
    case,
    cast,
    func,
    literal,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import Session, aliased

from shared.analytics.reasons import FAILED_OTHER, REASON_CLASSES, REJECTED_OTHER
from shared.db.models import (
    Campaign,
    Creative,
    Event,
    JSONType,
    ModelVersion,
    RejectedEvent,
    Score,
)

SCHEMA = "analytics"
_meta = MetaData(schema=SCHEMA)


def _view(name: str, *columns: Column) -> Table:
    return Table(name, _meta, *columns)


CREATIVES = _view(
    "creatives",
    Column("creative_id", String),
    Column("event_id", String),
    Column("campaign_id", String),
    Column("creative_index", Integer),
    Column("ad_type", String),
    Column("size", String),
    Column("width", Integer),
    Column("height", Integer),
    Column("variant", String),
    Column("style", String),
    Column("prompt", Text),
    Column("headline", Text),
    Column("model_version_id", String),
    Column("servable", Boolean),
    Column("servable_reason", Text),
    Column("object_key", Text),
    Column("bytes", Integer),
    Column("created_at", DateTime(timezone=True)),
    Column("generate_ms", Float),
    Column("compose_ms", Float),
    Column("encode_ms", Float),
    Column("upload_ms", Float),
)
SCORES = _view(
    "scores",
    Column("creative_id", String),
    Column("campaign_id", String),
    Column("model_version_id", String),
    Column("metric", String),
    Column("value", Float),
)
CAMPAIGNS = _view(
    "campaign_summary",
    Column("campaign_id", String),
    Column("campaign_name", String),
    Column("advertiser_id", String),
)
MODELS = _view(
    "model_summary",
    Column("model_version_id", String),
    Column("model_name", String),
    Column("kind", String),
    Column("report_metrics", JSONType),
)
EVENTS = _view(
    "events",
    Column("event_id", String),
    Column("campaign_id", String),
    Column("status", String),
    Column("received_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    Column("finished_day", Date),
    Column("received_to_finished_ms", Float),
    Column("processing_ms", Float),
)
PROBLEMS = _view(
    "event_problems",
    Column("problem_id", String),
    Column("event_id", String),
    Column("campaign_id", String),
    Column("status", String),
    Column("reason", Text),
    Column("reason_class", String),
    Column("finished_at", DateTime(timezone=True)),
)


@dataclass(frozen=True)
class Views:
    creatives: FromClause
    scores: FromClause
    campaigns: FromClause
    models: FromClause
    events: FromClause
    problems: FromClause


POSTGRES = Views(
    creatives=CREATIVES,
    scores=SCORES,
    campaigns=CAMPAIGNS,
    models=MODELS,
    events=EVENTS,
    problems=PROBLEMS,
)


def views_for(session: Session) -> Views:
    """The analytics views on Postgres; stand-ins over the tables on SQLite."""
    if session.get_bind().dialect.name == "postgresql":
        return POSTGRES
    return sqlite_standins()


def reason_class_expr(
    status: SQLColumnExpression[str | None], reason: SQLColumnExpression[str | None]
) -> ColumnElement[str]:
    """`shared.analytics.reasons.reason_class` in SQL (what migration 0003 writes by hand)."""
    expr = case(
        (reason.is_(None), None),
        *((reason.like(pattern), literal(cls)) for pattern, cls in REASON_CLASSES),
        (status == "failed", literal(FAILED_OTHER)),
        else_=literal(REJECTED_OTHER),
    )
    return type_coerce(expr, String)


def _payload_campaign(payload: SQLColumnExpression[str | None]) -> SQLColumnExpression[str | None]:
    # SQLite has no regular expressions; a whole, valid JSON payload names its campaign here.
    # (Postgres also reads it out of payloads that were cut short.)
    return case(
        (func.json_valid(payload) == 1, func.json_extract(payload, "$.campaign.id")), else_=None
    )


def sqlite_standins() -> Views:
    c, s = Creative, Score
    creatives = select(
        c.creative_id,
        c.event_id,
        c.campaign_id,
        c.index.label("creative_index"),
        c.ad_type,
        c.size,
        c.width,
        c.height,
        c.variant,
        c.style,
        c.prompt,
        func.json_extract(c.details, "$.plan.copy.headline").label("headline"),
        c.model_version_id,
        c.servable,
        c.servable_reason,
        c.object_key,
        c.bytes,
        c.created_at,
        c.generate_ms,
        c.compose_ms,
        c.encode_ms,
        c.upload_ms,
    ).subquery("creatives")
    scores = (
        select(s.creative_id, c.campaign_id, c.model_version_id, s.metric, s.value)
        .join(c, c.creative_id == s.creative_id)
        .subquery("scores")
    )
    campaigns = select(
        Campaign.id.label("campaign_id"),
        Campaign.name.label("campaign_name"),
        Campaign.advertiser_id,
    ).subquery("campaign_summary")
    models = select(
        ModelVersion.id.label("model_version_id"),
        ModelVersion.name.label("model_name"),
        ModelVersion.kind,
        ModelVersion.metrics.label("report_metrics"),
    ).subquery("model_summary")
    e, r = Event, RejectedEvent
    latest_rejection = (
        select(_payload_campaign(r.payload))
        .where(r.event_id == e.event_id)
        .order_by(r.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    terminal = e.status.in_(("done", "failed", "rejected"))
    events = select(
        e.event_id,
        func.coalesce(e.campaign_id, latest_rejection).label("campaign_id"),
        e.status,
        e.received_at,
        e.finished_at,
        func.date(e.finished_at).label("finished_day"),
        case(
            (
                terminal,
                (func.julianday(e.finished_at) - func.julianday(e.received_at)) * 86_400_000.0,
            ),
            else_=None,
        ).label("received_to_finished_ms"),
        e.processing_ms,
    ).subquery("events")
    return Views(
        creatives=creatives,
        scores=scores,
        campaigns=campaigns,
        models=models,
        events=events,
        problems=_sqlite_problems(),
    )


def _sqlite_problems() -> FromClause:
    e, r = Event, RejectedEvent
    ev = aliased(Event)
    failed = select(
        ("event:" + e.event_id).label("problem_id"),
        e.event_id,
        e.campaign_id,
        literal("failed").label("status"),
        e.last_error.label("reason"),
        reason_class_expr(literal("failed"), e.last_error).label("reason_class"),
        e.finished_at,
    ).where(e.status == "failed")
    rejected = select(
        ("rejection:" + cast(r.id, String)).label("problem_id"),
        r.event_id,
        func.coalesce(ev.campaign_id, _payload_campaign(r.payload)).label("campaign_id"),
        literal("rejected").label("status"),
        r.reason,
        reason_class_expr(literal("rejected"), r.reason).label("reason_class"),
        r.received_at.label("finished_at"),
    ).outerjoin(ev, ev.event_id == r.event_id)
    return union_all(failed, rejected).subquery("event_problems")
