"""The secret key, CSRF tokens, cookie flags and safe redirects.

CSRF uses the signed double-submit pattern (OWASP cheat sheet, "Signed Double-
Submit Cookie"): a random seed lives in an HTTP-only cookie and every form or
HTMX request must carry ``HMAC(secret, seed)``. A page from another origin can
make the browser send the cookie but cannot read it or compute the HMAC.
The seed is replaced at sign-in and sign-out, so a token planted before
sign-in is useless after it. Unsafe requests with an ``Origin`` header from
another site are refused before the token is even checked.

Hand-written rather than a CSRF middleware package because it must read the
token from either a form field or a header on the same request FastAPI parses,
and the whole mechanism is two HMAC lines.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

SESSION_COOKIE = "pl_session"
CSRF_COOKIE = "pl_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
_KEY_FILE = "secret_key"


def load_secret_key(data_dir: Path) -> bytes:
    """The site's secret key, generated into ``data_dir`` on first run (mode 0600).

    There is no built-in default: a key shipped in the code would let anyone
    forge CSRF tokens on every installation.
    """
    path = data_dir / _KEY_FILE
    if path.exists():
        key = path.read_text(encoding="ascii").strip()
        if len(key) >= 32:
            return key.encode()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(key + "\n")
    try:
        os.link(tmp, path)  # first writer wins when two workers start together
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return path.read_text(encoding="ascii").strip().encode()


def new_csrf_seed() -> str:
    return secrets.token_urlsafe(24)


def csrf_token(secret: bytes, seed: str) -> str:
    return hmac.new(secret, b"csrf:" + seed.encode(), hashlib.sha256).hexdigest()


def csrf_valid(secret: bytes, seed: str | None, token: str | None) -> bool:
    if not seed or not token or len(token) != 64:
        return False
    return hmac.compare_digest(csrf_token(secret, seed), token)


def same_origin(origin: str | None, host: str | None) -> bool:
    """False only when an ``Origin`` header names another host than the request's."""
    if not origin or origin == "null":
        return origin is None  # "null" (sandboxed or privacy-redirected) is refused
    return urlsplit(origin).netloc.lower() == (host or "").lower()


def safe_next(target: str | None, default: str = "/") -> str:
    """A local path to go to after sign-in; anything else (``//evil``, ``https:``) is dropped."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return default
    if any(c in target for c in "\r\n\t") or len(target) > 2000:
        return default
    return target
