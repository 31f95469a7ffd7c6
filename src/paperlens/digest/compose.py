"""What goes into one subscriber's digest, and why each paper is there.

Composition is pure over ``rank/`` and the store's reads: it writes nothing.
A ``ComposeContext`` holds what every subscriber of one run shares (the new
papers of the window, who wrote them, the trending lists, saved-search hits),
so composing 10,000 digests costs one pass over the window plus a few dict
look-ups per subscriber, not 10,000 scans of the store.

A digest has two sections:

* **Trending**: the best-scored papers of the subscriber's trending window
  (``rank.trending``) that are newer than their last digest and have some
  signal (score > 0: a list of the newest papers is not "trending").
* **For you**: new papers by followed authors and organisations, in followed
  categories, matching saved searches (all words required), or similar to a
  paper in the subscriber's reading lists (cosine of the stored MiniLM
  vectors, where the papers have them; shared rare title words otherwise).
  Each carries every reason it matched, e.g. ``you follow Jane Doe``.

Never included: papers already sent to the subscriber, papers in their lists
and papers they marked not interested. A digest with no papers is empty and
is not sent.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from paperlens.digest.period import current_period, since_for
from paperlens.errors import InvalidQuery
from paperlens.index.keyword import parse_query
from paperlens.model import Paper
from paperlens.rank.trending import ScoredKey, Window, score_window, window_bounds
from paperlens.store.digest import DigestStore, Follow, SavedSearch, Subscription, parse_ts
from paperlens.store.trending import TrendingQueries
from paperlens.text import fold

if TYPE_CHECKING:
    import tantivy

    from paperlens.services import Services

logger = logging.getLogger(__name__)

WINDOW_LABEL = {"daily": "today", "weekly": "this week", "monthly": "this month"}
SEARCH_HITS = 50  # per saved search and window
SIMILAR_PER_PAPER = 3  # new papers suggested per list paper
SIMILAR_LIST_PAPERS = 20  # most recent list papers used as seeds
REASON_WEIGHT = {"author": 3.0, "org": 2.5, "category": 1.0, "search": 2.0, "similar": 1.5}


def person_key(name: str) -> str:
    """A name as written in either order ("Doe, Jane" or "Jane Doe"), folded."""
    if "," in name:
        last, first = name.split(",", 1)
        name = f"{first} {last}"
    return fold(name)


def follow_key(kind: str, value: str) -> str:
    """The matching key of a follow: a person key, a folded organisation, a category."""
    if kind == "author":
        return person_key(value)
    if kind == "category":
        return value.strip().lower()
    return fold(value)


@dataclass(slots=True)
class DigestItem:
    """A paper in a digest, with every reason it is there."""

    paper: Paper
    key: int
    score: float
    reasons: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)


@dataclass(slots=True)
class Digest:
    """One subscriber's digest for one period."""

    subscription: Subscription
    period: str
    since: datetime
    now: datetime
    trending: list[DigestItem]
    personal: list[DigestItem]

    @property
    def items(self) -> list[DigestItem]:
        return [*self.trending, *self.personal]

    @property
    def empty(self) -> bool:
        return not self.trending and not self.personal

    def to_json(self) -> dict[str, Any]:
        def item(i: DigestItem) -> dict[str, Any]:
            return {"id": i.paper.id, "title": i.paper.title, "reasons": i.reasons,
                    "score": round(i.score, 4)}  # fmt: skip

        return {
            "email": self.subscription.email,
            "period": self.period,
            "since": self.since.isoformat(),
            "trending": [item(i) for i in self.trending],
            "for_you": [item(i) for i in self.personal],
        }


@dataclass(slots=True)
class Profile:
    """Everything about one subscriber that composing reads."""

    subscription: Subscription
    since: datetime
    follows: list[Follow] = field(default_factory=list)
    searches: list[SavedSearch] = field(default_factory=list)
    excluded: set[int] = field(default_factory=set)
    """Sent before, in a list, or marked not interested."""
    list_papers: list[int] = field(default_factory=list)


class SimilarFinder(Protocol):
    """New papers similar to a subscriber's list papers: ``{new key: (score, seed key)}``.

    ``ComposeContext._similar`` uses the stored MiniLM vectors (the ones
    ``rank/similar.py`` searches) where they exist and title-word overlap
    where they do not; a test or another ranker can replace it.
    """

    def __call__(
        self, seeds: Sequence[int], *, since: date, per_seed: int
    ) -> dict[int, tuple[float, int]]: ...


