"""Public response models of ``/api/v1``: what clients may rely on, never a table row.

Every error is an :class:`ErrorResponse`; every list is paged the same way
(``total``, ``limit``, ``offset``, ``next``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field

from paperlens.accounts.votes import Upvotes
from paperlens.model import Paper


class ErrorBody(BaseModel):
    status: int = Field(description="The HTTP status, repeated.")
    code: str = Field(description="A stable machine-readable code, e.g. not_found.")
    message: str = Field(description="What went wrong and what to do, for people.")


class ErrorResponse(BaseModel):
    error: ErrorBody


class Page(BaseModel):
    total: int | None = Field(description="How many items match in all (null when unknown).")
    limit: int
    offset: int
    next: str | None = Field(None, description="URL of the next page, or null on the last.")


class PaperSummary(BaseModel):
    id: str = Field(description="The paperlens id (pl_...).")
    arxiv_id: str | None = None
    doi: str | None = None
    title: str | None = None
    authors: list[str] = []
    authors_complete: bool = Field(True, description="False when a source listed only some.")
    organisations: list[str] = []
    categories: list[str] = []
    published: dt.date | None = None
    featured: dt.date | None = Field(None, description="The day a curated list featured it.")
    links: list[str] = []
    url: str = Field(description="The paper's page on this site.")
    upvotes: int = Field(0, description="Real upvotes: latest count per source, summed.")
    demo_upvotes: int = Field(0, description="Generated demo upvotes (never real).")

    @classmethod
    def of(cls, paper: Paper, votes: Upvotes | None = None) -> PaperSummary:
        return cls(
            id=paper.id,
            arxiv_id=paper.arxiv_id,
            doi=paper.doi,
            title=paper.title,
            authors=paper.authors,
            authors_complete=paper.authors_complete,
            organisations=paper.organisations,
            categories=paper.categories,
            published=paper.published,
            featured=paper.featured,
            links=paper.links,
            url=f"/papers/{paper.id}",
            upvotes=votes.real if votes else 0,
            demo_upvotes=votes.demo if votes else 0,
        )


class VersionOut(BaseModel):
    version: int
    date: dt.date | None = None


class SignalOut(BaseModel):
    kind: str
    source: str
    value: float
    observed_at: dt.datetime


class ProvenanceOut(BaseModel):
    source: str
    origin: str
    first_seen: str
    fields: list[str]


class PaperDetail(PaperSummary):
    abstract: str | None = None
    updated: dt.date | None = None
    comment: str | None = None
    journal_ref: str | None = None
    version: int | None = None
    versions: list[VersionOut] = []
    signals: list[SignalOut] = Field([], description="Latest value per signal and source.")
    provenance: list[ProvenanceOut] = Field([], description="Where the paper was seen.")


class PaperList(Page):
    items: list[PaperSummary]


class SnippetSegment(BaseModel):
    text: str
    match: bool


class SearchHit(BaseModel):
    paper: PaperSummary
    score: float
    snippet: list[SnippetSegment]
    explain: dict[str, Any]


class SearchResponse(Page):
    query: str
    mode: str
    items: list[SearchHit]


class TrendingEntry(BaseModel):
    paper: PaperSummary
    score: float
    breakdown: dict[str, float] = Field(description="Points per term before decay, and decay.")
    inputs: dict[str, float] = Field(description="The raw numbers behind the terms.")
    day: dt.date | None = None


class TrendingResponse(Page):
    window: str
    date: dt.date
    start: dt.date
    end: dt.date
    weights: dict[str, float]
    demo_data: bool = Field(description="True when the store holds generated demo upvotes.")
    items: list[TrendingEntry]


class SimilarEntry(BaseModel):
    paper: PaperSummary
    score: float
    method: str = Field(description="semantic, or keyword (more-like-this fallback).")


class SimilarResponse(BaseModel):
    paper: str
    items: list[SimilarEntry]


class NameCount(BaseModel):
    name: str
    papers: int


class ListingResponse(Page):
    kind: str
    name: str
    order: str
    first: dt.date | None = None
    last: dt.date | None = None
    people: list[NameCount]
    organisations: list[NameCount]
    items: list[PaperSummary]


class ListEntryOut(BaseModel):
    paper: PaperSummary
    note: str
    read: bool
    added_at: str


class ReadingListOut(BaseModel):
    slug: str
    name: str
    owner: str
    public: bool
    created_at: str
    updated_at: str
    count: int
    items: list[ListEntryOut]
