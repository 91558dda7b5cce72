"""The queue, decisions (one, or bulk approve of the filtered set), a creative's audit trail,
and images from the local file store."""

from __future__ import annotations

import logging
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError

from shared.db.models import Creative
from shared.review.approval import (
    MAX_REASON_TEXT,
    REJECT_REASONS,
    DecisionError,
    approve_many,
    record_decision,
    review_states,
)
from shared.review.queue import (
    MAX_BULK,
    QueueFilter,
    decision_history,
    filter_options,
    get_item,
    list_queue,
    matching_ids,
)
from shared.web.security import User, current_user, require_reviewer, safe_next

router = APIRouter()
log = logging.getLogger("adgen.web.review")
FILTER_FIELDS = tuple(QueueFilter.model_fields)


def _filters(params: dict[str, Any]) -> QueueFilter:
    try:
        return QueueFilter.model_validate({k: params[k] for k in FILTER_FIELDS if k in params})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise HTTPException(422, f"bad filter: {problems}") from exc


def _wants_json(request: Request) -> bool:
    return request.headers.get("x-requested-with") == "fetch"


@router.get("/queue")
def queue(
    request: Request,
    user: Annotated[User, Depends(current_user)],
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    web = request.app.state.web
    filters = _filters(dict(request.query_params))
    with web.db() as s:
        result = list_queue(
            session=s, filters=filters, page=page, page_size=web.settings.web_page_size
        )
        options = filter_options(session=s)
    images = {i.creative_id: web.image_url(i.creative_id, i.object_key) for i in result.items}
    query = filters.query_items()
    return web.render(
        request,
        "queue.html",
        result=result,
        filters=filters,
        options=options,
        images=images,
        reasons=REJECT_REASONS,
        query=query,
        qs=urlencode(query),
        max_bulk=MAX_BULK,
        max_reason=MAX_REASON_TEXT,
    )


@router.post("/decisions")
def decide(
    request: Request,
    user: Annotated[User, Depends(require_reviewer)],
    creative_id: Annotated[str, Form(max_length=36)],
    decision: Annotated[str, Form(max_length=16)],
    reason_code: Annotated[str | None, Form(max_length=32)] = None,
    reason_text: Annotated[str | None, Form(max_length=MAX_REASON_TEXT)] = None,
    back: Annotated[str, Form(max_length=2000)] = "/queue",
) -> Response:
    web = request.app.state.web
    try:
        with web.db() as s:
            row = record_decision(
                session=s,
                creative_id=creative_id,
                decision=decision,
                actor=user.username,
                reason_code=reason_code or None,
                reason_text=(reason_text or "").strip() or None,
            )
            state = review_states(session=s, creative_ids=[creative_id])[creative_id]
            row_id = row.id if row is not None else None
    except DecisionError as exc:
        raise HTTPException(409 if "undo" in str(exc) else 422, str(exc)) from exc
    except IntegrityError as exc:  # someone else undid the same decision a moment ago
        raise HTTPException(409, "the decision changed meanwhile; reload") from exc
    log.info("%s: %s %s (%s)", user.username, decision, creative_id, reason_code or "-")
    if _wants_json(request):
        return JSONResponse({"creative_id": creative_id, "state": state, "decision_id": row_id})
    return RedirectResponse(safe_next(back), status_code=303)


@router.post("/queue/approve")
async def bulk_approve(
    request: Request, user: Annotated[User, Depends(require_reviewer)]
) -> Response:
    """Approve every creative awaiting review that matches the submitted filters (at most
    MAX_BULK); the form carries the count the reviewer saw, and a set that grew meanwhile is
    refused."""
    web = request.app.state.web
    form = await request.form()
    # Bulk approve never overrides a person's decision: only creatives awaiting review.
    filters = _filters({k: v for k, v in form.items() if isinstance(v, str)}).model_copy(
        update={"status": "awaiting"}
    )
    try:
        expected = int(str(form.get("expected", "")))
    except ValueError as exc:
        raise HTTPException(422, "expected count missing") from exc

    def run() -> int:
        with web.db() as s:
            ids = matching_ids(session=s, filters=filters, limit=MAX_BULK + 1)
            if len(ids) > min(expected, MAX_BULK):
                raise HTTPException(
                    409,
                    f"{len(ids)} creatives match now, you confirmed "
                    f"{expected} (at most {MAX_BULK}); reload and confirm again",
                )
            return approve_many(session=s, creative_ids=ids, actor=user.username)

    from starlette.concurrency import run_in_threadpool

    n = await run_in_threadpool(run)
    log.info("%s: bulk approve of %d creatives (%s)", user.username, n, filters.query_items())
    return RedirectResponse(
        f"/queue?{urlencode(filters.query_items())}&approved={n}", status_code=303
    )


@router.get("/creatives/{creative_id}")
def creative(
    request: Request, creative_id: str, user: Annotated[User, Depends(current_user)]
) -> Response:
    web = request.app.state.web
    with web.db() as s:
        item = get_item(session=s, creative_id=creative_id)
        if item is None:
            raise HTTPException(404, "no such creative")
        history = decision_history(session=s, creative_id=creative_id)
    return web.render(
        request,
        "creative.html",
        item=item,
        history=history,
        image=web.image_url(item.creative_id, item.object_key),
        reasons=REJECT_REASONS,
        max_reason=MAX_REASON_TEXT,
    )


@router.get("/audit")
def audit(request: Request, user: Annotated[User, Depends(current_user)]) -> Response:
    web = request.app.state.web
    with web.db() as s:
        history = decision_history(session=s, limit=500)
    return web.render(request, "audit.html", history=history, reasons=REJECT_REASONS)


@router.get("/images/{creative_id}")
def image(
    request: Request, creative_id: str, user: Annotated[User, Depends(current_user)]
) -> Response:
    web = request.app.state.web
    with web.db() as s:
        row = s.get(Creative, creative_id)
        key = row.object_key if row is not None else None
    if key is None:
        raise HTTPException(404, "no such creative")
    if not web.local_images:
        return RedirectResponse(web.store.url(key, web.settings.presign_expiry_s), status_code=303)
    try:
        data = web.store.get(key)
    except (OSError, ValueError) as exc:
        raise HTTPException(404, "image not found") from exc
    return Response(
        data, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"}
    )
