"""Snippets: the part of an abstract around the query's words, with matches marked.

Returned as ``(text, matched)`` segments rather than markup, so the terminal
renders them with Rich styles and the web escapes the text and wraps matches
in ``<mark>``: no path from user input to unescaped HTML.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

_WORD_RE = re.compile(r"\w+", re.UNICODE)
Segment = tuple[str, bool]


class Matcher:
    """Which words match the query's ``stems``; each distinct word is stemmed once.

    A result page tests a few thousand words, mostly repeats ("the", "model"):
    remembering the answer per word, and asking in bulk, keeps snippets off the
    search latency.
    """

    def __init__(self, stems: set[str], stem: Callable[[str], Sequence[str]]) -> None:
        self.stems = stems
        self.stem = stem
        self.known: dict[str, bool] = {}

    def flags(self, words: list[str]) -> list[bool]:
        known, stems = self.known, self.stems
        for word in set(words).difference(known):
            known[word] = bool(stems) and not stems.isdisjoint(self.stem(word))
        return [known[w] for w in words]


def snippet(text: str, matches: Matcher, *, words: int = 40) -> list[Segment]:
    """The ``words``-word window with the most matches, split into segments."""
    tokens = list(_WORD_RE.finditer(text))
    if not tokens:
        return []
    hits = matches.flags([t.group() for t in tokens])
    best_start, best = 0, -1
    window = sum(hits[:words])
    for start in range(max(1, len(tokens) - words + 1)):
        if start:
            window += hits[start + words - 1] if start + words - 1 < len(hits) else 0
            window -= hits[start - 1]
        if window > best:
            best, best_start = window, start
    end_tok = min(len(tokens), best_start + words)
    begin = tokens[best_start].start() if best_start else 0
    finish = tokens[end_tok - 1].end() if end_tok < len(tokens) else len(text)
    segments: list[Segment] = []
    if begin:
        segments.append(("… ", False))
    cursor = begin
    for tok, hit in zip(tokens[best_start:end_tok], hits[best_start:end_tok], strict=True):
        if hit:
            if tok.start() > cursor:
                segments.append((text[cursor : tok.start()], False))
            segments.append((tok.group(), True))
            cursor = tok.end()
    if finish > cursor:
        segments.append((text[cursor:finish], False))
    if finish < len(text):
        segments.append((" …", False))
    return segments


def matched_terms(text: str, matches: Matcher) -> list[str]:
    """The distinct words of ``text`` that matched the query, in order of appearance."""
    words = _WORD_RE.findall(text)
    seen = {w.lower(): None for w, hit in zip(words, matches.flags(words), strict=True) if hit}
    return list(seen)
