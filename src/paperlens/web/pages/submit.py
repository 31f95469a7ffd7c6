"""Submit a paper by arXiv id or URL; see what you submitted and its status.

Submitting only queues: the sync code fetches queued papers when it runs and
the network allows. Until then the row says "queued", never an error page.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from paperlens.accounts import AccountError
from paperlens.accounts.submissions import submissions_of, submit
from paperlens.web.deps import RequireUser, ServicesDep, check_csrf
from paperlens.web.render import render

router = APIRouter(dependencies=[Depends(check_csrf)], include_in_schema=False)


@router.get("/submit", response_class=HTMLResponse)
def submit_form(request: Request, services: ServicesDep, user: RequireUser) -> HTMLResponse:
    return render(
        request,
        "submit.html",
        {
            "title": "Submit a paper",
            "submissions": submissions_of(services, user.id),
        },
    )


@router.post("/submit", response_model=None)
def submit_paper(
    request: Request,
    services: ServicesDep,
    user: RequireUser,
    ref: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    try:
        done = submit(services, user.id, ref)
    except AccountError as exc:
        status = (getattr(exc, "retry_after", None) and 429) or 400
        return render(
            request,
            "submit.html",
            {
                "title": "Submit a paper",
                "error": str(exc),
                "ref": ref,
                "submissions": submissions_of(services, user.id),
            },
            status_code=status,
        )
    if done.paper_id:
        return RedirectResponse(f"/papers/{done.paper_id}", status_code=303)
    return RedirectResponse("/submit?queued=1", status_code=303)