class ComposeContext:
    """The shared, read-only state for composing many digests at one instant."""

    def __init__(self, services: Services, *, now: datetime | None = None) -> None:
        self.services = services
        self.now = now or services.clock()
        self.today = self.now.date()
        self.db = DigestStore(services.store)
        self._trending: dict[tuple[str, date], list[ScoredKey]] = {}
        self._merged: dict[tuple[str, date], list[ScoredKey]] = {}
        self._titles: _TitleIndex | None = None
        self._window_start: date | None = None
        self._shown: dict[int, date] = {}
        self._papers: dict[int, Paper] = {}
        self._by_follow: dict[tuple[str, str], list[int]] = {}
        self._keysets: dict[date, frozenset[int]] = {}
        self._search_cache: dict[tuple[str, date], list[tuple[int, float]]] = {}
        self._similar_cache: dict[tuple[int, date], list[tuple[int, float]]] = {}
        self._filters: dict[date, tantivy.Query] = {}
        self._vectors: _WindowVectors | bool | None = False  # False: not loaded yet
        self.similar: SimilarFinder = self._similar

    # -- subscribers -----------------------------------------------------------

    def profiles(self, subs: Sequence[Subscription]) -> list[Profile]:
        """Load follows, searches and exclusions for many subscribers in a few queries."""
        ids = [s.id for s in subs]
        follows = self.db.follows_for(ids)
        searches = self.db.saved_searches_for(ids)
        sent = self.db.sent_papers_for(ids)
        last = self.db.last_digests_for(ids)
        users = self.db.user_papers(sorted({s.user_id for s in subs if s.user_id is not None}))
        out = []
        for sub in subs:
            listed, not_interested = (
                users.get(sub.user_id, (set(), set()))
                if sub.user_id is not None
                else (set(), set())
            )
            out.append(
                Profile(
                    subscription=sub,
                    since=since_for(sub, parse_ts(last.get(sub.id)), self.now),
                    follows=follows.get(sub.id, []) if sub.include_follows else [],
                    searches=searches.get(sub.id, []) if sub.include_searches else [],
                    excluded=sent.get(sub.id, set()) | listed | not_interested,
                    list_papers=sorted(listed, reverse=True)[:SIMILAR_LIST_PAPERS]
                    if sub.include_similar
                    else [],
                )
            )
        if out:
            self._ensure_window(min(p.since.date() for p in out))
            seeds = {k for p in out for k in p.list_papers if k not in self._papers}
            self._papers.update(self.services.store.papers_by_key(sorted(seeds)))
        return out

    # -- the window of new papers --------------------------------------------

    def _ensure_window(self, start: date) -> None:
        """Load the papers shown in ``[start, today]`` and index them by follow keys."""
        if self._window_start is not None and self._window_start <= start:
            return
        shown = TrendingQueries(self.services.store).window_papers(start, self.today)
        self._shown = dict(shown)
        self._papers = self.services.store.papers_by_key(list(self._shown))
        index: dict[tuple[str, str], list[int]] = {}
        for key, paper in self._papers.items():
            for name in paper.authors:
                index.setdefault(("author", person_key(name)), []).append(key)
            for org in paper.organisations:
                index.setdefault(("org", fold(org)), []).append(key)
            for cat in paper.categories:
                index.setdefault(("category", cat.lower()), []).append(key)
        for keys in index.values():  # newest first, so a busy follow gives its latest papers
            keys.sort(key=lambda k: (-self._shown[k].toordinal(), -k))
        self._by_follow = index
        self._keysets.clear()
        self._titles = None
        self._vectors = False
        self._window_start = start

    def followed(self, kind: str, value_key: str) -> list[int]:
        """Window papers matching one follow, newest first."""
        return self._by_follow.get((kind, value_key), [])

    def window_keys(self, since: date) -> frozenset[int]:
        """Keys of the papers shown on or after ``since``."""
        self._ensure_window(since)
        keys = self._keysets.get(since)
        if keys is None:
            keys = frozenset(k for k, d in self._shown.items() if d >= since)
            self._keysets[since] = keys
        return keys

    def paper(self, key: int) -> Paper | None:
        paper = self._papers.get(key)
        if paper is None:
            found = self.services.store.papers_by_key([key])
            paper = found.get(key)
            if paper is not None:
                self._papers[key] = paper
        return paper

    # -- trending --------------------------------------------------------------

    def trending_since(self, window: Window, since: date) -> list[ScoredKey]:
        """Scored papers of every ``window`` touching ``[since, today]``, best first."""
        starts: dict[date, None] = {}
        day = since
        while day <= self.today:
            start, end = window_bounds(window, day)
            starts[start] = None
            day = end + timedelta(days=1)
        cached = self._merged.get((window, since))
        if cached is not None:
            return cached
        merged: dict[int, ScoredKey] = {}
        for start in starts:
            cache_key = (window, start)
            if cache_key not in self._trending:
                self._trending[cache_key] = score_window(
                    self.services, window=window, day=start, as_of=self.now
                )
            for s in self._trending[cache_key]:
                if s.score > 0 and s.day >= since and s.key not in merged:
                    merged[s.key] = s
        ranked = sorted(merged.values(), key=lambda s: (-s.score, -s.day.toordinal(), s.key))
        self._merged[(window, since)] = ranked
        return ranked

    # -- saved searches and similarity (keyword index) -------------------------

    def _window_filter(self, since: date) -> tantivy.Query:
        query = self._filters.get(since)
        if query is None:
            query = self.services.fulltext.key_filter(sorted(self.window_keys(since)))
            self._filters[since] = query
        return query

    def _search_window(
        self, query: tantivy.Query, since: date, limit: int
    ) -> list[tuple[int, float]]:
        hits = self.services.fulltext.search_within(query, self._window_filter(since), limit=limit)
        return [(h.key, h.score) for h in hits]

    def search_hits(self, text: str, since: date) -> list[tuple[int, float]]:
        """New papers matching a saved search (every word required), best first."""
        cached = self._search_cache.get((text, since))
        if cached is not None:
            return cached
        hits: list[tuple[int, float]] = []
        if self.window_keys(since):
            try:
                parsed = parse_query(text)
            except InvalidQuery as exc:
                logger.warning("saved search %r cannot be run: %s", text, exc)
            else:
                query = self.services.fulltext.build_query(parsed, match_all=True)
                hits = self._search_window(query, since, SEARCH_HITS)
        self._search_cache[(text, since)] = hits
        return hits

    def _similar(
        self, seeds: Sequence[int], *, since: date, per_seed: int
    ) -> dict[int, tuple[float, int]]:
        """Semantic (stored MiniLM vectors) where the papers have them, else keyword overlap.

        Only stored vectors are used: composing never loads the model, so a
        seed without a vector (not embedded yet) falls back to its title words.
        """
        if self._vectors is False:
            self._vectors = _WindowVectors.load(self)
        vectors = self._vectors if isinstance(self._vectors, _WindowVectors) else None
        found: dict[int, tuple[float, int]] = {}
        keyword_seeds = []
        for seed in seeds:
            cached = self._similar_cache.get((seed, since))
            if cached is None:
                cached = vectors.similar(seed, since, per_seed) if vectors else None
                if cached is None:
                    keyword_seeds.append(seed)
                    continue
                self._similar_cache[(seed, since)] = cached
            for key, score in cached:
                if key not in found or found[key][0] < score:
                    found[key] = (score, seed)
        if keyword_seeds:
            more = self._keyword_similar(keyword_seeds, since=since, per_seed=per_seed)
            for key, (score, seed) in more.items():
                if key not in found or found[key][0] < score:
                    found[key] = (score, seed)
        return found

    def _keyword_similar(
        self, seeds: Sequence[int], *, since: date, per_seed: int
    ) -> dict[int, tuple[float, int]]:
        """Keyword stand-in for semantic similarity: shared title terms, weighted by rarity."""
        if self._titles is None:
            in_window = {k: p for k, p in self._papers.items() if k in self._shown}
            self._titles = _TitleIndex(in_window, self._shown, self.services.fulltext.analyze)
        found: dict[int, tuple[float, int]] = {}
        for seed in seeds:
            cached = self._similar_cache.get((seed, since))
            if cached is None:
                paper = self.paper(seed)
                cached = (
                    self._titles.similar(paper.title or "", since, per_seed, exclude=seed)
                    if paper
                    else []
                )
                self._similar_cache[(seed, since)] = cached
            for key, score in cached:
                if key not in found or found[key][0] < score:
                    found[key] = (score, seed)
        return found


