"""Dependency aliases for handlers: services, the signed-in user, CSRF, the client address.

Handlers declare what they need (``services: ServicesDep, user: CurrentUser``)
and FastAPI resolves it per request from the app's state; nothing is global,
so a test builds a second app on a temporary database and gets its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request

from paperlens.accounts.users import User, session_user
from paperlens.services import Services
from paperlens.web.security import (
    CSRF_FIELD,
    CSRF_HEADER,
    SESSION_COOKIE,
    csrf_token,
    csrf_valid,
    same_origin,
)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_MISSING = object()


class LoginRequired(Exception):
    """Raised by ``RequireUser``; the app answers with a redirect to the sign-in page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class CsrfRejected(Exception):
    """An unsafe request without a valid CSRF token or from another origin."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(slots=True)
class WebState:
    """What the app keeps for its lifetime, on ``app.state.web``."""

    services: Services
    secret: bytes
    cookie_secure: str
    """``"auto"`` (Secure when the request is https), ``"true"`` or ``"false"``."""


def web_state(request: Request) -> WebState:
    state: WebState = request.app.state.web
    return state


def get_services(request: Request) -> Services:
    return web_state(request).services


def current_user(request: Request) -> User | None:
    user = getattr(request.state, "user", _MISSING)
    if user is _MISSING:
        user = session_user(get_services(request), request.cookies.get(SESSION_COOKIE))
        request.state.user = user
    return user  # type: ignore[return-value]


# The dependencies are coroutines so FastAPI calls them on the event loop: each is an
# attribute read or one indexed query, cheaper than the thread hop a plain function costs.
async def _services_dep(request: Request) -> Services:
    return get_services(request)


async def _user_dep(request: Request) -> User | None:
    return current_user(request)


async def require_user(request: Request, user: Annotated[User | None, Depends(_user_dep)]) -> User:
    if user is None:
        path = request.url.path
        if request.method not in SAFE_METHODS:
            path = (
                _local_path(request, request.headers.get("hx-current-url"))
                or _local_path(request, request.headers.get("referer"))
                or "/"
            )
        elif request.url.query:
            path += "?" + request.url.query
        raise LoginRequired(path)
    return user


def _local_path(request: Request, url: str | None) -> str | None:
    """The path of ``url`` when it points at this site (where to return after sign-in)."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.netloc and parts.netloc != request.headers.get("host"):
        return None
    return parts.path + ("?" + parts.query if parts.query else "")


def csrf_seed(request: Request) -> str:
    """This request's CSRF seed (the cookie, or the fresh one the middleware will set)."""
    seed: str = request.state.csrf_seed
    return seed


def current_csrf_token(request: Request) -> str:
    return csrf_token(web_state(request).secret, csrf_seed(request))


async def check_csrf(request: Request) -> None:
    """Refuse unsafe requests without a valid token (form field or ``X-CSRF-Token``)."""
    if request.method in SAFE_METHODS:
        return
    if not same_origin(request.headers.get("origin"), request.headers.get("host")):
        raise CsrfRejected("This form was sent from another site.")
    token = request.headers.get(CSRF_HEADER)
    if token is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            token = value if isinstance(value, str) else None
    if not csrf_valid(web_state(request).secret, request.cookies.get("pl_csrf"), token):
        raise CsrfRejected("The form expired or was not sent from this site.")


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


ServicesDep = Annotated[Services, Depends(_services_dep)]
CurrentUser = Annotated[User | None, Depends(_user_dep)]
RequireUser = Annotated[User, Depends(require_user)]
CsrfToken = Annotated[str, Depends(current_csrf_token)]
ClientAddress = Annotated[str, Depends(client_address)]
