"""Field helpers shared by the arXiv sources (bulk JSONL, OAI-PMH, Atom API).

The snapshot is a dump of arXiv's OAI metadata (``arXiv`` + ``arXivRaw``), so
author names, affiliations, RFC 2822 version dates and links look the same in
all three formats; they are parsed here once. Several of these run once per
line of a multi-million-line snapshot, hence the fast paths (plain names,
``vN`` labels and GMT dates skip the general parsers; regex work runs only when
a cheap substring test says it can match).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime

from paperlens.errors import UnreadableInput

_MONTHS = {
    m: i
    for i, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}
_UTC_ZONES = frozenset(("GMT", "UTC", "UT", "Z", "+0000", "-0000"))

# --- dates -------------------------------------------------------------------


def rfc2822_date(text: str | None) -> date | None:
    """The UTC day of an arXiv version date such as ``Mon, 2 Apr 2007 19:18:42 GMT``.

    arXivRaw and the snapshot write every version date this way, always in
    GMT; the fast path splits the string (``parsedate_to_datetime`` is several
    times slower, and runs once per version of every paper). Anything else
    falls back to the email parser, and an unreadable date is None, not an error.
    """
    if not text:
        return None
    parts = text.split()
    try:
        if (
            len(parts) >= 4
            and parts[0].endswith(",")
            and (len(parts) < 6 or parts[5] in _UTC_ZONES)
        ):
            return date(int(parts[3]), _MONTHS[parts[2]], int(parts[1]))
    except (KeyError, ValueError):
        pass
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC)
    return parsed.date()


def iso_date(text: str | None) -> date | None:
    """The UTC day of an ISO date or timestamp (``2013-04-30``, ``2012-04-02T12:38:54Z``)."""
    if not text:
        return None
    text = text.strip()
    try:
        if len(text) <= 10:
            return date.fromisoformat(text)
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.date()


def version_number(label: object) -> int | None:
    """``"v3"`` → 3; anything else → None."""
    if not isinstance(label, str):
        return None
    label = label.strip()
    if label[:1] in ("v", "V") and label[1:].isdigit():
        return int(label[1:])
    return None


# --- names and affiliations ------------------------------------------------------

_TEX_MARKS = {
    "'": "\u0301",
    "`": "\u0300",
    "^": "\u0302",
    '"': "\u0308",
    "~": "\u0303",
    "=": "\u0304",
    ".": "\u0307",
    "c": "\u0327",
    "v": "\u030c",
    "u": "\u0306",
    "H": "\u030b",
    "k": "\u0328",
    "r": "\u030a",
}
_TEX_SYMBOL_ACCENT_RE = re.compile(r"\\([`'^\"~=.])\s*(?:\{\s*(\\?[A-Za-z])\s*\}|(\\?[A-Za-z]))")
_TEX_LETTER_ACCENT_RE = re.compile(r"\\([cvuHkr])(?:\s*\{\s*(\\?[A-Za-z])\s*\}|\s+([A-Za-z]))")
_TEX_LETTERS = {"ss": "ß", "o": "ø", "O": "Ø", "aa": "å", "AA": "Å", "ae": "æ", "AE": "Æ"}
_TEX_LETTERS |= {"oe": "œ", "OE": "Œ", "l": "ł", "L": "Ł", "i": "ı", "j": "ȷ"}
_TEX_LETTER_RE = re.compile(r"\\(ss|aa|AA|ae|AE|oe|OE|[oOlLij])(?![A-Za-z])\s*")


def _accent(match: re.Match[str]) -> str:
    base = match.group(2) or match.group(3)
    if base in ("\\i", "\\j"):
        base = base[1]
    return base + _TEX_MARKS[match.group(1)]


def tex_to_unicode(text: str) -> str:
    """Turn TeX accents in a name (``Bal\\'azs``, ``G\\"{o}del``, ``\\c{c}``) into Unicode.

    The free-text ``authors`` field of arXivRaw and the snapshot is TeX, while
    ``authors_parsed`` and the Atom API give Unicode; merge compares surnames,
    so both must read "Balázs". Math and other commands are left alone.
    """
    if "\\" not in text:
        return text
    text = _TEX_SYMBOL_ACCENT_RE.sub(_accent, text)
    text = _TEX_LETTER_ACCENT_RE.sub(_accent, text)
    text = _TEX_LETTER_RE.sub(lambda m: _TEX_LETTERS[m.group(1)], text)
    text = re.sub(r"\{([^{}\\]*)\}", r"\1", text)
    return unicodedata.normalize("NFC", text)


def squash(text: str) -> str:
    """Collapse hard line breaks and runs of whitespace: ``text.clean_whitespace``, faster.

    Same result as ``clean_whitespace`` (a hypothesis test pins it), about
    twice as fast on an abstract, which matters at millions of lines. The fast
    path: once newlines are spaces and the ends stripped, a string with no
    double space that ``isprintable()`` holds no other whitespace at all
    (every other whitespace character is a control or separator character,
    which ``isprintable`` rejects), so it is already clean.
    """
    s = text.replace("\n", " ").strip()
    if "  " in s or not s.isprintable():
        return " ".join(s.split())
    return s


def join_name(forenames: str | None, keyname: str | None, suffix: str | None = None) -> str | None:
    """``"Forenames Keyname Suffix"``; None when nothing name-like is left.

    arXiv's own name parser leaves debris such as a keyname ``":"`` (from
    "Keck Array and BICEP2 Collaborations: ...") or ``"Sheeley,"`` before a
    suffix; punctuation-only parts are dropped and stray commas trimmed. A
    collaboration sits in ``keyname`` alone and comes out as written.
    """
    parts = []
    for part in (forenames, keyname, suffix):
        if part:
            part = squash(part).strip(" ,;")
            if part:
                parts.append(part)
    name = " ".join(parts)
    if not any(c.isalnum() for c in name):
        return None
    return name


_FOR_GROUP_RE = re.compile(
    r"(?P<name>.*?\w.*?)[\s,]+(?P<group>(?:for|on behalf of)\s+(?:the\s+)?\S.*?"
    r"\b(?:collaborations?|consortium))\.?",
    re.IGNORECASE,
)


def split_collaboration(name: str) -> tuple[str, str | None]:
    """Split ``Dipanwita Dutta for the CMS Collaboration`` into the name and the "for the ..." part.

    arXiv metadata often writes the collaboration into the author's name
    (the whole phrase in ``keyname``, or "for the CMS" in ``forenames``). Left
    there, the surname merge compares would be "Collaboration"; split off, it
    is the author's affiliation and the collaboration an organisation.
    """
    if " for " not in name.lower() and "behalf" not in name:
        return name, None
    m = _FOR_GROUP_RE.fullmatch(name)
    if m is None:
        return name, None
    return m.group("name"), m.group("group")


_AFFILIATION_REF_RE = re.compile(r"[\d\s,;&*]*(?:\band\b[\d\s,;&*]*)*")
_ON_BEHALF_RE = re.compile(r"^(?:on behalf of|for)\s+(?:the\s+)?", re.IGNORECASE)


def is_affiliation_ref(text: str) -> bool:
    """True for footnote references like ``1 and 2`` that stand for an affiliation."""
    return _AFFILIATION_REF_RE.fullmatch(text) is not None


def clean_affiliation(text: str | None) -> str | None:
    """An affiliation as given, whitespace collapsed; None when empty or a bare ``1 and 3``."""
    if not text:
        return None
    text = squash(text).strip(" ,;")
    if not text or is_affiliation_ref(text):
        return None
    return text


def organisation_name(affiliation: str) -> str:
    """The organisation an affiliation names: ``for the CMS Collaboration`` → ``CMS Collaboration``.

    arXiv affiliations are free text; "for the"/"on behalf of" is about the author, not the body.
    """
    return _ON_BEHALF_RE.sub("", affiliation) or affiliation


def organisations_of(affiliations: Iterable[list[str]]) -> list[str]:
    """Distinct organisations across per-author affiliation lists, first-seen order."""
    seen: dict[str, None] = {}
    for per_author in affiliations:
        for affiliation in per_author:
            seen.setdefault(organisation_name(affiliation), None)
    return list(seen)


_LEGEND_RE = re.compile(r"\(\s*(\d+)\s*\)\s*([^()]*?)\s*(?:,|;|\band\b)?\s*(?=\(\s*\d+\s*\)|$)")


def affiliation_legend(text: str) -> dict[str, str]:
    """The legend ``((1) CREST, Japan, (2) Tokyo)`` of a free-text author list, by number."""
    legend: dict[str, str] = {}
    for group in _top_level_groups(text):
        if group.lstrip().startswith("("):
            for m in _LEGEND_RE.finditer(group.strip()):
                value = clean_affiliation(m.group(2))
                if value:
                    legend[m.group(1)] = value
    return legend


def resolve_refs(ref: str, legend: dict[str, str]) -> list[str]:
    """The legend entries a ``1 and 3`` reference points to."""
    return [legend[n] for n in re.findall(r"\d+", ref) if n in legend]


def _top_level_groups(text: str) -> list[str]:
    groups: list[str] = []
    depth = 0
    start = 0
    for i, c in enumerate(text):
        if c == "(":
            if depth == 0:
                start = i + 1
            depth += 1
        elif c == ")" and depth:
            depth -= 1
            if depth == 0:
                groups.append(text[start:i])
    return groups


# --- links --------------------------------------------------------------------------

_URL_CHARS = r"[^\s<>\"'{}|\\^`\[\]]+"
_URL_RE = re.compile(r"https?://" + _URL_CHARS, re.IGNORECASE)
_BARE_HOSTS = ("github.com/", "gitlab.com/", "huggingface.co/", "bitbucket.org/")
_BARE_URL_RE = re.compile(
    r"(?<![\w/.@])(?:www\.)?(?:github\.com|gitlab\.com|huggingface\.co|bitbucket\.org)/"
    + _URL_CHARS,
    re.IGNORECASE,
)


def find_links(*texts: str | None) -> list[str]:
    """URLs written in an abstract or comment: code repositories, project pages, data.

    arXiv text wraps URLs in TeX (``\\url{...}``) and ends them with sentence
    punctuation, so trailing ``.,;:`` and an unbalanced ``)`` are trimmed. A bare
    ``github.com/...`` (no scheme) gets ``https://``. Distinct, first-seen order.

    Most abstracts hold no URL, so plain substring tests decide whether a
    regex runs at all; an alternation-led regex scanning every abstract cost
    more than parsing its JSON.
    """
    found: dict[str, None] = {}
    for text in texts:
        if not text or "/" not in text:  # one memchr; most abstracts stop here
            continue
        matches: list[str] = []
        if "://" in text:
            matches += _URL_RE.findall(text)
        if (".co" in text or ".org/" in text) and any(host in text for host in _BARE_HOSTS):
            matches += ["https://" + m for m in _BARE_URL_RE.findall(text)]
        for url in matches:
            url = url.rstrip(".,;:!?'\"")
            while url.endswith(")") and url.count(")") > url.count("("):
                url = url[:-1].rstrip(".,;:")
            if len(url) > len("https://x.y"):
                found.setdefault(url, None)
    return list(found)


# --- whole-input checks ---------------------------------------------------------------


def refuse_unreadable(head: bytes, origin: str) -> None:
    """Raise ``UnreadableInput`` for an empty or binary input; nothing else.

    Stricter checks (``sources.check_readable`` refuses any non-UTF-8 head)
    would throw away a whole snapshot for one bad byte in line 3; here that
    line becomes a ``ParseError`` and the rest is read.
    """
    if not head.strip():
        raise UnreadableInput(f"{origin}: empty file")
    if b"\x00" in head[:8192]:
        raise UnreadableInput(f"{origin}: binary file (contains NUL bytes), not a text format")