MIN_SIMILARITY = 0.45
"""Cosine of MiniLM vectors below which a new paper is not called "similar"."""


class _WindowVectors:
    """The window's stored embeddings as one normalised matrix, and seed look-ups."""

    def __init__(self, ctx: ComposeContext, model: str, keys: list[int], matrix: Any) -> None:
        import numpy as np

        self.ctx = ctx
        self.model = model
        self.keys = np.array(keys, dtype=np.int64)
        self.days = np.array([ctx._shown[k].toordinal() for k in keys], dtype=np.int64)
        self.matrix = matrix

    @classmethod
    def load(cls, ctx: ComposeContext) -> _WindowVectors | None:
        import numpy as np

        try:
            model = ctx.services.model_name
        except Exception:  # no embedding setup at all: keyword similarity only
            return None
        stored = ctx.db.embeddings_for(model, sorted(ctx._shown))
        if not stored:
            return None
        keys = sorted(stored)
        matrix = np.vstack([np.frombuffer(stored[k], dtype="<f4") for k in keys])
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        return cls(ctx, model, keys, matrix / np.where(norms == 0, 1.0, norms))

    def similar(self, seed: int, since: date, limit: int) -> list[tuple[int, float]] | None:
        """Window papers nearest to ``seed``; None when the seed has no stored vector."""
        import numpy as np

        raw = self.ctx.db.embeddings_for(self.model, [seed]).get(seed)
        if raw is None:
            return None
        vector = np.frombuffer(raw, dtype="<f4")
        if vector.shape[0] != self.matrix.shape[1]:
            return None
        vector = vector / (np.linalg.norm(vector) or 1.0)
        sims = self.matrix @ vector
        ok = (sims >= MIN_SIMILARITY) & (self.days >= since.toordinal()) & (self.keys != seed)
        candidates = np.flatnonzero(ok)
        top = candidates[np.argsort(-sims[candidates], kind="stable")[:limit]]
        return [(int(self.keys[i]), float(sims[i])) for i in top]


