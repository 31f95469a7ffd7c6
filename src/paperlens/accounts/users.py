"""Accounts, argon2 password hashing and sessions.

Passwords are hashed with argon2id through pwdlib's recommended settings and
re-hashed on sign-in when those settings change. A sign-in for an unknown
username still runs one argon2 verification (against a dummy hash), so the
response time does not tell which usernames exist; the error message is the
same either way. Failed sign-ins are counted per username and per client
address in the database (so every worker process sees them) and refused for
a while after too many.

A session is a random token in an HTTP-only cookie; the database keeps only
its sha256, so a copy of the database hands out no live sessions.
"""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from pwdlib import PasswordHash

from paperlens.accounts import AccountError, Conflict, InvalidCredentials, RateLimited
from paperlens.store.accounts import AccountStore

if TYPE_CHECKING:
    from paperlens.services import Services

USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{1,29}[A-Za-z0-9]$")
MIN_PASSWORD = 8
MAX_PASSWORD = 512  # argon2 takes any length; a cap keeps a request from costing minutes
SESSION_DAYS = 30
FAILURE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_USER = 5
MAX_FAILURES_PER_ADDRESS = 30


@dataclass(frozen=True, slots=True)
class User:
    """A signed-in person as the pages see them."""

    id: int
    username: str


@functools.cache
def _hasher() -> PasswordHash:
    return PasswordHash.recommended()


@functools.cache
def _dummy_hash() -> str:
    """A real argon2 hash of a random password, verified when the username is unknown."""
    return _hasher().hash(secrets.token_urlsafe(16))


def username_key(username: str) -> str:
    return unicodedata.normalize("NFKC", username).casefold()


def check_username(username: str) -> str:
    username = username.strip()
    if not USERNAME_RE.match(username):
        raise AccountError(
            "Usernames are 3–31 letters, digits, '.', '_' or '-', "
            "starting and ending with a letter or digit."
        )
    return username


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"Passwords need at least {MIN_PASSWORD} characters.")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"Passwords can be at most {MAX_PASSWORD} characters.")


def sign_up(services: Services, username: str, password: str) -> User:
    """Create an account; ``Conflict`` when the username is taken.

    Usernames are public (they label public reading lists), so saying one is
    taken reveals nothing private; there is no e-mail address to enumerate.
    """
    username = check_username(username)
    check_password(password)
    hashed = _hasher().hash(password)
    accounts = AccountStore(services.store)
    key = username_key(username)
    with accounts.transaction():
        if accounts.user_by_key(key) is not None:
            raise Conflict(f"The username {username!r} is taken; choose another.")
        user_id = accounts.add_user(username, key, hashed, services.clock())
    return User(user_id, username)


def authenticate(services: Services, username: str, password: str, *, address: str) -> User:
    """The user for a username and password, or ``InvalidCredentials`` / ``RateLimited``."""
    accounts = AccountStore(services.store)
    now = services.clock()
    key = username_key(username.strip())[:64]
    subjects = (f"user:{key}", f"ip:{address}")
    since = now - FAILURE_WINDOW
    if (
        accounts.login_failures_since(subjects[0], since) >= MAX_FAILURES_PER_USER
        or accounts.login_failures_since(subjects[1], since) >= MAX_FAILURES_PER_ADDRESS
    ):
        raise RateLimited(
            "Too many failed sign-ins. Wait 15 minutes and try again.",
            retry_after=int(FAILURE_WINDOW.total_seconds()),
        )
    row = accounts.user_by_key(key) if len(password) <= MAX_PASSWORD else None
    if row is None:
        _hasher().verify(password[:MAX_PASSWORD], _dummy_hash())
        valid, updated = False, None
    else:
        valid, updated = _hasher().verify_and_update(password, row.password_hash)
    with accounts.transaction():
        if not valid or row is None:
            accounts.add_login_failure(subjects, now)
            accounts.prune_login_failures(now - FAILURE_WINDOW * 4)
            raise_after = InvalidCredentials("Incorrect username or password.")
        else:
            accounts.clear_login_failures(subjects[0])
            accounts.touch_login(row.id, now)
            if updated:
                accounts.set_password_hash(row.id, updated)
            raise_after = None
    if raise_after is not None:
        raise raise_after
    assert row is not None
    return User(row.id, row.username)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(services: Services, user: User) -> str:
    """A new session token for the cookie."""
    token = secrets.token_urlsafe(32)
    now = services.clock()
    accounts = AccountStore(services.store)
    with accounts.transaction():
        accounts.add_session(_token_hash(token), user.id, now, now + timedelta(days=SESSION_DAYS))
        accounts.delete_expired_sessions(now)
    return token


def session_user(services: Services, token: str | None) -> User | None:
    """The user a session cookie belongs to, or None when absent, unknown or expired."""
    if not token or len(token) > 128:
        return None
    row = AccountStore(services.store).session_user(_token_hash(token), services.clock())
    return User(row.id, row.username) if row else None


def end_session(services: Services, token: str | None) -> None:
    if not token:
        return
    accounts = AccountStore(services.store)
    with accounts.transaction():
        accounts.delete_session(_token_hash(token))
