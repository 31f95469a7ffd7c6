"""Digest pages: subscribe (no account needed), confirm, unsubscribe, settings, preview.

Links in mail carry signed tokens (``digest/tokens.py``), so confirm,
unsubscribe and the per-subscriber settings page work without signing in.
The unsubscribe URL is also the ``List-Unsubscribe`` target: a GET shows a
button (link scanners prefetch GETs, so a GET never unsubscribes), and a POST
unsubscribes, whether it comes from that button or from a mail provider's
RFC 8058 one-click request (``List-Unsubscribe=One-Click``, no cookies, no
CSRF token: the signed token is the authority). Forms of signed-in users
carry the site's CSRF token.

The subscribe form answers the same page whatever the address's state, and
sends the confirmation after the response, so neither the text nor the
timing says whether an address is known.
"""

from __future__ import annotations

import logging
import threading
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from paperlens.digest import optin, prefs
from paperlens.digest.compose import WINDOW_LABEL
from paperlens.digest.env import DigestEnv
from paperlens.digest.optin import InvalidAddress
from paperlens.digest.period import CADENCES
from paperlens.digest.prefs import InvalidSetting
from paperlens.digest.run import deliver, preview
from paperlens.digest.tokens import InvalidToken
from paperlens.rank.trending import WINDOWS
from paperlens.store.digest import FOLLOW_KINDS, Subscription
from paperlens.web.deps import CurrentUser, RequireUser, ServicesDep, check_csrf
from paperlens.web.render import render

logger = logging.getLogger(__name__)

router = APIRouter()
_ENV_LOCK = threading.Lock()
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
COMMON_ZONES = (
    "UTC", "Europe/London", "Europe/Paris", "Europe/Berlin", "America/New_York",
    "America/Chicago", "America/Los_Angeles", "America/Sao_Paulo", "Asia/Kolkata",
    "Asia/Shanghai", "Asia/Tokyo", "Asia/Singapore", "Australia/Sydney",
)  # fmt: skip


def digest_env(request: Request, services: ServicesDep) -> DigestEnv:
    """The app's ``DigestEnv``, made on first use (tests may set ``app.state.digest_env``)."""
    env: DigestEnv | None = getattr(request.app.state, "digest_env", None)
    if env is None:
        with _ENV_LOCK:
            env = getattr(request.app.state, "digest_env", None)
            if env is None:
                env = DigestEnv(services)
                request.app.state.digest_env = env
    return env


EnvDep = Annotated[DigestEnv, Depends(digest_env)]


def _send_confirmation(env: DigestEnv, subscription_id: int) -> None:
    """Deliver one subscriber's queued confirmation; the worker retries any failure."""
    try:
        deliver(env, subscription_id=subscription_id)
    except Exception:  # logged; the outbox keeps the message for the worker
        logger.exception("sending the confirmation to subscription %s failed", subscription_id)


def _message(
    request: Request, title: str, message: str, *, status: int = 200, **extra: Any
) -> HTMLResponse:
    return render(
        request,
        "digest_message.html",
        {"title": title, "message": message, **extra},
        status_code=status,
    )


# -- subscribe and confirm -----------------------------------------------------


@router.get("/digest", response_class=HTMLResponse)
def subscribe_page(request: Request, env: EnvDep, user: CurrentUser) -> HTMLResponse:
    subs = env.db.subscriptions_of_user(user.id) if user else []
    return render(
        request,
        "digest_subscribe.html",
        {
            "title": "Get trending papers in your inbox",
            "subscriptions": subs,
            "cadences": CADENCES,
        },
    )


@router.post("/digest/subscribe", response_model=None, dependencies=[Depends(check_csrf)])
def subscribe(
    request: Request,
    env: EnvDep,
    user: CurrentUser,
    tasks: BackgroundTasks,
    email: Annotated[str, Form(max_length=320)] = "",
    cadence: Annotated[str, Form(max_length=10)] = "weekly",
) -> Response:
    try:
        outcome = optin.subscribe(env, email, user_id=user.id if user else None, cadence=cadence)
    except (InvalidAddress, InvalidSetting) as exc:
        return render(
            request,
            "digest_subscribe.html",
            {
                "title": "Get trending papers in your inbox",
                "error": str(exc),
                "email": email,
                "subscriptions": [],
                "cadences": CADENCES,
            },
            status_code=400,
        )
    if outcome.confirmation_queued:
        tasks.add_task(_send_confirmation, env, outcome.subscription_id)
    return _message(request, "Check your inbox", outcome.answer)


