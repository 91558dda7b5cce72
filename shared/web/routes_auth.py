"""Log in and out. Failed logins are limited per username and per client address."""

from __future__ import annotations

import logging
import math
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from shared.review.users import MAX_PASSWORD, authenticate
from shared.web.security import current_user, log_in, log_out

router = APIRouter()
log = logging.getLogger("adgen.web.auth")


def _safe_next(target: str | None) -> str:
    # Only local paths: an attacker's link must not bounce a fresh login to another site.
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/queue"
    return target


@router.get("/")
def home() -> Response:
    return RedirectResponse("/queue", status_code=303)


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    web = request.app.state.web
    return web.render(request, "login.html", next=_safe_next(next), error=None)


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=MAX_PASSWORD)],
    next: Annotated[str, Form(max_length=500)] = "/queue",
) -> Response:
    web = request.app.state.web
    client = request.client.host if request.client else "?"
    username = username.strip().lower()
    keys = (f"user:{username}", f"ip:{client}")
    wait = web.limiter.retry_after(*keys)
    if wait > 0:
        log.warning("login blocked for %r from %s (too many failures)", username, client)
        resp = web.render(
            request,
            "login.html",
            status_code=429,
            next=_safe_next(next),
            error="Too many failed attempts. Try again later.",
        )
        resp.headers["Retry-After"] = str(math.ceil(wait))
        return resp
    with web.db() as s:
        user = authenticate(session=s, username=username, password=password)
        if user is not None:
            log_in(request, user)
    if user is None:
        web.limiter.fail(*keys)
        log.info("failed login for %r from %s", username, client)  # never the password
        return web.render(
            request,
            "login.html",
            status_code=401,
            next=_safe_next(next),
            error="Wrong username or password.",
        )
    web.limiter.reset(*keys)
    log.info("login %s from %s", user.username, client)
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout")
def logout(request: Request) -> Response:
    current_user(request)
    log_out(request)
    return RedirectResponse("/login", status_code=303)
