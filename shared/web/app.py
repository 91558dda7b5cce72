"""Build the review app: settings, database, object store, templates, routes, middleware."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException
from starlette.middleware.sessions import SessionMiddleware

from shared.config import Settings, get_settings
from shared.db.engine import session_scope
from shared.storage import FileStore, ObjectStore, open_store
from shared.web.ratelimit import FailureLimiter
from shared.web.secret import session_secret
from shared.web.security import LoginRequired, csrf_token, require_csrf, security_headers

HERE = Path(__file__).parent
log = logging.getLogger("adgen.web")


def templates_env() -> Environment:
    # Autoescape everything: campaign names, titles and copy are user input.
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pct"] = lambda v: "–" if v is None else f"{100 * v:.2f}%"
    env.filters["num"] = lambda v, d=3: "–" if v is None else f"{v:.{d}f}"
    return env


class Web:
    """What the routes share, on `app.state.web`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.db_url = settings.resolved_database_url
        self.store: ObjectStore = open_store(
            settings.resolved_storage_url, secure=settings.storage_secure
        )
        self.local_images = isinstance(self.store, FileStore)
        self.env = templates_env()
        self.limiter = FailureLimiter(settings.web_login_max_failures, settings.web_login_window_s)

    def db(self) -> AbstractContextManager[Session]:
        return session_scope(self.db_url)

    def image_url(self, creative_id: str, object_key: str) -> str:
        """A presigned GET for S3 (the browser fetches from the store directly); for the local
        file store, the app's own authenticated route."""
        if self.local_images:
            return f"/images/{creative_id}"
        return self.store.url(object_key, self.settings.presign_expiry_s)

    def img_origins(self) -> list[str]:
        if self.local_images:
            return []
        parts = urlsplit(self.settings.resolved_storage_url)
        scheme = "https" if self.settings.storage_secure else "http"
        port = f":{parts.port}" if parts.port else ""
        return [f"{scheme}://{parts.hostname}{port}"]

    def render(
        self, request: Request, name: str, status_code: int = 200, **context: Any
    ) -> HTMLResponse:
        user = getattr(request.state, "user", None)
        html = self.env.get_template(name).render(
            request=request, user=user, csrf=csrf_token(request), path=request.url.path, **context
        )
        return HTMLResponse(html, status_code=status_code)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    web = Web(settings)
    app = FastAPI(
        title="AdGen review",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(require_csrf)],
    )
    app.state.web = web
    app.state.db = web.db
    headers = security_headers(web.img_origins())

    @app.middleware("http")
    async def _headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        for k, v in headers.items():
            response.headers.setdefault(k, v)
        return response

    # Added after the headers middleware, so it wraps it: sessions exist inside every route.
    app.add_middleware(
        SessionMiddleware,
        secret_key=session_secret(settings),
        session_cookie="adgen_session",
        max_age=settings.web_session_max_age_s,
        same_site="strict",
        https_only=settings.web_cookie_secure,
    )
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, _exc: LoginRequired) -> Response:
        if request.method != "GET" or request.headers.get("x-requested-with") == "fetch":
            return Response("login required", status_code=401)
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> Response:
        if request.headers.get("x-requested-with") == "fetch":
            return Response(
                str(exc.detail),
                status_code=exc.status_code,
                headers=exc.headers,
                media_type="text/plain",
            )
        resp = web.render(
            request,
            "error.html",
            status_code=exc.status_code,
            status=exc.status_code,
            detail=exc.detail,
        )
        for k, v in (exc.headers or {}).items():
            resp.headers[k] = v
        return resp

    from shared.web import routes_admin, routes_auth, routes_perf, routes_queue

    for module in (routes_auth, routes_queue, routes_perf, routes_admin):
        app.include_router(module.router)
    return app