@router.get("/digest/confirm", response_class=HTMLResponse)
def confirm_page(request: Request, token: str = "") -> HTMLResponse:
    """A button, not an action: mail scanners open links, people press buttons."""
    return render(request, "digest_confirm.html", {"title": "Confirm subscription",
                                                   "token": token})  # fmt: skip


@router.post("/digest/confirm", response_class=HTMLResponse)
def confirm(request: Request, env: EnvDep, token: Annotated[str, Form()] = "") -> HTMLResponse:
    try:
        sub = optin.confirm(env, token)
    except InvalidToken as exc:
        return _message(request, "Link not valid", str(exc), status=400)
    return _message(
        request,
        "You are subscribed",
        f"Digests will go to {sub.email}, {sub.cadence}.",
        manage=env.renderer.links.manage(sub),
    )


# -- unsubscribe (page and RFC 8058 one-click) ---------------------------------


@router.get("/digest/unsubscribe", response_class=HTMLResponse)
def unsubscribe_page(request: Request, env: EnvDep, token: str = "") -> HTMLResponse:
    try:
        sub = optin.subscription_for_token(env, token, purpose="unsubscribe")
    except InvalidToken as exc:
        return _message(request, "Link not valid", str(exc), status=400)
    return render(
        request,
        "digest_unsubscribe.html",
        {"title": "Unsubscribe", "sub": sub, "token": token},
    )


@router.post("/digest/unsubscribe", response_class=HTMLResponse)
def unsubscribe(request: Request, env: EnvDep, token: str = "") -> HTMLResponse:
    """The button and RFC 8058 one-click: the token in the URL is all it takes."""
    try:
        sub = optin.unsubscribe_token(env, token)
    except InvalidToken as exc:
        return _message(request, "Link not valid", str(exc), status=400)
    return _message(
        request, "Unsubscribed", f"{sub.email} will get no more digests from this site."
    )


# -- settings ------------------------------------------------------------------


def _settings_context(env: DigestEnv, sub: Subscription, **extra: Any) -> dict[str, Any]:
    return {
        "title": "Digest settings",
        "sub": sub,
        "follows": env.db.follows(sub.id),
        "searches": env.db.saved_searches(sub.id),
        "cadences": CADENCES,
        "windows": WINDOWS,
        "window_label": WINDOW_LABEL,
        "weekdays": WEEKDAYS,
        "zones": COMMON_ZONES if sub.timezone in COMMON_ZONES else (sub.timezone, *COMMON_ZONES),
        "follow_kinds": FOLLOW_KINDS,
        **extra,
    }


def _apply(env: DigestEnv, sub: Subscription, form: dict[str, str]) -> str:
    """Apply one settings form; returns what was done, for the notice."""
    action = form.get("action", "save")
    if action == "save":
        values: dict[str, Any] = {
            name: form.get(name)
            for name in (
                "cadence",
                "send_hour",
                "weekday",
                "timezone",
                "trending_window",
                "trending_count",
                "personal_count",
            )
            if form.get(name) not in (None, "")
        }
        for name in ("include_trending", "include_follows", "include_searches",
                     "include_similar"):  # fmt: skip
            values[name] = form.get(name) == "on"
        prefs.update_settings(env, sub.id, **values)
        return "Settings saved."
    if action == "follow":
        follow = prefs.follow(env, sub.id, form.get("kind", ""), form.get("value", ""))
        return f"Following {follow.value}."
    if action == "unfollow":
        prefs.unfollow(env, sub.id, form.get("kind", ""), form.get("value", ""))
        return "Removed."
    if action == "search":
        saved = prefs.save_search(env, sub.id, form.get("query", ""))
        return f"Saved search '{saved.query}'."
    if action == "unsearch":
        try:
            prefs.remove_search(env, sub.id, int(form.get("search_id", "")))
        except ValueError:
            raise InvalidSetting("search_id: not a saved search") from None
        return "Removed."
    if action == "unsubscribe":
        optin.unsubscribe(env, sub)
        return "Unsubscribed."
    raise InvalidSetting(f"unknown action {action!r}")


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


