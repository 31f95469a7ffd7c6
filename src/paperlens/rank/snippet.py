"""Snippets: the part of an abstract around the query's words, with matches marked.

Returned as ``(text, matched)`` segments rather than markup, so the terminal
renders them with Rich styles and the web escapes the text and wraps matches
in ``<mark>``: no path from user input to unescaped HTML.

A result page shows twenty abstracts of about 160 words each; stemming every
word of them cost more than the search itself. So a regular expression first
finds the few candidate words, those starting like a query stem (an English
Snowball stem minus its last letter is a prefix of the word it came from,
reading any i as i or y: "stud" ← "study", "hop" ← "hoping", "l[iy]" ←
"lying"; a test checks it on every word of the sample corpus), and only those
are stemmed and compared, so what is marked is exactly what the index matched.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

Segment = tuple[str, bool]
_MIN_PREFIX = 2


class Matcher:
    """Finds the words of a text that match the query's ``stems``."""

    def __init__(self, stems: set[str], stem: Callable[[str], Sequence[str]]) -> None:
        self.stems = stems
        self.stem = stem
        self.known: dict[str, bool] = {}
        prefixes = sorted({s[: max(len(s) - 1, _MIN_PREFIX)] for s in stems}, key=len)
        # The stemmer turns a y into i ("lying" -> "lie"), so an i may have been a y.
        alternatives = "|".join(re.escape(p).replace("i", "[iy]") for p in reversed(prefixes))
        # Words as the index tokenizes them: runs of letters and digits ("0_12" is two).
        self.candidates = (
            re.compile(rf"(?<![^\W_])(?:{alternatives})[^\W_]*", re.IGNORECASE) if stems else None
        )

    def matches(self, text: str) -> list[re.Match[str]]:
        """The matching words of ``text``, in order."""
        if self.candidates is None:
            return []
        found = []
        for m in self.candidates.finditer(text):
            word = m.group()
            hit = self.known.get(word)
            if hit is None:
                hit = self.known[word] = not self.stems.isdisjoint(self.stem(word))
            if hit:
                found.append(m)
        return found


def snippet(text: str, matches: Matcher, *, chars: int = 280, lead: int = 40) -> list[Segment]:
    """About ``chars`` characters around the densest run of matches, split into segments.

    The window starts up to ``lead`` characters before its first match (at a
    word boundary), so a match is read in context; without matches it is the
    opening of the text.
    """
    if not text:
        return []
    hits = matches.matches(text)
    start = 0
    if hits:
        best, first, j = 0, 0, 0
        for i, hit in enumerate(hits):  # two pointers: most matches within `chars`
            while hits[j].start() < hit.end() - chars:
                j += 1
            if i - j + 1 > best:
                best, first = i - j + 1, j
        start = _word_start(text, max(0, hits[first].start() - lead))
    end = _word_end(text, start + chars)
    segments: list[Segment] = [("… ", False)] if start else []
    cursor = start
    for hit in hits:
        if hit.start() < start or hit.end() > end:
            continue
        if hit.start() > cursor:
            segments.append((text[cursor : hit.start()], False))
        segments.append((hit.group(), True))
        cursor = hit.end()
    if end > cursor:
        segments.append((text[cursor:end], False))
    if end < len(text):
        segments.append((" …", False))
    return segments


def _word_start(text: str, at: int) -> int:
    """``at`` moved forward to the start of a word (0 stays 0)."""
    if at == 0:
        return 0
    space = text.find(" ", at)
    return space + 1 if 0 <= space < len(text) - 1 else at


def _word_end(text: str, at: int) -> int:
    """``at`` moved forward to the end of a word (or the end of ``text``)."""
    if at >= len(text):
        return len(text)
    space = text.find(" ", at)
    return len(text) if space < 0 else space


def matched_terms(text: str, matches: Matcher) -> list[str]:
    """The distinct words of ``text`` that matched the query, in order of appearance."""
    return list({m.group().lower(): None for m in matches.matches(text)})
