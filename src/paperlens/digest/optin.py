"""Subscribe, confirm (double opt-in) and unsubscribe.

Nothing but a confirmation is ever sent to an address that has not
confirmed. Subscribing answers the same whatever the address's state, so
the form cannot be used to learn who subscribes; and it sends at most one
confirmation per ``confirm_cooldown_minutes`` and ``confirm_max_per_day``
per address, so it cannot be used to flood someone's inbox. Each
confirmation mail carries a fresh nonce; only the newest link works, and
only once (confirming clears the nonce).

A signed-in user subscribing attaches their account to the subscription
only when the address's owner clicks the link (the user id travels in the
signed token), so nobody can take over another person's subscription by
typing their address.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from email_validator import EmailNotValidError, validate_email

from paperlens.digest.env import DigestEnv
from paperlens.digest.tokens import InvalidToken
from paperlens.errors import PaperlensError
from paperlens.store.digest import Subscription, parse_ts, ts

logger = logging.getLogger(__name__)

SUBSCRIBE_ANSWER = (
    "Thanks! If this address can receive digests, a confirmation link is on its way. "
    "Open it to start your subscription."
)


class InvalidAddress(PaperlensError):
    """A mail address that cannot be used (syntax, line breaks, unknown domain form)."""


def normalise_email(text: str) -> str:
    """The address in canonical form, or ``InvalidAddress`` (line breaks included).

    Lower-cased as a whole: RFC 5321 lets a server treat the local part's case
    as significant, but real mailboxes do not, and one row per mailbox is what
    stops "Victim@x" and "victim@x" from each getting their own confirmations.
    """
    if any(c in text for c in "\r\n\x00"):
        raise InvalidAddress("a mail address cannot contain line breaks")
    try:
        info = validate_email(text.strip(), check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise InvalidAddress(
            f"{text.strip()[:100]!r} is not a usable mail address: {exc}"
        ) from None
    return str(info.normalized).lower()


@dataclass(frozen=True, slots=True)
class SubscribeOutcome:
    """What subscribing did; only ``answer`` may be shown to the person who asked."""

    answer: str
    confirmation_queued: bool
    subscription_id: int


def subscribe(
    env: DigestEnv,
    address: str,
    *,
    user_id: int | None = None,
    **settings: object,
) -> SubscribeOutcome:
    """Start (or restart) double opt-in for ``address``; the answer never varies."""
    email = normalise_email(address)
    now = env.now()
    db = env.db
    from paperlens.digest.prefs import checked_settings

    values = checked_settings(settings)
    sub = db.subscription_by_email(email)
    if sub is None:
        try:
            sub = db.insert_subscription(email, now=now, status="pending", **values)
        except Exception:  # a concurrent subscribe of the same address won the insert
            sub = db.subscription_by_email(email)
            if sub is None:
                raise
    elif sub.status != "active" and values:
        db.update_subscription(sub.id, **values)
    wants_mail = sub.status != "active" or (user_id is not None and sub.user_id != user_id)
    queued = False
    if wants_mail and _may_send_confirmation(env, sub):
        queued = _queue_confirmation(env, sub, user_id=user_id)
    return SubscribeOutcome(SUBSCRIBE_ANSWER, queued, sub.id)


def add_confirmed(env: DigestEnv, address: str, **settings: object) -> Subscription:
    """Subscribe without opt-in, for an operator vouching for the address (CLI only)."""
    from paperlens.digest.prefs import checked_settings

    email = normalise_email(address)
    values = checked_settings(settings)
    now = env.now()
    sub = env.db.subscription_by_email(email)
    if sub is None:
        sub = env.db.insert_subscription(email, now=now, **values)
    elif values:
        env.db.update_subscription(sub.id, **values)
    with env.db.transaction():
        env.db.update_subscription(sub.id, status="active", confirmed_at=ts(now),
                                   confirm_nonce=None, unsubscribed_at=None, paused_at=None,
                                   bounce_count=0)  # fmt: skip
        env.db.cancel_pending(sub.id)
    done = env.db.subscription(sub.id)
    assert done is not None
    return done


def _may_send_confirmation(env: DigestEnv, sub: Subscription) -> bool:
    now = env.now()
    last = parse_ts(sub.confirm_sent_at)
    cooldown = timedelta(minutes=env.settings.confirm_cooldown_minutes)
    if last is not None and now - last < cooldown:
        logger.info("confirmation to %s not sent: one was sent at %s", sub.email, last)
        return False
    today = now.date().isoformat()
    if sub.confirms_day == today and sub.confirms_today >= env.settings.confirm_max_per_day:
        logger.info("confirmation to %s not sent: daily limit reached", sub.email)
        return False
    return True


def _queue_confirmation(env: DigestEnv, sub: Subscription, *, user_id: int | None) -> bool:
    now = env.now()
    nonce = secrets.token_urlsafe(12)
    if user_id is not None:
        nonce = f"{nonce}.{user_id}"
    today = now.date().isoformat()
    count = sub.confirms_today + 1 if sub.confirms_day == today else 1
    rendered = env.renderer.confirmation(sub, nonce, now=now)
    with env.db.transaction():
        env.db.update_subscription(
            sub.id, confirm_nonce=nonce, confirm_sent_at=ts(now), confirms_day=today,
            confirms_today=count,
        )  # fmt: skip
        out_id = env.db.enqueue(
            sub.id, kind="confirm", period=f"confirm:{nonce}", recipient=sub.email,
            message_id=rendered.message_id, message=rendered.as_bytes(), now=now,
        )  # fmt: skip
    return out_id is not None


def confirm(env: DigestEnv, token: str) -> Subscription:
    """Activate the subscription named by a confirmation link (idempotent for that link)."""
    claim = env.tokens.read_confirm(token, max_age_s=env.settings.confirm_ttl_hours * 3600)
    sub = env.db.subscription_by_email(claim.email)
    if sub is None:
        raise InvalidToken("this confirmation link is not valid")
    if sub.confirm_nonce != claim.nonce:
        if sub.status == "active" and sub.confirm_nonce is None:
            return sub  # the same link opened twice
        raise InvalidToken(
            "this confirmation link has been replaced by a newer one or was already used"
        )
    _, _, user = claim.nonce.partition(".")
    values: dict[str, object] = {
        "status": "active", "confirm_nonce": None, "confirmed_at": ts(env.now()),
        "bounce_count": 0, "paused_at": None, "unsubscribed_at": None,
    }  # fmt: skip
    if user.isdigit():
        values["user_id"] = int(user)
    env.db.update_subscription(sub.id, **values)
    logger.info("subscription %s (%s) confirmed", sub.id, sub.email)
    confirmed = env.db.subscription(sub.id)
    assert confirmed is not None
    return confirmed


def subscription_for_token(env: DigestEnv, token: str, *, purpose: str) -> Subscription:
    """The subscription an unsubscribe or manage link names, checked against its address."""
    read = env.tokens.read_unsubscribe if purpose == "unsubscribe" else env.tokens.read_manage
    claim = read(token)
    sub = env.db.subscription(claim.subscription_id)
    if sub is None or sub.email != claim.email:
        raise InvalidToken(f"this {purpose} link is not valid")
    return sub


def unsubscribe(env: DigestEnv, sub: Subscription) -> Subscription:
    """Stop every mail to ``sub`` now, including queued ones (idempotent)."""
    if sub.status != "unsubscribed":
        with env.db.transaction():
            env.db.update_subscription(
                sub.id, status="unsubscribed", unsubscribed_at=ts(env.now()), confirm_nonce=None
            )
            env.db.cancel_pending(sub.id)
        logger.info("subscription %s (%s) unsubscribed", sub.id, sub.email)
    done = env.db.subscription(sub.id)
    assert done is not None
    return done


def unsubscribe_token(env: DigestEnv, token: str) -> Subscription:
    """Unsubscribe by a signed link (the page, the RFC 8058 one-click POST)."""
    return unsubscribe(env, subscription_for_token(env, token, purpose="unsubscribe"))
