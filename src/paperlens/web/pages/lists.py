"""Reading lists: yours at ``/lists``, one at ``/lists/{slug}``, exports and edits.

Private lists answer 404 to everyone but their owner, the same as a list
that does not exist.
"""

from __future__ import annotations

import json
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from paperlens.accounts import lists as reading_lists
from paperlens.accounts.votes import upvotes
from paperlens.export.bibtex import to_bibtex
from paperlens.export.csl_json import to_csl_json
from paperlens.web.deps import CurrentUser, RequireUser, ServicesDep, check_csrf
from paperlens.web.pages.paper import resolve_paper
from paperlens.web.render import is_htmx, render

router = APIRouter(dependencies=[Depends(check_csrf)], include_in_schema=False)


@router.get("/lists", response_class=HTMLResponse)
def my_lists(request: Request, services: ServicesDep, user: RequireUser) -> HTMLResponse:
    return render(
        request,
        "lists.html",
        {
            "title": "Your reading lists",
            "lists": reading_lists.lists_of(services, user.id),
        },
    )


@router.post("/lists", response_model=None)
def create(
    services: ServicesDep,
    user: RequireUser,
    name: Annotated[str, Form(max_length=200)] = "",
    public: Annotated[bool, Form()] = False,
) -> Response:
    row = reading_lists.create_list(services, user.id, name, public=public)
    return RedirectResponse(f"/lists/{row.slug}", status_code=303)


def _filename(name: str, ext: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in name)[:60].strip("-")
    return f"{safe or 'reading-list'}.{ext}"


@router.get("/lists/{slug}/export.bib", response_model=None)
def export_bibtex(slug: str, services: ServicesDep, user: CurrentUser) -> Response:
    row = reading_lists.get_list(services, slug, viewer=user.id if user else None)
    papers = [e.paper for e in reading_lists.entries(services, row)]
    return Response(
        to_bibtex(papers),
        media_type="application/x-bibtex; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{_filename(row.name, "bib")}"'},
    )


@router.get("/lists/{slug}/export.json", response_model=None)
def export_csl(slug: str, services: ServicesDep, user: CurrentUser) -> Response:
    row = reading_lists.get_list(services, slug, viewer=user.id if user else None)
    papers = [e.paper for e in reading_lists.entries(services, row)]
    body = json.dumps(to_csl_json(papers), ensure_ascii=False, indent=2)
    return Response(
        body,
        media_type="application/vnd.citationstyles.csl+json",
        headers={"Content-Disposition": f'attachment; filename="{_filename(row.name, "json")}"'},
    )


@router.get("/lists/{slug}", response_class=HTMLResponse)
def show(request: Request, slug: str, services: ServicesDep, user: CurrentUser) -> HTMLResponse:
    row = reading_lists.get_list(services, slug, viewer=user.id if user else None)
    entries = reading_lists.entries(services, row)
    counts = upvotes(services, [e.key for e in entries], user_id=user.id if user else None)
    feeds = []
    if row.public:
        feeds = [
            ("application/atom+xml", f"{row.name} (Atom)", f"/feeds/list/{quote(slug)}.atom"),
            ("application/feed+json", f"{row.name} (JSON Feed)", f"/feeds/list/{quote(slug)}.json"),
        ]
    return render(
        request,
        "list.html",
        {
            "title": row.name,
            "list": row,
            "entries": entries,
            "counts": counts,
            "owner": user is not None and user.id == row.user_id,
            "feeds": feeds,
        },
    )


@router.post("/lists/{slug}/edit", response_model=None)
def edit(
    slug: str,
    services: ServicesDep,
    user: RequireUser,
    name: Annotated[str, Form(max_length=200)] = "",
    public: Annotated[bool, Form()] = False,
) -> Response:
    reading_lists.update_list(services, user.id, slug, name=name, public=public)
    return RedirectResponse(f"/lists/{slug}", status_code=303)


@router.post("/lists/{slug}/delete", response_model=None)
def delete(slug: str, services: ServicesDep, user: RequireUser) -> Response:
    reading_lists.delete_list(services, user.id, slug)
    return RedirectResponse("/lists", status_code=303)


@router.post("/lists/{slug}/items/{ref:path}", response_model=None)
def edit_item(
    request: Request,
    slug: str,
    ref: str,
    services: ServicesDep,
    user: RequireUser,
    action: Annotated[str, Form(pattern="^(note|read|unread|remove)$")] = "note",
    note: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    key, _paper = resolve_paper(services, ref)
    if action == "remove":
        reading_lists.remove_paper(services, user.id, slug, key)
    elif action in ("read", "unread"):
        reading_lists.update_entry(services, user.id, slug, key, read=action == "read")
    else:
        reading_lists.update_entry(services, user.id, slug, key, note=note)
    if is_htmx(request) and action != "remove":
        row = reading_lists.own_list(services, slug, user.id)
        entry = next(e for e in reading_lists.entries(services, row) if e.key == key)
        return render(
            request,
            "_list_entry_tools.html",
            {"list": row, "entry": entry, "owner": True, "saved": True},
        )
    if is_htmx(request):
        return HTMLResponse("")
    return RedirectResponse(f"/lists/{slug}#paper-{key}", status_code=303)
