"""The paper page and its actions: upvote, add to a list, not interested, BibTeX.

``/papers/{ref}`` takes a paperlens id, an arXiv id (old style with a slash
too) or a DOI. Actions are POST forms with a CSRF token; with HTMX they swap
just the button, without it they redirect back to where they came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

from paperlens.accounts import lists as reading_lists
from paperlens.accounts.votes import set_vote, upvotes
from paperlens.errors import NotFound
from paperlens.export.bibtex import to_bibtex
from paperlens.model import Claim, Paper
from paperlens.rank.more_like_this import similar_to
from paperlens.services import Services
from paperlens.web.deps import CurrentUser, RequireUser, ServicesDep, check_csrf
from paperlens.web.render import is_htmx, render
from paperlens.web.security import safe_next

router = APIRouter(dependencies=[Depends(check_csrf)], include_in_schema=False)

SOURCE_LABELS = {
    "arxiv-atom": "arXiv API",
    "arxiv-oai": "arXiv OAI-PMH",
    "arxiv-jsonl": "arXiv bulk metadata",
    "hf-daily": "Hugging Face Daily Papers",
    "listing": "a saved listing page",
    "bibtex": "a BibTeX file",
    "beir": "a BEIR corpus",
    "paperlens": "votes on this site",
    "demo": "demo data (generated)",
    "test": "test data",
}
SIMILAR_SHOWN = 6
SIGNAL_LABELS = {"upvotes": "upvotes", "comments": "comments", "github_stars": "GitHub stars"}


@dataclass(slots=True)
class Sighting:
    """One place a paper was seen: a source, the file or URL, and when."""

    source: str
    label: str
    origin: str
    first_seen: str
    fields: list[str] = field(default_factory=list)


@dataclass(slots=True)
class LatestSignal:
    kind: str
    label: str
    source: str
    source_label: str
    value: float
    observed_at: datetime


def resolve_paper(services: Services, ref: str, *, with_claims: bool = False) -> tuple[int, Paper]:
    """The key and paper for a reference, or ``NotFound`` with the reference named."""
    ref = ref.strip()
    key = services.store.resolve(ref) if 0 < len(ref) <= 300 else None
    paper = services.store.paper(ref, with_claims=with_claims) if key is not None else None
    if key is None or paper is None:
        raise NotFound(
            f"No paper {ref[:100]!r} here. Try its arXiv id, its DOI or search for its title."
        )
    return key, paper


def sightings(claims: dict[str, list[Claim]]) -> list[Sighting]:
    """Where the paper was seen, first sighting first, with the fields each place gave."""
    seen: dict[tuple[str, str], Sighting] = {}
    for name, field_claims in claims.items():
        for claim in field_claims:
            key = (claim.source, claim.origin)
            entry = seen.get(key)
            if entry is None:
                label = SOURCE_LABELS.get(claim.source, claim.source)
                entry = seen[key] = Sighting(claim.source, label, claim.origin, claim.observed_at)
            entry.first_seen = min(entry.first_seen, claim.observed_at)
            if name not in entry.fields:
                entry.fields.append(name)
    return sorted(seen.values(), key=lambda s: s.first_seen)


def latest_signals(paper: Paper) -> list[LatestSignal]:
    latest: dict[tuple[str, str], LatestSignal] = {}
    for obs in paper.signals:
        latest[(obs.kind, obs.source)] = LatestSignal(
            obs.kind,
            SIGNAL_LABELS.get(obs.kind, obs.kind),
            obs.source,
            SOURCE_LABELS.get(obs.source, obs.source),
            obs.value,
            obs.observed_at,
        )
    return sorted(latest.values(), key=lambda s: (s.kind, s.source))


@router.get("/papers/{ref:path}/bibtex", response_class=PlainTextResponse)
def paper_bibtex(ref: str, services: ServicesDep) -> PlainTextResponse:
    _key, paper = resolve_paper(services, ref)
    return PlainTextResponse(to_bibtex([paper]), media_type="application/x-bibtex; charset=utf-8")


@router.get("/papers/{ref:path}/similar", response_class=HTMLResponse)
def similar_papers(request: Request, ref: str, services: ServicesDep) -> HTMLResponse:
    """The paper page's similar papers: a fragment for HTMX, a page of its own without it."""
    key, paper = resolve_paper(services, ref)
    context = {
        "paper": paper,
        "similar": similar_to(services, key, limit=SIMILAR_SHOWN),
        "title": f"Similar to {paper.title or paper.id}",
        "canonical": f"/papers/{paper.id}/similar",
        "public_page": True,
    }
    return render(request, "_similar.html" if is_htmx(request) else "similar.html", context)


