"""Sign up, sign in, sign out and the account page.

Sign-in errors are one message for an unknown name and a wrong password,
and the response takes the same argon2 time either way (``accounts.users``).
The session cookie is HTTP-only, SameSite=Lax and Secure on https (or always,
with ``PAPERLENS_COOKIE_SECURE=true``); the CSRF seed is replaced at sign-in
and sign-out.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from paperlens.accounts import AccountError, Conflict, InvalidCredentials, RateLimited
from paperlens.accounts import users as accounts
from paperlens.accounts.lists import lists_of
from paperlens.accounts.submissions import submissions_of
from paperlens.web.deps import (
    ClientAddress,
    CurrentUser,
    RequireUser,
    ServicesDep,
    check_csrf,
    web_state,
)
from paperlens.web.render import render
from paperlens.web.security import SESSION_COOKIE, new_csrf_seed, safe_next

router = APIRouter(dependencies=[Depends(check_csrf)], include_in_schema=False)
NextParam = Annotated[str, Query(max_length=2000)]


def cookie_secure(request: Request) -> bool:
    mode = web_state(request).cookie_secure
    return mode == "true" or (mode == "auto" and request.url.scheme == "https")


def _signed_in(request: Request, token: str, next_path: str) -> Response:
    response = RedirectResponse(safe_next(next_path), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=accounts.SESSION_DAYS * 86400,
        httponly=True,
        samesite="lax",
        secure=cookie_secure(request),
        path="/",
    )
    request.state.csrf_seed = new_csrf_seed()
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, user: CurrentUser, next: NextParam = "/") -> Response:
    if user is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "login.html", {"title": "Sign in", "next": safe_next(next)})


@router.post("/login", response_model=None)
def login(
    request: Request,
    services: ServicesDep,
    address: ClientAddress,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    try:
        user = accounts.authenticate(services, username, password, address=address)
    except (InvalidCredentials, RateLimited) as exc:
        status = 429 if isinstance(exc, RateLimited) else 400
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
        return render(
            request,
            "login.html",
            {
                "title": "Sign in",
                "next": safe_next(next),
                "error": str(exc),
                "username": username,
            },
            status_code=status,
            headers=headers,
        )
    return _signed_in(request, accounts.start_session(services, user), next)


@router.get("/signup", response_class=HTMLResponse)
def signup_form(request: Request, user: CurrentUser, next: NextParam = "/") -> Response:
    if user is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "signup.html", {"title": "Create an account", "next": safe_next(next)})


@router.post("/signup", response_model=None)
def signup(
    request: Request,
    services: ServicesDep,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    try:
        user = accounts.sign_up(services, username, password)
    except AccountError as exc:
        status = 409 if isinstance(exc, Conflict) else 400
        return render(
            request,
            "signup.html",
            {
                "title": "Create an account",
                "next": safe_next(next),
                "error": str(exc),
                "username": username,
            },
            status_code=status,
        )
    return _signed_in(request, accounts.start_session(services, user), next)


@router.post("/logout", response_model=None)
def logout(request: Request, services: ServicesDep) -> Response:
    accounts.end_session(services, request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=cookie_secure(request)
    )
    request.state.csrf_seed = new_csrf_seed()
    return response


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request, services: ServicesDep, user: RequireUser) -> HTMLResponse:
    return render(
        request,
        "account.html",
        {
            "title": "Your account",
            "lists": lists_of(services, user.id),
            "submissions": submissions_of(services, user.id),
        },
    )
