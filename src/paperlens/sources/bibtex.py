"""BibTeX files: one record per entry, with the arXiv id found wherever the exporter put it.

Splitting, ``@string`` macros and field values are bibtexparser's (v2) job;
this module decides what the fields mean. The arXiv id is written in at least
five conventions, tried in this order:

1. arXiv's own export: ``eprint = {2410.10781}`` with ``archivePrefix = {arXiv}``
   (biblatex writes ``eprinttype``; a bare new-style ``eprint`` is accepted too);
2. DBLP: ``journal = {CoRR}`` (Semantic Scholar: ``{ArXiv}``) with ``volume = {abs/2306.13549}``;
   hand-written entries put the bare id in ``volume``, ``number`` or ``pages``;
3. Google Scholar: ``journal = {arXiv preprint arXiv:2306.13394}`` (also in
   ``volume``, ``note``, ``howpublished`` or ``booktitle``);
4. an ``arxiv.org/abs|pdf`` link in ``url``, ``howpublished``, ``note`` or even ``journal``;
5. the DataCite arXiv DOI ``10.48550/arXiv.2306.13549``.

Choices, each forced by real files (``tests/fixtures/bibtex/``):

* **Dates.** BibTeX gives a year and at best a month, never a day, and arXiv
  exports put the *revision* year there (``vaswani2023attentionneed`` is the
  2017 paper). A ``date`` would need an invented day, so ``published`` stays
  None; the year and month go to ``extra["year"]``/``extra["month"]``.
* **The arXiv DOI** identifies the arXiv record, not a publisher version, so it
  yields the arXiv id and is not stored as ``doi``; a publisher DOI would
  otherwise lose to it (or fight it) when the paper is merged.
* **Names.** ``and`` splits people at brace depth 0; each name is split into
  First/von/Last/Jr by BibTeX's own rules (bibtexparser), so "Last, First"
  and "First von Last" both come out "First von Last"; ``{Braced Corporate
  Names}`` stay whole; ``and others`` (or ``et al.``) sets ``authors_complete=False``.
  A name BibTeX itself cannot split (three commas) is kept as written rather
  than guessed at.
* **Text.** LaTeX accents and commands are decoded to Unicode with pylatexenc
  (the decoder bibtexparser's ``LatexDecodingMiddleware`` uses), braces are
  dropped, ``$math$`` is kept verbatim. URLs, DOIs and eprints get only their
  escapes removed, because a LaTeX decoder reads ``%`` as a comment and would
  cut ``%20`` out of a URL.
* **An entry with no title, arXiv id or DOI** identifies nothing, so it is a
  ParseError rather than an empty record.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any, BinaryIO, ClassVar

from bibtexparser import model as bib
from bibtexparser.entrypoint import parse_string
from bibtexparser.middlewares import NormalizeFieldKeys
from bibtexparser.middlewares.names import (
    InvalidNameError,
    parse_single_name_into_parts,
    split_multiple_persons_names,
)
from pylatexenc.latex2text import (  # type: ignore[import-untyped]
    LatexNodes2Text,
    MacroTextSpec,
    get_default_latex_context_db,
)

from paperlens.errors import UnreadableInput
from paperlens.ids import find_arxiv_id, normalise_doi, parse_arxiv_id
from paperlens.model import ParseError, Record
from paperlens.sources import HEAD_BYTES, check_readable
from paperlens.text import clean_whitespace, fold

logger = logging.getLogger(__name__)

NAME = "bibtex"

_ENTRY_RE = re.compile(
    rb"(?m)^[ \t]*@[ \t]*(?:[A-Za-z]+[ \t]*[{(][ \t\r\n]*[^\s,={}()]+[ \t\r\n]*,"
    rb"|(?:string|preamble|comment)[ \t]*[{(])",
    re.IGNORECASE,
)
_DBLP_VOLUME_RE = re.compile(r"^\s*abs/(\S+)\s*$", re.IGNORECASE)
_ET_AL = frozenset({"others", "et al", "et al.", "etal", "et. al."})
_YEAR_RE = re.compile(r"(?<!\d)(1[6-9]\d\d|2[01]\d\d)(?!\d)")
_CATEGORY_RE = re.compile(r"^[a-z][a-z\-]*(?:\.[A-Za-z][A-Za-z\-]*)?$")
_UNESCAPED_SPECIAL_RE = re.compile(r"(?<!\\)([%&])")
_CIRCUMFLEX_RE = re.compile(r"\\textasciicircum(?:\{\}|(?![A-Za-z]))")
_URL_MACRO_RE = re.compile(r"\\(?:url|href|path)\s*\{([^{}]*)\}")
_PLAIN_ESCAPE_RE = re.compile(r"\\([_%&#$~{}/])")
_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
# Journal names that mean "this is an arXiv preprint", not a venue.
_ARXIV_VENUES = frozenset({"corr", "arxiv", "computing research repository", "arxiv e prints"})


class Bibtex:
    """Parser for ``.bib`` files."""

    name: ClassVar[str] = NAME

    def __init__(self) -> None:
        self._decoder = _latex_decoder()

    def sniff(self, head: bytes, filename: str) -> bool:
        """An ``@type{key,`` (or ``@string{``) at the start of a line, and not JSON or XML."""
        start = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
        if start in (b"{", b"[", b"<"):
            return False
        return bool(_ENTRY_RE.search(head))

    def parse(self, stream: BinaryIO, origin: str) -> Iterator[Record | ParseError]:
        """Yield a record per entry; failed blocks and unusable entries become ParseErrors."""
        data = stream.read()
        check_readable(data[:HEAD_BYTES], origin)
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise UnreadableInput(
                f"{origin}: not UTF-8 (invalid byte 0x{data[exc.start]:02x} at offset "
                f"{exc.start}); re-save the .bib file as UTF-8"
            ) from None
        for offset, block in _split(text):
            if isinstance(block, str):
                yield ParseError(origin, f"line {offset + 1}", block)
            elif isinstance(block, bib.ParsingFailedBlock):
                yield _failed(block, offset, origin)
            elif isinstance(block, bib.Entry):
                yield self._entry(block, offset, origin)

    def _entry(self, entry: bib.Entry, offset: int, origin: str) -> Record | ParseError:
        key = entry.key.strip()
        line = (entry.start_line or 0) + offset + 1
        try:
            return self._record(entry, key, origin, line)
        except Exception as exc:  # one odd entry must not cost the file
            logger.debug("bibtex entry %s failed", key, exc_info=True)
            return ParseError(origin, f"line {line}", f"entry {key!r}: {exc}")

    def _record(self, entry: bib.Entry, key: str, origin: str, line: int) -> Record | ParseError:
        """The record for one entry, or why it cannot be one (located by its line)."""
        fields = {
            f.key: f.value for f in entry.fields if isinstance(f.key, str) and f.value is not None
        }
        raw = {k: v if isinstance(v, str) else str(v) for k, v in fields.items()}

        arxiv = _arxiv_id(raw)
        doi_text = raw.get("doi") or ""
        doi = normalise_doi(_plain(doi_text)) if doi_text else None
        if doi is None and "doi.org/" in raw.get("url", ""):
            doi = normalise_doi(_plain(raw["url"]))
        if doi and doi.startswith("10.48550/arxiv."):
            arxiv = arxiv or parse_arxiv_id(doi)
            doi = None

        title = self._text(raw.get("title"))
        if not key and arxiv is None and doi is None:
            return ParseError(origin, f"line {line}", "entry has no key, arXiv id or DOI")
        if title is None and arxiv is None and doi is None:
            return ParseError(
                origin,
                f"line {line}",
                f"entry {key!r} has no title, arXiv id or DOI to identify the paper",
            )
        authors, complete = self._authors(raw.get("author"))

        extra: dict[str, Any] = {"bibtex_key": key, "entry_type": entry.entry_type.lower()}
        year_match = _YEAR_RE.search(raw.get("year", ""))
        if year_match:
            extra["year"] = int(year_match.group(1))
        month = _month(raw.get("month"))
        if month:
            extra["month"] = month
        note = self._text(raw.get("note"))
        if note:
            extra["note"] = note

        venue = self._text(raw.get("journal")) or self._text(raw.get("booktitle"))
        if venue and _is_arxiv_venue(venue):
            venue = None

        primary = _plain(raw.get("primaryclass", "")).strip()
        categories = [primary] if _CATEGORY_RE.match(primary) else []

        if arxiv is not None:
            source_key = arxiv[0]
        elif doi is not None:
            source_key = doi
        else:
            source_key = f"bibtex:{key}"

        return Record(
            source=NAME,
            source_key=source_key,
            origin=origin,
            location=f"entry {key}" if key else f"line {line}",
            arxiv_id=arxiv[0] if arxiv else None,
            version=arxiv[1] if arxiv else None,
            doi=doi,
            title=title,
            abstract=self._text(raw.get("abstract")),
            authors=authors,
            authors_complete=complete,
            categories=categories,
            journal_ref=venue,
            links=_links(raw),
            extra=extra,
        )

    def _text(self, value: str | None) -> str | None:
        """LaTeX to Unicode text, braces dropped, whitespace collapsed; None when empty."""
        if not value:
            return None
        escaped = _UNESCAPED_SPECIAL_RE.sub(r"\\\1", value)
        # pylatexenc turns \textasciicircum into U+02C6; the macro names ASCII "^".
        escaped = _CIRCUMFLEX_RE.sub("^", escaped)
        try:
            decoded = self._decoder.latex_to_text(escaped)
        except Exception:  # pylatexenc raises many kinds on odd markup
            decoded = value.replace("{", "").replace("}", "")
        return clean_whitespace(decoded) or None

    def _authors(self, value: str | None) -> tuple[list[str], bool]:
        """People in order, as "First von Last, Jr"; False when the list ends in "others"."""
        if not value or not value.strip():
            return [], True
        try:
            people = split_multiple_persons_names(value)
        except Exception:  # fall back to BibTeX's own rule, done plainly
            people = re.split(r"\s+and\s+", value)
        names: list[str] = []
        complete = True
        for person in people:
            person = person.strip()
            if person.lower() in _ET_AL:
                complete = False
                continue
            name = self._name(person)
            if name:
                names.append(name)
        return names, complete

    def _name(self, person: str) -> str | None:
        try:
            parts = parse_single_name_into_parts(person.strip().strip(",").strip())
        except (InvalidNameError, ValueError, IndexError, TypeError):
            return self._text(person)
        words = [
            self._text(" ".join(group)) for group in (parts.first, parts.von, parts.last, parts.jr)
        ]
        first, von, last, jr = words
        name = " ".join(w for w in (first, von, last) if w)
        if jr:
            name = f"{name}, {jr}"
        return clean_whitespace(name) or None


def _split(text: str) -> Iterator[tuple[int, bib.Block | str]]:
    """The blocks of ``text``, each with the line offset of the text it was parsed from.

    bibtexparser re-raises its internal errors ("please report this bug") so
    that they reach its issue tracker. For us one such entry must not cost the
    file, so on a crash the text is cut at each line starting with ``@`` and
    the parts are parsed alone; a part that still crashes comes back as a
    message. ``@string`` macros defined in another part are not seen then.
    """
    try:
        library = parse_string(text, append_middleware=[NormalizeFieldKeys()])
    except Exception:  # see the docstring
        logger.debug("bibtexparser failed on the whole file; parsing entry by entry", exc_info=True)
    else:
        for block in library.blocks:
            yield 0, block
        return
    offset = 0
    for chunk in re.split(r"(?m)^(?=[ \t]*@)", text):
        try:
            library = parse_string(chunk, append_middleware=[NormalizeFieldKeys()])
        except Exception as exc:  # see the docstring
            yield offset, f"bibtexparser could not read this block: {type(exc).__name__}: {exc}"
        else:
            for block in library.blocks:
                yield offset, block
        offset += chunk.count("\n")


def _failed(block: bib.ParsingFailedBlock, offset: int, origin: str) -> ParseError:
    """Describe a block bibtexparser gave up on, with the line it started on."""
    line = (block.start_line or 0) + offset + 1
    error = block.error
    reason = getattr(error, "abort_reason", None) or str(error) or type(error).__name__
    if isinstance(block, bib.DuplicateBlockKeyBlock):
        reason = (
            f"duplicate entry key {block.key!r}; BibTeX uses the first one, this one is skipped"
        )
    elif isinstance(block, bib.DuplicateFieldKeyBlock):
        reason = f"field {', '.join(sorted(block.duplicate_keys))} given twice in one entry"
    return ParseError(origin, f"line {line}", clean_whitespace(reason))


def _arxiv_id(raw: dict[str, str]) -> tuple[str, int | None] | None:
    """The arXiv id in any of the conventions listed in the module docstring."""
    eprint = _plain(raw.get("eprint", "")).strip()
    prefix = fold(raw.get("archiveprefix") or raw.get("eprinttype") or "")
    if eprint and (not prefix or prefix.startswith("arxiv")):
        found = parse_arxiv_id(eprint)
        if found:
            return found
    if _is_arxiv_venue(raw.get("journal", "")):
        # DBLP writes volume = {abs/2306.13549}; hand-written entries put the
        # bare id in volume, number or even pages under journal = {arXiv}.
        for key in ("volume", "number", "pages"):
            m = _DBLP_VOLUME_RE.match(_plain(raw.get(key, "")))
            found = parse_arxiv_id(m.group(1) if m else _plain(raw.get(key, "")))
            if found:
                return found
    for key in ("journal", "volume", "note", "howpublished", "booktitle", "eprint"):
        if key in raw and (found := find_arxiv_id(_plain(raw[key]))):
            return found
    for key in ("url", "howpublished", "note", "pdf", "journal", "volume", "booktitle"):
        if key in raw and "arxiv.org/" in raw[key].lower():
            found = parse_arxiv_id(_plain(raw[key]))
            if found:
                return found
    return None


def _is_arxiv_venue(venue: str) -> bool:
    """True for journal names that only say "arXiv preprint" (CoRR, ArXiv, arXiv e-prints)."""
    folded = fold(_plain(venue))
    if not folded:
        return False
    return folded in _ARXIV_VENUES or folded.startswith("arxiv")


def _links(raw: dict[str, str]) -> list[str]:
    links: list[str] = []
    for key in ("url", "howpublished", "pdf"):
        value = _plain(raw.get(key, "")).strip()
        if value.startswith(("http://", "https://")) and " " not in value and value not in links:
            links.append(value)
    return links


def _month(value: str | None) -> int | None:
    """``sep``, ``September``, ``9`` or ``{09}`` as 9; anything else None."""
    if not value:
        return None
    token = _plain(value).strip().rstrip(".").lower()
    if token.isdigit():
        number = int(token)
        return number if 1 <= number <= 12 else None
    return _MONTHS.get(token)


def _plain(value: str) -> str:
    """A URL-ish field with its LaTeX escapes, ``\\url{}`` wrapper and braces removed."""
    value = _URL_MACRO_RE.sub(r"\1", value)
    value = _PLAIN_ESCAPE_RE.sub(r"\1", value)
    value = value.replace("{", "").replace("}", "")
    return value.replace("\\textasciitilde", "~").strip()


def _latex_decoder() -> LatexNodes2Text:
    """The decoder bibtexparser's ``LatexDecodingMiddleware`` builds, with braces dropped."""
    context = get_default_latex_context_db()
    context.add_context_category(
        "paperlens-bibtex", prepend=True, macros=[MacroTextSpec("url", simplify_repl="%s")]
    )
    return LatexNodes2Text(latex_context=context, keep_braced_groups=False, math_mode="verbatim")