class _TitleIndex:
    """Title terms of the window's papers as postings arrays, for quick overlap scores.

    ``similar`` scores every window paper by the summed ``log(1 + N/df)`` of
    the title terms it shares with the seed (two shared at least), with numpy
    doing the per-term additions: a few hundred microseconds per seed instead
    of a keyword-index query each.
    """

    def __init__(
        self,
        papers: dict[int, Paper],
        shown: dict[int, date],
        analyze: Callable[[str], list[str]],
    ) -> None:
        import numpy as np

        self.keys = np.array(sorted(papers), dtype=np.int64)
        self.days = np.array([shown[int(k)].toordinal() for k in self.keys], dtype=np.int64)
        postings: dict[str, list[int]] = {}
        for row, key in enumerate(self.keys.tolist()):
            for term in set(analyze(papers[key].title or "")):
                postings.setdefault(term, []).append(row)
        n = max(len(self.keys), 1)
        self.postings = {t: np.array(rows, dtype=np.int64) for t, rows in postings.items()}
        self.idf = {t: math.log(1.0 + n / len(rows)) for t, rows in postings.items()}
        self.analyze = analyze

    def similar(
        self, title: str, since: date, limit: int, *, exclude: int
    ) -> list[tuple[int, float]]:
        import numpy as np

        terms = [t for t in dict.fromkeys(self.analyze(title)) if t in self.postings][:16]
        if len(terms) < 2 or not len(self.keys):
            return []
        scores = np.zeros(len(self.keys))
        shared = np.zeros(len(self.keys), dtype=np.int32)
        for term in terms:
            rows = self.postings[term]
            scores[rows] += self.idf[term]
            shared[rows] += 1
        ok = (shared >= 2) & (self.days >= since.toordinal()) & (self.keys != exclude)
        candidates = np.flatnonzero(ok)
        if not len(candidates):
            return []
        top = candidates[np.argsort(-scores[candidates], kind="stable")[:limit]]
        best = float(sum(self.idf[t] for t in terms))
        return [(int(self.keys[i]), float(scores[i]) / best) for i in top]


