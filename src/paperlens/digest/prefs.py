"""What a subscriber wants: cadence and time, sections, follows and saved searches.

Every value is checked here, once, for the web form, the CLI and the API
alike; a bad value raises ``InvalidSetting`` naming the field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from paperlens.digest.compose import follow_key
from paperlens.digest.env import DigestEnv
from paperlens.digest.period import CADENCES, valid_timezone
from paperlens.errors import InvalidQuery, PaperlensError
from paperlens.index.keyword import parse_query
from paperlens.rank.trending import WINDOWS
from paperlens.store.digest import FOLLOW_KINDS, Follow, SavedSearch

_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_CATEGORY_RE = re.compile(r"^[A-Za-z][A-Za-z\-]*(\.[A-Za-z\-]+)?$")
MAX_FOLLOWS = 200
MAX_SEARCHES = 50
MAX_VALUE = 200


class InvalidSetting(PaperlensError):
    """A digest setting, follow or saved search that cannot be used."""


def _bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("1", "true", "on", "yes", "0", "false", "off",
                                                     "no", ""):  # fmt: skip
        return value.lower() in ("1", "true", "on", "yes")
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise InvalidSetting(f"{name}: expected yes or no, got {value!r}")


def _int(name: str, value: Any, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InvalidSetting(f"{name}: expected a whole number, got {value!r}") from None
    if not low <= number <= high:
        raise InvalidSetting(f"{name}: must be between {low} and {high}, got {number}")
    return number


def _choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise InvalidSetting(f"{name}: choose one of {', '.join(choices)}, got {value!r}")
    return str(value)


def checked_settings(values: Mapping[str, Any]) -> dict[str, Any]:
    """Subscription settings, validated and typed; unknown names are an error."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        if value is None:
            continue
        if name == "cadence":
            out[name] = _choice(name, value, CADENCES)
        elif name == "trending_window":
            out[name] = _choice(name, value, WINDOWS)
        elif name == "send_hour":
            out[name] = _int(name, value, 0, 23)
        elif name == "weekday":
            out[name] = _int(name, value, 0, 6)
        elif name in ("trending_count", "personal_count"):
            out[name] = _int(name, value, 0, 50)
        elif name == "timezone":
            if not isinstance(value, str) or not valid_timezone(value):
                raise InvalidSetting(f"timezone: {value!r} is not a known time zone")
            out[name] = value
        elif name in ("include_trending", "include_follows", "include_searches",
                      "include_similar"):  # fmt: skip
            out[name] = _bool(name, value)
        else:
            raise InvalidSetting(f"{name}: not a digest setting")
    return out


def update_settings(env: DigestEnv, sub_id: int, **values: Any) -> None:
    env.db.update_subscription(sub_id, **checked_settings(values))


def _value(kind: str, value: str) -> str:
    text = " ".join(_CONTROL_RE.sub(" ", value).split())
    if not text:
        raise InvalidSetting(f"{kind}: empty")
    if len(text) > MAX_VALUE:
        raise InvalidSetting(f"{kind}: longer than {MAX_VALUE} characters")
    return text


def follow(env: DigestEnv, sub_id: int, kind: str, value: str) -> Follow:
    """Follow an author, an organisation or an arXiv category (idempotent)."""
    kind = _choice("kind", kind, FOLLOW_KINDS)
    text = _value(kind, value)
    if kind == "category" and not _CATEGORY_RE.match(text):
        raise InvalidSetting(f"category: {text!r} is not an arXiv category such as cs.LG")
    key = follow_key(kind, text)
    if not key:
        raise InvalidSetting(f"{kind}: {text!r} has no letters to match on")
    if len(env.db.follows(sub_id)) >= MAX_FOLLOWS:
        raise InvalidSetting(f"you already follow {MAX_FOLLOWS} things; remove some first")
    env.db.add_follow(sub_id, kind, text, key, env.now())
    return Follow(kind, text, key)


def unfollow(env: DigestEnv, sub_id: int, kind: str, value: str) -> bool:
    return env.db.remove_follow(sub_id, kind, follow_key(kind, value))


def save_search(env: DigestEnv, sub_id: int, query: str) -> SavedSearch:
    """Save a search whose new matches go in the digest; the query must parse."""
    text = _value("search", query)
    try:
        parsed = parse_query(text)
    except InvalidQuery as exc:
        raise InvalidSetting(f"search: {exc}") from None
    if not (parsed.has_text or parsed.has_filters):
        raise InvalidSetting("search: nothing to search for")
    if len(env.db.saved_searches(sub_id)) >= MAX_SEARCHES:
        raise InvalidSetting(f"you already have {MAX_SEARCHES} saved searches; remove some first")
    env.db.add_saved_search(sub_id, text, env.now())
    found = [s for s in env.db.saved_searches(sub_id) if s.query == text]
    return found[0]


def remove_search(env: DigestEnv, sub_id: int, search_id: int) -> bool:
    return env.db.remove_saved_search(sub_id, search_id)
