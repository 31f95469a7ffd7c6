"""Accounts: users and sessions, votes, reading lists, submissions.

Errors raised here (all ``PaperlensError``; the web maps them to 4xx)::

    PaperlensError
     └── AccountError        a request about an account cannot be done (400)
          ├── InvalidCredentials   wrong username or password: one message for both (400)
          ├── RateLimited          too many attempts; ``retry_after`` seconds (429)
          └── Conflict             the name is taken / the thing exists already (409)

Unknown or private lists raise ``paperlens.errors.NotFound``, so a private list
and a missing one look the same from outside.
"""

from __future__ import annotations

from paperlens.errors import PaperlensError


class AccountError(PaperlensError):
    """An account action was refused; the message says why and what to do."""


class InvalidCredentials(AccountError):
    """Sign-in failed. Never says whether the username exists."""


class RateLimited(AccountError):
    """Too many attempts in a short time."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Conflict(AccountError):
    """The username is taken, or the thing exists already."""


__all__ = ["AccountError", "Conflict", "InvalidCredentials", "RateLimited"]