def compose(ctx: ComposeContext, profile: Profile, *, period: str | None = None) -> Digest:
    """The digest ``profile``'s subscriber would get now (empty when nothing is new)."""
    sub = profile.subscription
    since_day = profile.since.date()
    window = ctx.window_keys(since_day)
    picks: dict[int, DigestItem] = {}

    def add(key: int, kind: str, reason: str, score: float) -> None:
        if key in profile.excluded or key not in window:
            return
        item = picks.get(key)
        if item is None:
            paper = ctx.paper(key)
            if paper is None:
                return
            item = picks[key] = DigestItem(paper, key, 0.0)
        if reason not in item.reasons:
            item.reasons.append(reason)
            item.kinds.append(kind)
            item.score += REASON_WEIGHT.get(kind, 1.0) + score

    per_follow = max(sub.personal_count * 3, 10)
    for follow in profile.follows:
        taken = 0
        for key in ctx.followed(follow.kind, follow.value_key):
            if taken >= per_follow:
                break
            if key in window and key not in profile.excluded:
                add(key, follow.kind, f"you follow {follow.value}", 0.0)
                taken += 1
    for saved in profile.searches:
        hits = ctx.search_hits(saved.query, since_day)
        top = hits[0][1] if hits else 1.0
        for key, score in hits:
            add(key, "search", f"matches your saved search '{saved.query}'", score / top)
    if profile.list_papers:
        similar = ctx.similar(profile.list_papers, since=since_day, per_seed=SIMILAR_PER_PAPER)
        for key, (score, seed) in sorted(similar.items(), key=lambda kv: -kv[1][0]):
            seed_paper = ctx.paper(seed)
            title = (seed_paper.title if seed_paper else None) or seed_paper_id(seed_paper)
            add(key, "similar", f"similar to '{_short(title)}' in your list", min(score, 1.0))

    trending: list[DigestItem] = []
    if sub.include_trending and sub.trending_count > 0:
        label = WINDOW_LABEL.get(sub.trending_window, sub.trending_window)
        for scored in ctx.trending_since(sub.trending_window, since_day):  # type: ignore[arg-type]
            if scored.key in profile.excluded:
                continue
            item = picks.pop(scored.key, None)
            if item is None:
                paper = ctx.paper(scored.key)
                if paper is None:
                    continue
                item = DigestItem(paper, scored.key, 0.0)
            item.score = scored.score
            item.reasons.insert(0, _trending_reason(scored, label))
            item.kinds.insert(0, "trending")
            trending.append(item)
            if len(trending) >= sub.trending_count:
                break

    personal = sorted(picks.values(), key=lambda i: (-len(i.reasons), -i.score, -i.key))
    personal = personal[: sub.personal_count]
    return Digest(
        subscription=sub,
        period=period or current_period(sub, ctx.now)[0],
        since=profile.since,
        now=ctx.now,
        trending=trending,
        personal=personal,
    )


def compose_many(
    ctx: ComposeContext, subs: Iterable[Subscription], *, period_of: Any = None
) -> Iterable[Digest]:
    """Compose for many subscribers, loading their profiles in chunks."""
    chunk: list[Subscription] = []
    for sub in subs:
        chunk.append(sub)
        if len(chunk) >= 500:
            yield from _compose_chunk(ctx, chunk, period_of)
            chunk = []
    if chunk:
        yield from _compose_chunk(ctx, chunk, period_of)


def _compose_chunk(
    ctx: ComposeContext, subs: list[Subscription], period_of: Any
) -> Iterable[Digest]:
    for profile in ctx.profiles(subs):
        period = period_of(profile.subscription) if period_of else None
        yield compose(ctx, profile, period=period)


def _trending_reason(scored: ScoredKey, label: str) -> str:
    upvotes = int(scored.inputs.get("upvotes", 0) + scored.inputs.get("demo_upvotes", 0))
    if upvotes:
        return f"trending {label}: {upvotes} upvote{'s' if upvotes != 1 else ''}"
    return f"trending {label}"


def seed_paper_id(paper: Paper | None) -> str:
    return paper.id if paper else "a paper"


def _short(text: str, width: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"
