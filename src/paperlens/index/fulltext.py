"""The keyword index: BM25 over title, abstract and authors, in tantivy.

Why tantivy and not SQLite FTS5: FTS5 scores every row that matches, so a
ranked any-of-the-words query over 1M abstracts takes 0.3-0.9 s; tantivy's
block-max WAND skips documents that cannot reach the top k and answers in a
few milliseconds (bench/search.py). The index is a derived copy: it lives in
``<db>.d/keyword/``, follows the store through the ``papers.seq`` change
counter (its watermark is kept in the store), and is rebuilt from the store
whenever it is missing, stale or of an older layout.

Queries are built from a ``ParsedQuery`` as tantivy ``Query`` objects, never
as query-parser text, so no user input is ever interpreted as syntax.
"""

from __future__ import annotations

import fcntl
import functools
import json
import logging
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import tantivy

from paperlens.index.keyword import ParsedQuery
from paperlens.model import Paper
from paperlens.store import Store

logger = logging.getLogger(__name__)

LAYOUT = 2  # bump when the schema or analysis changes; forces a rebuild
WATERMARK = "keyword"
_SYNC_BATCH = 5000
_COMMIT_EVERY = 200_000
WRITER_HEAP = 64_000_000
TITLE_BOOST = 0.5
AUTHOR_BOOST = 0.5


def _analyzer(*, stopwords: bool) -> tantivy.TextAnalyzer:
    """The analysis of the ``en_stem`` fields, rebuilt in Python for query terms."""
    builder = (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
    )
    if stopwords:
        builder = builder.filter(tantivy.Filter.stopword("english"))
    return builder.filter(tantivy.Filter.stemmer("english")).build()


_NAME_ANALYZER = (
    tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
    .filter(tantivy.Filter.remove_long(40))
    .filter(tantivy.Filter.lowercase())
    .filter(tantivy.Filter.ascii_fold())
    .build()
)


def _schema(text_tokenizer: str = "en_stem") -> tantivy.Schema:
    """The index's fields; ``bench/ingest_floor.py`` swaps the text analysis to price it."""
    b = tantivy.SchemaBuilder()
    b.add_unsigned_field("key", stored=True, indexed=True, fast=True)
    b.add_text_field("title", tokenizer_name=text_tokenizer)
    b.add_text_field("body", tokenizer_name=text_tokenizer)
    b.add_text_field("authors", tokenizer_name="names")
    b.add_text_field("cat", tokenizer_name="raw")
    b.add_text_field("org", tokenizer_name="raw")
    b.add_integer_field("year", indexed=True, fast=True)
    return b.build()


def org_term(name: str) -> str:
    """An organisation as one index term: case and spacing do not matter, spelling does."""
    return " ".join(name.casefold().split())


@dataclass(slots=True)
class Hit:
    """One keyword match: the paper key and its BM25 score."""

    key: int
    score: float


