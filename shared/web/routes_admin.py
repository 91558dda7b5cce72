"""Admin pages: reviewer accounts and per-campaign auto-approve rules."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy import select

from shared.db.models import Campaign
from shared.review.models import ROLES, ReviewRule
from shared.review.users import MAX_PASSWORD, UserError, add_user, list_users, update_user
from shared.web.security import User, require_admin

router = APIRouter(prefix="/admin")
log = logging.getLogger("adgen.web.admin")


@router.get("/users")
def users_page(
    request: Request, user: Annotated[User, Depends(require_admin)], error: str | None = None
) -> Response:
    web = request.app.state.web
    with web.db() as s:
        users = list_users(session=s)
    return web.render(request, "users.html", users=users, roles=ROLES, error=error)


@router.post("/users")
def create_user(
    request: Request,
    user: Annotated[User, Depends(require_admin)],
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=MAX_PASSWORD)],
    role: Annotated[str, Form(max_length=16)],
) -> Response:
    web = request.app.state.web
    try:
        with web.db() as s:
            add_user(session=s, username=username.strip().lower(), password=password, role=role)
    except UserError as exc:
        raise HTTPException(422, str(exc)) from exc
    log.info("%s added user %s (%s)", user.username, username, role)
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/users/{username}")
def change_user(
    request: Request,
    username: str,
    user: Annotated[User, Depends(require_admin)],
    role: Annotated[str, Form(max_length=16)],
    active: Annotated[bool, Form()] = False,
    password: Annotated[str, Form(max_length=MAX_PASSWORD)] = "",
) -> Response:
    web = request.app.state.web
    if username == user.username and (role != "admin" or not active):
        raise HTTPException(422, "you cannot demote or disable yourself")
    try:
        with web.db() as s:
            update_user(
                session=s, username=username, role=role, active=active, password=password or None
            )
    except UserError as exc:
        raise HTTPException(422, str(exc)) from exc
    log.info(
        "%s changed user %s: role %s, active %s%s",
        user.username,
        username,
        role,
        active,
        ", new password" if password else "",
    )
    return RedirectResponse("/admin/users", status_code=303)


@router.get("/rules")
def rules_page(request: Request, user: Annotated[User, Depends(require_admin)]) -> Response:
    web = request.app.state.web
    with web.db() as s:
        campaigns = list(
            s.execute(select(Campaign.id, Campaign.name).order_by(Campaign.name, Campaign.id))
        )
        rules = {r.campaign_id: r for r in s.scalars(select(ReviewRule))}
        s.expunge_all()
    return web.render(request, "rules.html", campaigns=campaigns, rules=rules)


def _bound(raw: str, name: str) -> float | None:
    if not raw.strip():
        return None
    try:
        value = float(raw)
    except ValueError as exc:
        raise HTTPException(422, f"{name} must be a number") from exc
    if not 0.0 <= value <= 1.0:
        raise HTTPException(422, f"{name} must be between 0 and 1")
    return value


@router.post("/rules/{campaign_id}")
def save_rule(
    request: Request,
    campaign_id: str,
    user: Annotated[User, Depends(require_admin)],
    auto_approve: Annotated[bool, Form()] = False,
    require_servable: Annotated[bool, Form()] = False,
    min_alignment: Annotated[str, Form(max_length=32)] = "",
    min_realism: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    web = request.app.state.web
    low_align, low_real = _bound(min_alignment, "min alignment"), _bound(min_realism, "min realism")
    with web.db() as s:
        if s.get(Campaign, campaign_id) is None:
            raise HTTPException(404, "no such campaign")
        s.merge(
            ReviewRule(
                campaign_id=campaign_id,
                auto_approve=auto_approve,
                require_servable=require_servable,
                min_alignment=low_align,
                min_realism=low_real,
                updated_by=user.username,
                updated_at=datetime.now(UTC),
            )
        )
    log.info(
        "%s set the rule of %s: auto %s, servable %s, alignment >= %s, realism >= %s",
        user.username,
        campaign_id,
        auto_approve,
        require_servable,
        low_align,
        low_real,
    )
    return RedirectResponse("/admin/rules", status_code=303)
