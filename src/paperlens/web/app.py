"""``create_app(services)``: the FastAPI app with pages, JSON API, feeds, static files and errors.

Everything long-lived (services, the secret key, templates, the trending cache)
is made here and kept on ``app.state``; handlers reach it through
``web/deps.py``. Errors map to pages for people and to one JSON shape under
``/api``: ``NotFound`` → 404, bad input → 400/422, rate limits → 429. An
unexpected exception is logged and answered with a plain 500 page, never a
traceback.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paperlens import __version__
from paperlens.accounts import AccountError, Conflict, InvalidCredentials, RateLimited
from paperlens.accounts.votes import has_demo_votes
from paperlens.errors import InvalidQuery, NotFound, PaperlensError
from paperlens.services import Services
from paperlens.web.deps import CsrfRejected, LoginRequired, WebState
from paperlens.web.page_cache import PageCache
from paperlens.web.render import STATIC_DIR, is_htmx, make_templates, render
from paperlens.web.security import CSRF_COOKIE, load_secret_key, new_csrf_seed
from paperlens.web.trending_cache import TrendingCache

logger = logging.getLogger(__name__)

_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# Swagger UI (vendored, no CDN) starts itself with an inline script.
_DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; frame-ancestors 'none'"
)
_SWAGGER = "/static/vendor/swagger-ui-5.35.0"


class CachedStatic(StaticFiles):
    """Static files with long cache lifetimes: URLs carry a version (file name or ``?v=``)."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response


class SiteMiddleware:
    """Per request: the CSRF seed cookie, security headers. Pure ASGI (no body buffering)."""

    def __init__(self, app: ASGIApp, *, secure: str) -> None:
        self.app = app
        self.secure = secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cookie_seed = _cookie(scope, CSRF_COOKIE)
        state = scope.setdefault("state", {})
        state["csrf_seed"] = cookie_seed or new_csrf_seed()
        path: str = scope["path"]
        https = scope.get("scheme") == "https"
        secure = self.secure == "true" or (self.secure == "auto" and https)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                seed = state.get("csrf_seed")
                if seed and (seed != cookie_seed) and not path.startswith(("/static", "/api")):
                    headers.append((b"set-cookie", _csrf_cookie(seed, secure=secure)))
                extra = [
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"),
                    (b"x-frame-options", b"DENY"),
                    (
                        b"content-security-policy",
                        (_DOCS_CSP if path in ("/docs", "/redoc") else _CSP).encode(),
                    ),
                ]
                headers.extend((k, v) for k, v in extra if k not in names)
                if b"cache-control" not in names and not path.startswith("/static"):
                    value = b"no-store" if _cookie(scope, "pl_session") else b"no-cache"
                    headers.append((b"cache-control", value))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _cookie(scope: Scope, name: str) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            for part in value.decode("latin-1").split(";"):
                k, _, v = part.strip().partition("=")
                if k == name and v:
                    return str(v)
    return None


def _csrf_cookie(seed: str, *, secure: bool) -> bytes:
    flags = "; Path=/; HttpOnly; SameSite=Lax; Max-Age=31536000"
    return f"{CSRF_COOKIE}={seed}{flags}{'; Secure' if secure else ''}".encode()


class DemoFlag:
    """Whether the store holds demo votes, re-checked at most every ``ttl`` seconds."""

    def __init__(self, services: Services, ttl: float = 60.0) -> None:
        self.services = services
        self.ttl = ttl
        self._value = False
        self._at = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> bool:
        with self._lock:
            if time.monotonic() - self._at > self.ttl:
                self._value = has_demo_votes(self.services)
                self._at = time.monotonic()
            return self._value

    def reset(self) -> None:
        with self._lock:
            self._at = 0.0