@router.get("/digest/manage", response_class=HTMLResponse)
def manage_page(request: Request, env: EnvDep, token: str = "") -> HTMLResponse:
    try:
        sub = optin.subscription_for_token(env, token, purpose="manage")
    except InvalidToken as exc:
        return _message(request, "Link not valid", str(exc), status=400)
    return render(request, "digest_settings.html", _settings_context(env, sub, token=token))


@router.post("/digest/manage", response_class=HTMLResponse)
async def manage(request: Request, env: EnvDep, token: str = "") -> HTMLResponse:
    form = await _form(request)
    try:
        sub = optin.subscription_for_token(env, token, purpose="manage")
    except InvalidToken as exc:
        return _message(request, "Link not valid", str(exc), status=400)
    return await _settings_post(request, env, sub, form, token=token)


async def _settings_post(
    request: Request, env: EnvDep, sub: Subscription, form: dict[str, str], *, token: str | None
) -> HTMLResponse:
    import anyio.to_thread

    try:
        notice = await anyio.to_thread.run_sync(_apply, env, sub, form)
    except InvalidSetting as exc:
        return render(
            request,
            "digest_settings.html",
            _settings_context(env, sub, token=token, error=str(exc)),
            status_code=400,
        )
    fresh = env.db.subscription(sub.id) or sub
    return render(
        request, "digest_settings.html", _settings_context(env, fresh, token=token, notice=notice)
    )


def _user_subscription(env: DigestEnv, user_id: int, sub_id: int | None) -> Subscription | None:
    subs = env.db.subscriptions_of_user(user_id)
    if sub_id is not None:
        subs = [s for s in subs if s.id == sub_id]
    return subs[0] if subs else None


@router.get("/digest/settings", response_model=None)
def settings_page(
    request: Request, env: EnvDep, user: RequireUser, id: int | None = None
) -> Response:
    sub = _user_subscription(env, user.id, id)
    if sub is None:
        return RedirectResponse("/digest", status_code=303)
    return render(request, "digest_settings.html", _settings_context(env, sub, token=None))


@router.post("/digest/settings", response_model=None, dependencies=[Depends(check_csrf)])
async def settings_post(
    request: Request, env: EnvDep, user: RequireUser, id: int | None = None
) -> Response:
    form = await _form(request)
    sub = _user_subscription(env, user.id, id)
    if sub is None:
        return RedirectResponse("/digest", status_code=303)
    return await _settings_post(request, env, sub, form, token=None)


# -- preview -------------------------------------------------------------------


@router.get("/digest/preview", response_model=None)
def preview_page(
    request: Request, env: EnvDep, user: CurrentUser, token: str = "", id: int | None = None
) -> Response:
    """The subscriber's next digest as it would be mailed now (nothing is written)."""
    sub: Subscription | None
    if token:
        try:
            sub = optin.subscription_for_token(env, token, purpose="manage")
        except InvalidToken as exc:
            return _message(request, "Link not valid", str(exc), status=400)
    elif user is not None:
        sub = _user_subscription(env, user.id, id)
        if sub is None:
            return RedirectResponse("/digest", status_code=303)
    else:
        return RedirectResponse("/login?next=/digest/preview", status_code=303)
    digest, rendered = preview(env, sub)
    if rendered is None:
        return _message(
            request,
            "Nothing new yet",
            f"No new papers match since {digest.since:%b %d, %H:%M} UTC; "
            "an empty digest is not sent.",
        )
    part = rendered.message.get_body(preferencelist=("html",))
    html = str(part.get_content()) if part is not None else ""
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})
