"""The search query language, parsed into a structure no index can misread.

Syntax: plain words, ``"phrases"``, ``-excluded`` (word or phrase), ``+required``,
and filters ``author:``, ``title:``, ``cat:``, ``org:``, ``year:2023`` / ``year:2021..2023``
(either end may be open). Everything else is a plain word: ``OR``, ``NEAR``,
``*``, parentheses and SQL fragments carry no meaning here, so user text can
never become index syntax. Written by hand because no library parses this
small, forgiving grammar and hands back typed parts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from paperlens.errors import InvalidQuery

_TOKEN_RE = re.compile(r'([+-]?)(?:(\w+):)?(?:"([^"]*)"|(\S+))')
_YEAR_RE = re.compile(r"^(\d{4})?(?:(\.\.)(\d{4})?)?$")
_FILTERS = ("author", "title", "cat", "org", "year")
MAX_QUERY_CHARS = 1000


@dataclass(slots=True)
class ParsedQuery:
    """A query taken apart: what to rank by, what must and must not match."""

    words: list[str] = field(default_factory=list)
    required: list[str] = field(default_factory=list)
    phrases: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    organisations: list[str] = field(default_factory=list)
    year_from: int | None = None
    year_to: int | None = None

    @property
    def has_text(self) -> bool:
        """True when there is something to rank by (not only filters)."""
        return bool(self.words or self.required or self.phrases or self.titles)

    @property
    def has_filters(self) -> bool:
        return bool(
            self.authors
            or self.categories
            or self.organisations
            or self.year_from is not None
            or self.year_to is not None
            or self.excluded
        )

    @property
    def text(self) -> str:
        """The free text of the query, for rankers that read meaning (embeddings)."""
        return " ".join([*self.phrases, *self.required, *self.words, *self.titles])


def parse_query(query: str) -> ParsedQuery:
    """Parse user text; raises ``InvalidQuery`` only for a malformed filter value."""
    if len(query) > MAX_QUERY_CHARS:
        raise InvalidQuery(f"query is {len(query)} characters; the limit is {MAX_QUERY_CHARS}")
    parsed = ParsedQuery()
    for m in _TOKEN_RE.finditer(query):
        sign, name, quoted, bare = m.group(1), m.group(2), m.group(3), m.group(4)
        value = (quoted if quoted is not None else bare or "").strip()
        is_phrase = quoted is not None
        name = name.lower() if name else None
        if name is not None and name not in _FILTERS:
            # "foo:bar" with an unknown field is just the words foo and bar.
            value = f"{m.group(2)} {value}"
            name = None
        if not value:
            continue
        if name == "year":
            parsed.year_from, parsed.year_to = _parse_years(value)
        elif name == "author":
            parsed.authors.append(value)
        elif name == "title":
            parsed.titles.append(value)
        elif name == "cat":
            parsed.categories.append(value)
        elif name == "org":
            parsed.organisations.append(value)
        elif sign == "-":
            parsed.excluded.append(value)
        elif is_phrase and " " in value:
            parsed.phrases.append(value)
        elif sign == "+":
            parsed.required.append(value)
        else:
            parsed.words.append(value)
    return parsed


def _parse_years(value: str) -> tuple[int | None, int | None]:
    m = _YEAR_RE.match(value)
    if not m or (m.group(1) is None and m.group(3) is None):
        raise InvalidQuery(
            f"year:{value} is not a year; "
            "use year:2023, year:2021..2023, year:2021.. or year:..2023"
        )
    start = int(m.group(1)) if m.group(1) else None
    end = int(m.group(3)) if m.group(3) else None
    if m.group(2) is None:
        end = start
    if start is not None and end is not None and start > end:
        raise InvalidQuery(f"year:{value} runs backwards; write the earlier year first")
    return start, end