@router.get("/papers/{ref:path}", response_class=HTMLResponse)
async def paper_page(
    request: Request, ref: str, services: ServicesDep, user: CurrentUser
) -> HTMLResponse:
    # A coroutine on purpose: a few indexed reads and a render, about 1.5 ms of CPU
    # that a worker thread would not run any sooner (the GIL), while the hop to the
    # thread pool and the threads' contention cost more than the page itself
    # (bench/web_load.py paper at 50 clients: p95 104-152 -> 69-79 ms).
    key, paper = resolve_paper(services, ref, with_claims=True)
    counts = upvotes(services, [key], user_id=user.id if user else None)[key]
    context: dict[str, Any] = {
        "paper": paper,
        "key": key,
        "votes": counts,
        "title": paper.title or paper.id,
        "canonical": f"/papers/{paper.id}",
        "sightings": sightings(paper.claims),
        "signals": latest_signals(paper),
        "bibtex": to_bibtex([paper]),
        "my_lists": reading_lists.lists_of(services, user.id) if user else [],
        "in_lists": reading_lists.lists_containing(services, user.id, key) if user else set(),
        "hidden": key in reading_lists.not_interested(services, user.id) if user else False,
        "description": (paper.abstract or "")[:300],
        "public_page": True,
    }
    return render(request, "paper.html", context)


def _back(request: Request, paper: Paper) -> RedirectResponse:
    from urllib.parse import urlsplit

    ref = request.headers.get("referer")
    target = f"/papers/{paper.id}"
    if ref:
        parts = urlsplit(ref)
        if parts.netloc == request.headers.get("host"):
            target = safe_next(parts.path + (f"?{parts.query}" if parts.query else ""), target)
    return RedirectResponse(target, status_code=303)


@router.post("/papers/{ref:path}/vote", response_model=None)
def vote(
    request: Request,
    ref: str,
    services: ServicesDep,
    user: RequireUser,
    on: Annotated[bool, Form(description="true to upvote, false to withdraw")] = True,
) -> Response:
    key, paper = resolve_paper(services, ref)
    counts = set_vote(services, user.id, key, on=on)
    request.app.state.trending.clear()
    if is_htmx(request):
        return render(request, "_vote.html", {"paper": paper, "votes": counts})
    return _back(request, paper)


@router.post("/papers/{ref:path}/lists", response_model=None)
def add_to_list(
    request: Request,
    ref: str,
    services: ServicesDep,
    user: RequireUser,
    slug: Annotated[str, Form(max_length=64)] = "",
    new_list: Annotated[str, Form(max_length=200)] = "",
    remove: Annotated[bool, Form()] = False,
) -> Response:
    key, paper = resolve_paper(services, ref)
    if new_list.strip():
        slug = reading_lists.create_list(services, user.id, new_list).slug
    if not slug:
        raise NotFound("Choose a list, or name a new one.")
    if remove:
        reading_lists.remove_paper(services, user.id, slug, key)
    else:
        reading_lists.add_paper(services, user.id, slug, key)
    if is_htmx(request):
        return render(
            request,
            "_save.html",
            {
                "paper": paper,
                "my_lists": reading_lists.lists_of(services, user.id),
                "in_lists": reading_lists.lists_containing(services, user.id, key),
                "saved": True,
            },
        )
    return _back(request, paper)


@router.post("/papers/{ref:path}/not-interested", response_model=None)
def hide(
    request: Request,
    ref: str,
    services: ServicesDep,
    user: RequireUser,
    on: Annotated[bool, Form()] = True,
) -> Response:
    key, paper = resolve_paper(services, ref)
    reading_lists.set_not_interested(services, user.id, key, on=on)
    if is_htmx(request):
        return render(request, "_hide.html", {"paper": paper, "hidden": on})
    return _back(request, paper)