class FulltextIndex:
    """A tantivy index of the papers in a store."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.schema = _schema()
        self.terms = _analyzer(stopwords=False)
        # Snippets and matched terms stem every word of every shown abstract.
        self.stem = functools.lru_cache(maxsize=200_000)(
            lambda word: tuple(self.terms.analyze(word))
        )
        self.query_terms = _analyzer(stopwords=True)
        self._writer: tantivy.IndexWriter | None = None
        self._fed = 0
        self._max_fed_key = 0
        self._since_commit = 0
        self._index = self._open()

    def _open(self) -> tantivy.Index:
        """Open the index, first deleting one of an older layout.

        Several server workers start together on the same store: a file lock
        beside the folder makes them take turns, so one deletes and creates the
        folder while the others wait and then open what it made.
        """
        self.directory.parent.mkdir(parents=True, exist_ok=True)
        with (self.directory.parent / f"{self.directory.name}.lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            return self._open_locked()

    def _open_locked(self) -> tantivy.Index:
        marker = self.directory / "paperlens.json"
        if self.directory.exists():
            try:
                layout = json.loads(marker.read_text())["layout"]
            except (OSError, ValueError, KeyError):
                layout = None
            if layout != LAYOUT:
                logger.info("keyword index %s is of another layout; rebuilding", self.directory)
                shutil.rmtree(self.directory)
        fresh = not self.directory.exists()
        self.directory.mkdir(parents=True, exist_ok=True)
        index = tantivy.Index(self.schema, path=str(self.directory))
        index.register_tokenizer("names", _NAME_ANALYZER)
        if fresh:
            marker.write_text(json.dumps({"layout": LAYOUT}))
        self.fresh = fresh
        return index

    # -- keeping in sync -------------------------------------------------------

    def feed(
        self,
        store: Store,
        *,
        changed: Sequence[tuple[int, int, Paper]] = (),
        on_progress: Callable[[int, int], None] | None = None,
    ) -> int:
        """Hand every paper changed since the last feed to tantivy, without committing.

        Ingest calls this after each committed batch with the papers the batch
        wrote (``changed``): when they are exactly what changed since the last
        feed (no other writer came between), they are indexed as they are,
        without reading them back from the store. tantivy's indexing threads
        then work on one core while Python parses the next batch on the other.
        """
        if self._writer is None:
            self._writer = self._index.writer(heap_size=WRITER_HEAP, num_threads=2)
            self._fed = 0 if self.fresh else store.watermark(WATERMARK)
            self._max_fed_key = 0
        self._since_commit = 0
        if changed and changed[0][1] == self._fed + 1 and changed[-1][1] == store.max_seq():
            self._add(store, changed)
            return len(changed)
        total = max(store.max_seq() - self._fed, 0)
        done = 0
        while rows := store.changed_since(self._fed, limit=_SYNC_BATCH):
            self._add(store, rows)
            done += len(rows)
            if on_progress:
                on_progress(min(done, total), total)
        return done

    def _add(self, store: Store, rows: Sequence[tuple[int, int, Paper]]) -> None:
        """Index ``rows`` (in seq order), committing every ``_COMMIT_EVERY`` papers.

        A paper fed before is deleted by key first; on a fresh index a key above
        every key fed so far cannot be there yet, which spares the delete on the
        bulk path.
        """
        writer = self._writer
        assert writer is not None
        for key, _seq, paper in rows:
            if not self.fresh or key <= self._max_fed_key:
                # By query: delete_documents_by_term takes a Python int as an
                # i64 term, which never matches this u64 field.
                writer.delete_documents_by_query(tantivy.Query.term_query(self.schema, "key", key))
            self._max_fed_key = max(self._max_fed_key, key)
            writer.add_document(self._document(key, paper))
        self._fed = rows[-1][1]
        self._since_commit += len(rows)
        if self._since_commit >= _COMMIT_EVERY:
            writer.commit()
            store.set_watermark(WATERMARK, self._fed)
            self._since_commit = 0

    def sync(self, store: Store, *, on_progress: Callable[[int, int], None] | None = None) -> int:
        """Index every paper changed since the watermark and commit; returns how many fed now.

        Idempotent: a crash between the index commit and the watermark update
        only repeats work, because re-fed papers are deleted by key first.
        """
        if self._writer is None and store.max_seq() <= (
            0 if self.fresh else store.watermark(WATERMARK)
        ):
            self.fresh = False
            return 0
        done = self.feed(store, on_progress=on_progress)
        writer, self._writer = self._writer, None
        assert writer is not None
        writer.commit()
        writer.wait_merging_threads()
        store.set_watermark(WATERMARK, self._fed)
        if on_progress:
            on_progress(done, done)
        self._index.reload()
        self.fresh = False
        return done

    def follow(self, store: Store) -> None:
        """Catch up with the store, or with another process that already did.

        Only one process can hold tantivy's writer lock: when an ingest is
        writing the index right now, this process just re-reads the committed
        segments and catches up on a later call.
        """
        try:
            self.sync(store)
        except ValueError as exc:  # tantivy: "Failed to acquire Lockfile: LockBusy"
            if "lock" not in str(exc).lower():
                raise
            logger.info("keyword index is being written by another process; reading it as is")
        self._index.reload()

    def _document(self, key: int, paper: Paper) -> tantivy.Document:
        title = paper.title or ""
        when = paper.published or paper.featured
        doc = tantivy.Document()
        doc.add_unsigned("key", key)
        doc.add_text("title", title)
        doc.add_text("body", f"{title}\n{paper.abstract or ''}")
        doc.add_text("authors", " ; ".join(paper.authors))
        for cat in paper.categories:
            doc.add_text("cat", cat.lower())
        for org in paper.organisations:
            doc.add_text("org", org_term(org))
        if when:
            doc.add_integer("year", when.year)
        return doc

    def rebuild(
        self, store: Store, *, on_progress: Callable[[int, int], None] | None = None
    ) -> int:
        """Drop the index and build it again from the store."""
        self._writer = None
        shutil.rmtree(self.directory, ignore_errors=True)
        self._index = self._open()
        return self.sync(store, on_progress=on_progress)

    # -- searching -------------------------------------------------------------

    def analyze(self, text: str, *, stopwords: bool = True) -> list[str]:
        """Index terms of ``text``; query words drop stopwords unless nothing else is left."""
        if stopwords:
            terms = self.query_terms.analyze(text)
            if terms:
                return list(terms)
        return list(self.terms.analyze(text))

    def build_query(self, parsed: ParsedQuery, *, match_all: bool = False) -> tantivy.Query:
        """The tantivy query for a parsed query (filters MUST, words SHOULD or MUST)."""
        schema, Occur = self.schema, tantivy.Occur
        clauses: list[tuple[tantivy.Occur, tantivy.Query]] = []
        words = self.analyze(" ".join(parsed.words)) if parsed.words else []
        for term in dict.fromkeys(words):
            if match_all:
                clauses.append((Occur.Must, self._term_everywhere(term)))
            else:  # flat, not one nested query per word: the same scores, twice as fast
                clauses.extend(self._term_fields(term))
        for word in parsed.required:
            for term in self.analyze(word, stopwords=False):
                clauses.append((Occur.Must, self._term_everywhere(term)))
        for phrase in parsed.phrases:
            clauses.append((Occur.Must, self._phrase("body", phrase)))
        for title in parsed.titles:
            clauses.append((Occur.Must, self._phrase("title", title)))
        for name in parsed.authors:
            terms = list(_NAME_ANALYZER.analyze(name))
            if terms:
                q = (
                    tantivy.Query.phrase_query(schema, "authors", terms, slop=2)
                    if len(terms) > 1
                    else tantivy.Query.term_query(schema, "authors", terms[0])
                )
                clauses.append((Occur.Must, q))
        for field_name, values in (
            ("cat", [c.lower() for c in parsed.categories]),
            ("org", [org_term(o) for o in parsed.organisations]),
        ):
            if values:  # any of the given values
                any_of = [(Occur.Should, tantivy.Query.term_query(schema, field_name, v))
                          for v in values]  # fmt: skip
                clauses.append((Occur.Must, tantivy.Query.boolean_query(any_of)))
        if parsed.year_from is not None or parsed.year_to is not None:
            years = tantivy.Query.range_query(
                schema, "year", tantivy.FieldType.Integer, parsed.year_from, parsed.year_to
            )
            clauses.append((Occur.Must, years))
        for text in parsed.excluded:
            terms = self.analyze(text, stopwords=False)
            if len(terms) == 1:
                clauses.append((Occur.MustNot, self._term_everywhere(terms[0])))
            elif terms:
                clauses.append((Occur.MustNot, self._phrase("body", text)))
        if not any(occur != Occur.MustNot for occur, _ in clauses):
            clauses.append((Occur.Must, tantivy.Query.all_query()))
        return tantivy.Query.boolean_query(clauses)

    def _term_everywhere(self, term: str) -> tantivy.Query:
        """A term scored in the title+abstract body, boosted in the title, and in author names."""
        return tantivy.Query.boolean_query(self._term_fields(term))

    def _term_fields(self, term: str) -> list[tuple[tantivy.Occur, tantivy.Query]]:
        """The optional per-field clauses of :meth:`_term_everywhere`."""
        schema, Should = self.schema, tantivy.Occur.Should
        return [
            (Should, tantivy.Query.term_query(schema, "body", term, index_option="freq")),
            (Should, tantivy.Query.boost_query(
                tantivy.Query.term_query(schema, "title", term, index_option="freq"),
                TITLE_BOOST)),
            (Should, tantivy.Query.boost_query(
                tantivy.Query.term_query(schema, "authors", term, index_option="freq"),
                AUTHOR_BOOST)),
        ]  # fmt: skip

    def _phrase(self, field: str, text: str) -> tantivy.Query:
        terms = self.analyze(text, stopwords=False)
        if not terms:
            return tantivy.Query.empty_query()
        if len(terms) == 1:
            return tantivy.Query.term_query(self.schema, field, terms[0])
        return tantivy.Query.phrase_query(self.schema, field, terms)

    def search(
        self,
        parsed: ParsedQuery,
        *,
        limit: int = 10,
        offset: int = 0,
        match_all: bool = False,
    ) -> tuple[list[Hit], int]:
        """Top hits and the total number of matches."""
        query = self.build_query(parsed, match_all=match_all)
        searcher = self._index.searcher()
        if parsed.has_text:
            result = searcher.search(query, limit=limit, offset=offset, count=True)
        else:  # filters only: newest first
            result = searcher.search(
                query, limit=limit, offset=offset, count=True, order_by_field="year"
            )
        hits = []
        for score, address in result.hits:
            doc = searcher.doc(address)
            hits.append(Hit(int(doc["key"][0]), float(score) if parsed.has_text else 0.0))
        return hits, int(result.count or 0)

    def _filters_query(self, parsed: ParsedQuery) -> tantivy.Query | None:
        """The must/must-not part of ``parsed`` alone, or None when it has none."""
        filters_only = ParsedQuery(
            required=parsed.required,
            phrases=parsed.phrases,
            excluded=parsed.excluded,
            authors=parsed.authors,
            titles=parsed.titles,
            categories=parsed.categories,
            organisations=parsed.organisations,
            year_from=parsed.year_from,
            year_to=parsed.year_to,
        )
        if not (filters_only.has_filters or filters_only.has_text):
            return None
        return self.build_query(filters_only)

    def filter_count(self, parsed: ParsedQuery) -> int | None:
        """How many papers pass the filters of ``parsed`` (None: there are no filters)."""
        query = self._filters_query(parsed)
        if query is None:
            return None
        return int(self._index.searcher().search(query, limit=1, count=True).count or 0)

    def filter_keys(self, parsed: ParsedQuery, *, limit: int) -> list[int]:
        """Keys of (up to ``limit``) papers passing the filters of ``parsed``."""
        query = self._filters_query(parsed)
        if query is None:
            return []
        return [h.key for h in self._top(query, limit=limit)]

    def key_filter(self, keys: Sequence[int]) -> tantivy.Query:
        """A query matching exactly the papers ``keys`` (callers may keep it and reuse it)."""
        return tantivy.Query.term_set_query(self.schema, "key", list(keys))

    def search_within(
        self, query: tantivy.Query, within: tantivy.Query, *, limit: int
    ) -> list[Hit]:
        """Hits of ``query`` among the papers ``within`` matches (see :meth:`key_filter`)."""
        both = tantivy.Query.boolean_query(
            [(tantivy.Occur.Must, query), (tantivy.Occur.Must, within)]
        )
        return self._top(both, limit=limit)

    def _top(self, query: tantivy.Query, *, limit: int) -> list[Hit]:
        """The best ``limit`` hits of ``query``, without counting the rest."""
        searcher = self._index.searcher()
        result = searcher.search(query, limit=limit, count=False)
        return [Hit(int(searcher.doc(a)["key"][0]), float(s)) for s, a in result.hits]

    def document_frequencies(self, terms: Sequence[str]) -> tuple[int, dict[str, int]]:
        """How many papers there are, and in how many each (analysed) term occurs."""
        searcher = self._index.searcher()
        return int(searcher.num_docs), {t: int(searcher.doc_freq("body", t)) for t in terms}

    def keys_passing(self, parsed: ParsedQuery, keys: Sequence[int]) -> set[int]:
        """The subset of ``keys`` whose papers pass the filters of ``parsed``."""
        query = self._filters_query(parsed)
        if query is None or not keys:
            return set(keys)
        return {h.key for h in self.search_within(query, self.key_filter(keys), limit=len(keys))}

    def scores_for(
        self, parsed: ParsedQuery, keys: Sequence[int], *, match_all: bool = False
    ) -> dict[int, float]:
        """BM25 of the papers ``keys`` for ``parsed`` (0 for those that do not match).

        Hybrid ranking uses it to score semantic candidates the keyword list did
        not reach, instead of treating "not in my top 100" as a score of zero.
        """
        if not keys:
            return {}
        query = self.build_query(parsed, match_all=match_all)
        scores = dict.fromkeys(keys, 0.0)
        for hit in self.search_within(query, self.key_filter(keys), limit=len(keys)):
            scores[hit.key] = hit.score
        return scores

    def num_docs(self) -> int:
        return int(self._index.searcher().num_docs)

    def stems(self, words: Sequence[str]) -> set[str]:
        """The set of stems for highlighting matched words."""
        return set(self.analyze(" ".join(words), stopwords=False))
