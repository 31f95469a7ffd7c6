"""Text normalisation shared by sources, merge and rank.

Titles are compared after Unicode folding, lower-casing and stripping
punctuation and TeX markup, so "Patch Diffusion: Faster ..." from a lab page and
"Patch Diffusion: Faster\n  ..." from arXiv produce the same key.
"""

from __future__ import annotations

import functools
import re
import unicodedata

# ASCII punctuation (and "_") to spaces, as a bytes.translate table: most
# titles and abstracts are pure ASCII, and translating their bytes is several
# times faster than str.translate (a dict lookup per character) or a regex.
_ASCII_WORD_BYTES = bytes(c if chr(c).isascii() and chr(c).isalnum() else 32 for c in range(256))
_NON_WORD_RE = re.compile(r"[^\w]+")
_TEX_CMD_RE = re.compile(r"\\[a-zA-Z]+\*?")


def clean_whitespace(text: str) -> str:
    """Collapse arXiv's hard line breaks and runs of spaces into single spaces.

    Fast path: once newlines are spaces and the ends stripped, a printable
    string with no double space holds no other whitespace, so it is clean.
    """
    s = text.replace("\n", " ").strip()
    if "  " in s or not s.isprintable():
        return " ".join(s.split())
    return s


def fold(text: str) -> str:
    """Lower-case, strip accents and TeX commands, and keep only word characters."""
    return _fold(text, None)


def _fold(text: str, max_words: int | None) -> str:
    """``fold`` keeping only the first ``max_words`` words (all for None)."""
    if "\\" in text:
        text = _TEX_CMD_RE.sub(" ", text)
    if text.isascii():
        return b" ".join(
            text.encode().lower().translate(_ASCII_WORD_BYTES).split()[:max_words]
        ).decode()
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(_NON_WORD_RE.sub(" ", text.casefold().replace("_", " ")).split()[:max_words])


def stored_keys(title: str | None, abstract: str | None) -> tuple[str | None, str | None]:
    """A paper's title and abstract keys as the store keeps them: None where there is no
    text or it folds to nothing (an empty key would match every other empty one)."""
    return (
        title_key(title) or None if title else None,
        abstract_key(abstract) or None if abstract else None,
    )


@functools.lru_cache(maxsize=16384)
def title_key(title: str) -> str:
    """The match key for a title: folded words joined by single spaces."""
    return fold(title)


@functools.lru_cache(maxsize=16384)
def abstract_key(abstract: str) -> str:
    """The match key for an abstract: the first 40 folded words.

    Listing pages sometimes trim or re-wrap the end of an abstract, so the key
    uses its opening, which every copy shares.
    """
    # Only the opening is folded: the key never needs more than 40 words.
    return _fold(abstract[:600], 40)


@functools.lru_cache(maxsize=65536)
def name_key(name: str) -> str:
    """A person's name as a comparison key: folded, and reduced to the surname.

    Sources write "Wang, Zhendong", "Zhendong Wang" and "Z. Wang"; the surname
    is the part they agree on.
    """
    name = name.strip()
    if name.isascii() and name.isalpha():
        return name.lower()
    if "," in name:
        surname = name.split(",", 1)[0]
    else:
        parts = name.split()
        surname = parts[-1] if parts else ""
    return fold(surname)
