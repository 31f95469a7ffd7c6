"""Saved listing pages: an organisation's publication list, an arXiv-style listing, HF Daily Papers.

People save these pages as plain text (select all, copy, paste), so the input
is prose with a few structural markers and no markup. Three layouts occur:

``org``    an organisation's publication list. Per paper: a header line
           ``CVApr 25, 2023Code`` (site category + date + optional "Code"
           marker, all glued), a line with the title glued to the author list
           ``Patch Diffusion: ...ModelsZhendong Wang, Yifan Jiang et al. · apple-ml``,
           then the abstract.
``arxiv``  an arXiv-style listing without titles: abstract paragraph, optional
           comment paragraphs, ``arXiv:ID [- doi: DOI]``, ``Created: ... Updated: ...``.
``hf``     Hugging Face Daily Papers pages, with or without blank lines: page
           chrome, then title line, abstract line and optionally a
           ``• N authors`` / ``·`` / ``Sep 3, 2023 [upvotes]`` block.

The layout is chosen per file from the markers it contains. The page is read
whole (web pages are small; we cap at :data:`MAX_BYTES`) because resolving a
date printed without a year needs the other dates on the page. See
``docs/formats/listing.md`` for the rules and the judgement calls behind them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any, BinaryIO, ClassVar

from paperlens import ids, text
from paperlens.errors import UnreadableInput
from paperlens.model import ParseError, Record
from paperlens.sources import HEAD_BYTES, check_readable

MAX_BYTES = 50 * 1024 * 1024
"""A saved web page is well under a megabyte; anything past this is not a listing page."""

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DATE = (
    r"(?P<mon>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?"
    r"\s+(?P<day>\d{1,2})(?:,\s*(?P<year>\d{4}))?"
)
# "CVApr 25, 2023Code": category glued to date glued to markers.
_ORG_HEADER_RE = re.compile(rf"^(?P<cat>[A-Z]{{0,5}}?){_DATE}(?P<marks>(?:\s*[A-Z][a-z]+)*)\s*$")
# HF meta date: "Sep 12, 2019" optionally followed by the upvote count.
_HF_DATE_RE = re.compile(rf"^{_DATE}(?:\s+(?P<upvotes>\d+))?$")
_HF_AUTHORS_RE = re.compile(r"^[•·*\-]?\s*(?P<n>\d+)\s+authors?$")
_ARXIV_LINE_RE = re.compile(
    r"^arXiv:\s*(?P<id>\S*)(?:\s*-\s*doi:\s*(?P<doi>\S+))?.*$", re.IGNORECASE
)
_CREATED_RE = re.compile(
    r"^Created:\s*(?P<created>\d{4}-\d{2}-\d{2})(?:\s+Updated:\s*(?P<updated>\d{4}-\d{2}-\d{2}))?\s*$"
)
_BIBTEX_RE = re.compile(r"^\s*@[A-Za-z]+\s*[{(]", re.MULTILINE)

# Page chrome seen on saved HF pages; never a paper, wherever it appears.
CHROME: frozenset[str] = frozenset(
    {
        "new",
        "Get trending papers in your email inbox!",
        "Get trending papers in your email inbox once a day!",
        "Subscribe",
        "Daily Papers",
        "byAK and the research community",
    }
)
# Chrome that a copy-paste glues onto the first title ("SubscribeDeep Human Parsing...").
_CHROME_PREFIXES = tuple(sorted(CHROME, key=len, reverse=True))

_URL_RE = re.compile(r"https?://(?:(?!https?://)[^\s{}<>\"\\|^`])+", re.IGNORECASE)
_BARE_GITHUB_RE = re.compile(r"(?<![\w./:@-])github\.com/[\w.-]+/[\w./-]+", re.IGNORECASE)
_TRAILING_PUNCT = ".,;:!?'\""
_NAME_PREFIX_RE = re.compile(r"^(?:Mc|Mac|De|Di|Da|Du|La|Le|Van|Von|O'|D')(?=[A-Z])")
_MAX_NAME = 80
_PARTICLES = frozenset(
    {"van", "von", "de", "der", "den", "da", "di", "del", "della", "le", "la", "du", "dos"}
    | {"das", "bin", "al", "el", "ter", "ten", "zu", "y"}
)


class Listing:
    """Parse saved listing pages into records; the format tried last in detection."""

    name: ClassVar[str] = "listing"

    def sniff(self, head: bytes, filename: str) -> bool:
        """Accept prose that is not JSON, XML/HTML or BibTeX.

        Detection tries this format last, so being lenient is safe; but it
        must still say no to the structured formats so a broken JSON file is
        reported as broken instead of being read as a listing.
        """
        if b"\x00" in head[:8192]:
            return False
        sample = head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
        if not sample or sample[0] in "{[<" or _BIBTEX_RE.search(sample):
            return False
        lines = [ln.strip() for ln in sample.splitlines() if ln.strip()][:400]
        if any(_ORG_HEADER_RE.match(ln) or _ARXIV_LINE_RE.match(ln) for ln in lines):
            return True
        if any(ln in CHROME or _HF_AUTHORS_RE.match(ln) for ln in lines):
            return True
        return any(len(ln.split()) >= 8 for ln in lines)

    def parse(self, stream: BinaryIO, origin: str) -> Iterator[Record | ParseError]:
        """Yield one record per paper on the page, or a ParseError for an entry we cannot use."""
        lines = _read_lines(stream, origin)
        layout = _layout(lines)
        if layout == "org":
            yield from _parse_org(lines, origin)
        elif layout == "arxiv":
            yield from _parse_arxiv(lines, origin)
        else:
            yield from _parse_hf(lines, origin)


def _read_lines(stream: BinaryIO, origin: str) -> list[str]:
    data = stream.read(MAX_BYTES + 1)
    if isinstance(data, str):  # a text stream slipped through; be forgiving
        data = data.encode("utf-8", errors="replace")
    if len(data) > MAX_BYTES:
        raise UnreadableInput(
            f"{origin}: larger than {MAX_BYTES // (1024 * 1024)} MiB; a saved listing page is "
            "far smaller, so this is probably not one (pass --format for the right parser)"
        )
    check_readable(data[:HEAD_BYTES], origin)
    try:
        decoded = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableInput(
            f"{origin}: not UTF-8 (invalid byte 0x{data[exc.start]:02x} at offset {exc.start})"
        ) from None
    return decoded.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _layout(lines: list[str]) -> str:
    """Pick the layout with the most structural markers; HF is the default."""
    org = arxiv = hf = 0
    for raw in lines:
        s = raw.strip()
        if _ORG_HEADER_RE.match(s) and not _HF_DATE_RE.match(s):
            org += 1
        elif _ARXIV_LINE_RE.match(s) or _CREATED_RE.match(s):
            arxiv += 1
        elif s in CHROME or _HF_AUTHORS_RE.match(s) or s == "·":
            hf += 1
    if arxiv > max(org, hf):
        return "arxiv"
    if org > hf:
        return "org"
    return "hf"


# --------------------------------------------------------------------------- dates


@dataclass(slots=True)
class _Dates:
    """Resolve "May 25" (no year) from the rest of the page.

    Both sites print the year only for dates outside the current year, so the
    page's own year is later than every year it prints; we take the smallest
    such year (the latest printed year + 1). A yearless date that would then
    fall after the page's own date (HF prints one, e.g. "Oct 17") must belong
    to the year before.
    """

    max_year: int | None = None
    page: tuple[int, int] | None = None

    def scan(self, lines: list[str]) -> None:
        years = [int(m.group("year")) for m in map(_find_date, lines) if m and m.group("year")]
        years = [y for y in years if 1900 <= y <= 2100]
        self.max_year = max(years) if years else None

    def resolve(self, m: re.Match[str]) -> tuple[date | None, bool]:
        """``(date, inferred)``; ``(None, False)`` when the text is no real date."""
        month, day = _month_day(m)
        inferred = not m.group("year")
        if not inferred:
            year = int(m.group("year"))
        elif self.max_year is None:
            return None, False
        else:
            year = self.max_year + 1
            if self.page and (month, day) > self.page:
                year -= 1
        try:
            return date(year, month, day), inferred
        except ValueError:
            return None, False


def _month_day(m: re.Match[str]) -> tuple[int, int]:
    return _MONTHS.index(m.group("mon").lower()) + 1, int(m.group("day"))


def _find_date(line: str) -> re.Match[str] | None:
    s = line.strip()
    return _ORG_HEADER_RE.match(s) or _HF_DATE_RE.match(s)


# --------------------------------------------------------------------------- records


@dataclass(slots=True)
class _Entry:
    """What the page said about one paper, before it becomes a Record."""

    line: int
    title: str | None = None
    abstract_lines: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    authors_complete: bool = False
    author_count: int | None = None
    organisations: list[str] = field(default_factory=list)
    arxiv_id: str | None = None
    version: int | None = None
    doi: str | None = None
    comment: str | None = None
    published: date | None = None
    updated: date | None = None
    date_inferred: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def _finish(entry: _Entry, origin: str, layout: str) -> Record | ParseError:
    location = f"line {entry.line}"
    title = text.clean_whitespace(entry.title) if entry.title else None
    abstract = text.clean_whitespace(" ".join(entry.abstract_lines)) or None
    if title and not abstract and layout != "arxiv":
        return ParseError(origin, location, f"title with no abstract: {title[:80]!r}")
    if entry.arxiv_id:
        key = entry.arxiv_id
    elif title and text.title_key(title):
        key = "title:" + text.title_key(title)
    elif abstract and text.abstract_key(abstract):
        key = "abstract:" + hashlib.sha256(text.abstract_key(abstract).encode()).hexdigest()
    else:
        return ParseError(origin, location, "entry has no arXiv id, title or abstract")
    return Record(
        source="listing",
        source_key=key,
        origin=origin,
        location=location,
        arxiv_id=entry.arxiv_id,
        version=entry.version,
        doi=entry.doi,
        title=title,
        abstract=abstract,
        authors=entry.authors,
        authors_complete=entry.authors_complete,
        author_count=entry.author_count,
        organisations=entry.organisations,
        published=entry.published,
        updated=entry.updated,
        date_inferred=entry.date_inferred,
        comment=entry.comment,
        links=find_links(" ".join(filter(None, (abstract, entry.comment)))),
        extra={"listing_layout": layout, **entry.extra},
    )


def find_links(prose: str) -> list[str]:
    """URLs mentioned in an abstract, trailing punctuation stripped, first mention first.

    Abstracts end URLs with sentence punctuation, wrap them in ``\\url{...}``,
    or glue two together (``...Synthesis.https://...``); bare ``github.com/x/y``
    gets an ``https://`` so every link is absolute.
    """
    found: list[str] = []
    spans = [(m.start(), m.group()) for m in _URL_RE.finditer(prose)]
    spans += [(m.start(), "https://" + m.group()) for m in _BARE_GITHUB_RE.finditer(prose)]
    for _, url in sorted(spans):
        while url and (url[-1] in _TRAILING_PUNCT or (url[-1] == ")" and "(" not in url)):
            url = url[:-1]
        while url.endswith("]") and "[" not in url:
            url = url[:-1]
        if re.match(r"https?://[\w-]+\.[\w.-]+", url, re.IGNORECASE) and url not in found:
            found.append(url)
    return found


# --------------------------------------------------------------------------- org layout


def split_title_authors(line: str) -> tuple[str, list[str], bool, list[str]] | None:
    """Split ``TitleFirst Author, Second Author et al. · org, org``.

    Returns ``(title, authors, authors_complete, organisations)``, or None when
    no author list can be found. The page glues the title to the first name,
    so we take names off the right while they look like names, then look in
    the remaining piece for the leftmost glued capital (``ModelsZhendong``,
    ``networks?Zhangheng``, ``ControlS P Sharan``) after which the rest is a
    whole name. Titles contain commas, so splitting on commas alone would cut
    "Versatile Diffusion: Text, Images and ..." apart.
    """
    s = line.strip()
    orgs: list[str] = []
    if " · " in s:
        s, tail = s.rsplit(" · ", 1)
        orgs = [o.strip() for o in tail.split(",") if o.strip()]
    complete = True
    etal = re.search(r",?\s*et\s+al\.?$", s)
    if etal:
        s, complete = s[: etal.start()].rstrip(), False
    parts = s.split(",")
    names: list[str] = []
    while len(parts) > 1 and _is_name(parts[-1].strip()):
        names.append(parts.pop().strip())
    names.reverse()
    glued = ",".join(parts)
    # A first author's name is short, so only the end of the piece can hold the glue.
    for i in range(max(1, len(glued) - _MAX_NAME), len(glued)):
        ch, prev = glued[i], glued[i - 1]
        if ch.isupper() and not prev.isspace() and prev not in "-'’/":
            first = glued[i:].strip()
            if _is_name(first, min_words=2) and glued[:i].strip():
                return glued[:i].strip(), [first, *names], complete, orgs
    return None


def _is_name(candidate: str, min_words: int = 1) -> bool:
    """True for "Zhendong Wang", "S P Sharan", "Neel P. Bhatt", "Ting-Kuei Hu", "Dirk Wübben"."""
    words = candidate.split()
    if not min_words <= len(words) <= 5:
        return False
    for i, word in enumerate(words):
        if i and word in _PARTICLES:
            continue
        if re.fullmatch(r"(?:[A-Z]\.?)+", word) and len(word) <= 4:
            continue  # initials: "S", "P.", "J.R."
        stem = _NAME_PREFIX_RE.sub("", word)
        pieces = stem.split("-")
        if not all(p and p[0].isalpha() and p.isalpha() for p in pieces):
            return False
        cased = [p for p in pieces if p.lower() != p.upper()]
        if not all(p[0].isupper() and (len(p) == 1 or p[1:].islower()) for p in cased):
            return False
    return True


def _parse_org(lines: list[str], origin: str) -> Iterator[Record | ParseError]:
    dates = _Dates()
    dates.scan(lines)
    entry: _Entry | None = None
    skipping = False  # after a broken entry, until the next header
    for n, raw in enumerate(lines, 1):
        s = raw.strip()
        if not s or s in CHROME:
            continue
        header = _ORG_HEADER_RE.match(s)
        if header:
            if entry:
                yield _finish(entry, origin, "org")
            entry, skipping = _Entry(line=n), False
            _org_header(entry, header, dates)
            continue
        if skipping:
            continue
        if entry and entry.title is None:
            split = split_title_authors(s)
            if split is None:
                yield ParseError(origin, f"line {n}", f"cannot find the author list in {s[:80]!r}")
                entry, skipping = None, True
                continue
        else:
            # A title/author line with no header above it starts its own, undated entry.
            looks_split = not entry or " et al" in s or " · " in s
            split = split_title_authors(s) if looks_split and len(s) < 600 else None
            if split is None:
                if entry:
                    entry.abstract_lines.append(s)
                else:
                    yield ParseError(origin, f"line {n}", f"text outside any entry: {s[:80]!r}")
                continue
            if entry:
                yield _finish(entry, origin, "org")
            entry = _Entry(line=n)
        entry.title, entry.authors, entry.authors_complete, entry.organisations = split
        if entry.authors_complete:
            entry.author_count = len(entry.authors)
    if entry:
        yield _finish(entry, origin, "org")


def _org_header(entry: _Entry, header: re.Match[str], dates: _Dates) -> None:
    when, inferred = dates.resolve(header)
    entry.published, entry.date_inferred = when, inferred
    end = header.end("year") if header.group("year") else header.end("day")
    entry.extra["listing_date"] = header.string[header.start("mon") : end]
    if header.group("cat"):
        entry.extra["listing_category"] = header.group("cat")
    if "Code" in header.group("marks"):
        entry.extra["has_code"] = True


# --------------------------------------------------------------------------- arxiv layout


def _parse_arxiv(lines: list[str], origin: str) -> Iterator[Record | ParseError]:
    paragraphs: list[list[str]] = []
    first_line = 0
    entry: _Entry | None = None
    blank = True
    broken = False  # the last arXiv: line was bad; its Created: line goes with it
    for n, raw in enumerate(lines, 1):
        s = raw.strip()
        arxiv = _ARXIV_LINE_RE.match(s)
        created = _CREATED_RE.match(s)
        broken = broken and (not s or bool(created))
        if not s:
            blank = True
        elif arxiv:
            if entry:
                yield _finish(entry, origin, "arxiv")
                entry = None
            parsed = ids.parse_arxiv_id("arXiv:" + arxiv.group("id"))
            if parsed is None:
                yield ParseError(origin, f"line {n}", f"no valid arXiv id in {s[:80]!r}")
                broken = True
            else:
                entry = _Entry(line=first_line or n, arxiv_id=parsed[0], version=parsed[1])
                entry.doi = ids.normalise_doi(arxiv.group("doi"))
                entry.abstract_lines = paragraphs[0] if paragraphs else []
                comment = " ".join(" ".join(p) for p in paragraphs[1:])
                entry.comment = text.clean_whitespace(comment) or None
            paragraphs, first_line = [], 0
        elif created:
            if entry is None and broken:
                continue
            if entry is None:
                yield ParseError(origin, f"line {n}", "Created: line with no arXiv: line above")
                continue
            entry.published = _iso(created.group("created"))
            entry.updated = _iso(created.group("updated"))
            yield _finish(entry, origin, "arxiv")
            entry = None
        else:
            if entry:  # an entry whose Created: line is missing
                yield _finish(entry, origin, "arxiv")
                entry = None
            if blank or not paragraphs:
                paragraphs.append([])
                first_line = first_line or n
            paragraphs[-1].append(s)
            blank = False
            continue
        blank = blank or not s
    if entry:
        yield _finish(entry, origin, "arxiv")
    if paragraphs:
        yield ParseError(origin, f"line {first_line}", "text after the last arXiv: line")


def _iso(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


# --------------------------------------------------------------------------- HF layout


def _looks_like_abstract(s: str) -> bool:
    """Titles here are at most ~140 characters and never end in a full stop; abstracts are prose."""
    return len(s) > 300 or (s.endswith(".") and len(s.split()) >= 12)


def _parse_hf(lines: list[str], origin: str) -> Iterator[Record | ParseError]:
    dates = _Dates()
    dates.scan(lines)
    entry: _Entry | None = None  # the open entry: meta lines after the abstract belong to it
    started = False
    for n, raw in enumerate(lines, 1):
        s = raw.strip()
        if not s or s in CHROME or s == "·":
            continue
        if not started:
            s = _strip_chrome_prefix(s)
            page_date = _HF_DATE_RE.match(s)
            if page_date:  # the page's own date ("Mar 12"), shown above the list
                dates.page = _month_day(page_date)
                continue
        started = True
        authors = _HF_AUTHORS_RE.match(s)
        when = _HF_DATE_RE.match(s)
        if authors or when:
            if entry is None:
                yield ParseError(origin, f"line {n}", f"{s!r} belongs to no paper")
            elif authors:
                entry.author_count = int(authors.group("n"))
            elif entry.published is None and "listing_date" not in entry.extra:
                entry.published, entry.date_inferred = dates.resolve(when)
                entry.extra["listing_date"] = s.rsplit(" ", 1)[0] if when["upvotes"] else s
                if when.group("upvotes"):
                    entry.extra["upvotes"] = int(when.group("upvotes"))
            continue
        awaiting_abstract = entry is not None and entry.title and not entry.abstract_lines
        if awaiting_abstract and not _starts_next_entry(s, lines, n):
            entry.abstract_lines.append(s)
            continue
        if _looks_like_abstract(s):
            if entry:
                yield _finish(entry, origin, "hf")
            entry = _Entry(line=n, abstract_lines=[s])  # an abstract with no title above it
        else:
            if entry:
                yield _finish(entry, origin, "hf")
            entry = _Entry(line=n, title=s)
        if dates.page:
            entry.extra["listing_page_date"] = _page_text(dates.page)
    if entry:
        yield _finish(entry, origin, "hf")


def _starts_next_entry(s: str, lines: list[str], n: int) -> bool:
    """After a title, is line ``n`` the next paper's title rather than a (short) abstract?

    Only when it reads like a title and the line after it reads like an
    abstract: then the title above simply had no abstract.
    """
    if _looks_like_abstract(s):
        return False
    while n < len(lines) and not lines[n].strip():
        n += 1
    return n < len(lines) and _looks_like_abstract(lines[n].strip())


def _strip_chrome_prefix(s: str) -> str:
    for prefix in _CHROME_PREFIXES:
        rest = s[len(prefix) :]
        if s.startswith(prefix) and rest and (rest[0].isupper() or rest[0].isdigit()):
            return rest
    return s


def _page_text(page: tuple[int, int]) -> str:
    return f"{_MONTHS[page[0] - 1].title()} {page[1]}"
