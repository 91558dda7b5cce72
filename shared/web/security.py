"""Who is asking and may they: the signed-cookie session's user, role checks, CSRF tokens, and
the response headers every page gets. All checks run on the server."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from fastapi import HTTPException, Request
from starlette.datastructures import FormData

from shared.review.models import ReviewUser
from shared.review.users import CAN_ADMIN, CAN_DECIDE

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class LoginRequired(Exception):
    """Raised by `current_user` without a valid session; the app redirects to /login."""


@dataclass(frozen=True)
class User:
    username: str
    role: str

    @property
    def can_decide(self) -> bool:
        return self.role in CAN_DECIDE

    @property
    def is_admin(self) -> bool:
        return self.role in CAN_ADMIN


def csrf_token(request: Request) -> str:
    """This session's token (created on first use; a new one at login)."""
    token = request.session.get("csrf")
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


async def require_csrf(request: Request) -> FormData | None:
    """Every state-changing request carries the session's token, in the form or a header.
    Returns the parsed form (Starlette caches it for the handler)."""
    if request.method in SAFE_METHODS:
        return None
    form = await request.form()
    sent = request.headers.get(CSRF_HEADER) or form.get(CSRF_FIELD)
    expected = request.session.get("csrf")
    if not (
        isinstance(sent, str)
        and isinstance(expected, str)
        and hmac.compare_digest(sent.encode(), expected.encode())
    ):
        raise HTTPException(403, "missing or invalid CSRF token")
    return form


def log_in(request: Request, user: ReviewUser) -> None:
    # A fresh session (and CSRF token) at login: nothing from before survives.
    request.session.clear()
    request.session["user"] = user.username
    request.session["csrf"] = secrets.token_urlsafe(32)


def log_out(request: Request) -> None:
    request.session.clear()


def current_user(request: Request) -> User:
    """The logged-in, still active user, with the role the database says now (a demoted or
    disabled account loses its rights on its next request, not when its cookie expires)."""
    name = request.session.get("user")
    if not isinstance(name, str):
        raise LoginRequired
    with request.app.state.db() as s:
        row = s.get(ReviewUser, name)
        if row is None or not row.active:
            request.session.clear()
            raise LoginRequired
        user = User(row.username, row.role)
    request.state.user = user
    return user


def require_reviewer(request: Request) -> User:
    user = current_user(request)
    if not user.can_decide:
        raise HTTPException(403, "your role may not decide on creatives")
    return user


def require_admin(request: Request) -> User:
    user = current_user(request)
    if not user.is_admin:
        raise HTTPException(403, "admins only")
    return user


def security_headers(img_origins: list[str]) -> dict[str, str]:
    img = " ".join(["'self'", "data:", *img_origins])
    return {
        "Content-Security-Policy": (
            f"default-src 'self'; img-src {img}; script-src 'self'; style-src 'self'; "
            "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
        ),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        # Presigned image URLs carry a signature; never leak page URLs or those onwards.
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
    }