def create_app(services: Services, *, cookie_secure: str | None = None) -> FastAPI:
    """The whole site for ``services``: pages, ``/api/v1``, feeds, ``/static``, ``/docs``."""
    from paperlens.api import feeds, routes
    from paperlens.web.pages import account, browse, lists, paper, search, submit, trending
    from paperlens.web.pages.trending import current_windows

    secure = cookie_secure or str(getattr(services.settings, "cookie_secure", "auto")).lower()
    if secure not in ("auto", "true", "false"):
        secure = "auto"
    secret = load_secret_key(services.settings.data_dir)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Catch the keyword index up before the first search pays for it.
        import anyio.to_thread

        await anyio.to_thread.run_sync(lambda: services.fulltext)
        # Score the current trending windows before the first visitor asks.
        app.state.trending.warm(await anyio.to_thread.run_sync(current_windows, services))
        yield

    app = FastAPI(
        title="paperlens",
        version=__version__,
        description=(
            "Search, trending and reading lists of a paperlens installation. "
            "Read-only JSON under `/api/v1`; every error is "
            '`{"error": {"status": ..., "code": ..., "message": ...}}`.'
        ),
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
    )
    app.state.web = WebState(services=services, secret=secret, cookie_secure=secure)
    app.state.templates = make_templates()
    app.state.demo_data = DemoFlag(services)
    app.state.trending = TrendingCache(services)
    settings = services.settings
    app.add_middleware(  # inside SiteMiddleware: cookies stay per visitor
        PageCache,
        ttl=float(getattr(settings, "page_cache_seconds", 10.0)),
        stale=float(getattr(settings, "page_cache_stale_seconds", 60.0)),
    )
    app.add_middleware(SiteMiddleware, secure=secure)
    app.mount("/static", CachedStatic(directory=STATIC_DIR), name="static")
    for module in (trending, search, paper, browse, account, lists, submit):
        app.include_router(module.router)
    try:  # the digest pages, where that feature is installed
        from paperlens.web.pages import digest
    except ImportError:
        pass
    else:
        app.include_router(digest.router, include_in_schema=False)  # pages, not API
    app.include_router(routes.router)
    app.include_router(feeds.router)

    @app.get("/docs", include_in_schema=False)
    def api_docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/api/v1/openapi.json",
            title="paperlens API",
            swagger_js_url=f"{_SWAGGER}/swagger-ui-bundle.js",
            swagger_css_url=f"{_SWAGGER}/swagger-ui.css",
            swagger_favicon_url="/static/icon.svg",
        )

    _error_handlers(app)
    return app


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _error(
    request: Request,
    status: int,
    message: str,
    *,
    code: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    code = code or HTTPStatus(status).phrase.lower().replace(" ", "_")
    if _is_api(request) or request.url.path.startswith("/feeds/"):
        return JSONResponse(
            {"error": {"status": status, "code": code, "message": message}},
            status_code=status,
            headers=headers,
        )
    try:
        return render(
            request,
            "error.html",
            {"status": status, "title": HTTPStatus(status).phrase, "message": message},
            status_code=status,
            headers=headers,
        )
    except Exception:  # the error page itself failed (a broken store, say)
        logger.exception("error page failed")
        return HTMLResponse(f"<h1>{status}</h1>", status_code=status, headers=headers)


def _error_handlers(app: FastAPI) -> None:
    def handler(status: int, code: str | None = None) -> Callable[..., Any]:
        async def handle(request: Request, exc: Exception) -> Response:
            headers = None
            if isinstance(exc, RateLimited):
                headers = {"Retry-After": str(exc.retry_after)}
            return _error(request, status, str(exc), code=code, headers=headers)

        return handle

    app.add_exception_handler(NotFound, handler(404, "not_found"))
    app.add_exception_handler(InvalidQuery, handler(400, "invalid_query"))
    app.add_exception_handler(RateLimited, handler(429, "rate_limited"))
    app.add_exception_handler(Conflict, handler(409, "conflict"))
    app.add_exception_handler(InvalidCredentials, handler(400, "invalid_credentials"))
    app.add_exception_handler(AccountError, handler(400, "bad_request"))
    app.add_exception_handler(PaperlensError, handler(400, "bad_request"))

    async def csrf(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, CsrfRejected)
        return _error(
            request, 403, f"{exc.reason} Reload the page and try again.", code="csrf_failed"
        )

    async def login(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequired)
        from urllib.parse import quote

        target = f"/login?next={quote(exc.next_path, safe='/')}"
        if is_htmx(request):
            return Response(status_code=204, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    async def validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        problems = []
        for err in exc.errors():
            where = ".".join(
                str(p) for p in err.get("loc", ()) if p not in ("query", "path", "body")
            )
            problems.append(f"{where or 'request'}: {err.get('msg', 'invalid')}")
        message = "Bad request parameters: " + "; ".join(problems)
        response = _error(request, 422, message, code="invalid_parameters")
        if _is_api(request) and isinstance(response, JSONResponse):
            return response
        return response

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        message = str(exc.detail) if exc.detail else HTTPStatus(exc.status_code).phrase
        if exc.status_code == 404 and message == "Not Found":
            message = f"There is no page at {request.url.path}."
        return _error(request, exc.status_code, message, headers=getattr(exc, "headers", None))

    async def unexpected(request: Request, exc: Exception) -> Response:
        logger.exception("unhandled error on %s %s", request.method, request.url.path)
        return _error(request, 500, "Something went wrong on our side; it has been logged.")

    app.add_exception_handler(CsrfRejected, csrf)
    app.add_exception_handler(LoginRequired, login)
    app.add_exception_handler(RequestValidationError, validation)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)


def app_from_env() -> FastAPI:
    """An app on ``Settings()`` from the environment: the factory uvicorn workers import.

    ``paperlens serve --workers N`` puts its flags into ``PAPERLENS_*`` variables
    and starts N processes, each calling this.
    """
    from paperlens.config import Settings

    services = Services(Settings())
    app = create_app(services)
    app.router.on_shutdown.append(services.close)
    return app
