"""Templates: the Jinja2 environment, its filters, and ``render`` for every page.

Autoescaping is on for every template; the only ``Markup`` built in Python is
in :func:`snippet_html` and :func:`math_text`, which escape each piece of user
text before wrapping it, so no stored title, abstract, note or query reaches
the page as markup.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment
from markupsafe import Markup, escape

from paperlens.model import Paper
from paperlens.web.deps import current_csrf_token, current_user, web_state

TEMPLATES_DIR = Path(str(resources.files("paperlens.web") / "templates"))
STATIC_DIR = Path(str(resources.files("paperlens.web") / "static"))
_URL_RE = re.compile(r"^https?://", re.IGNORECASE)
_CODE_HOSTS = ("github.com", "gitlab.com", "bitbucket.org", "huggingface.co", "codeberg.org")


def snippet_html(segments: Iterable[tuple[str, bool]]) -> Markup:
    """Search snippet segments as HTML: text escaped, matches in ``<mark>``."""
    parts = []
    for text, hit in segments:
        parts.append(Markup("<mark>{}</mark>").format(text) if hit else escape(text))
    return Markup("").join(parts)


def authors_short(paper: Paper, limit: int = 6) -> list[str]:
    return paper.authors[:limit]


def more_authors(paper: Paper, limit: int = 6) -> str:
    """' et al.' or ' +N more' when the shown names are not all of them."""
    extra = len(paper.authors) - limit
    if extra > 0:
        return f"+{extra} more"
    if not paper.authors_complete:
        return "et al."
    return ""


def fmt_date(value: date | datetime | str | None, style: str = "long") -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return str(value)
    if style == "short":
        return f"{value:%b} {value.day}"
    if isinstance(value, datetime):
        return f"{value:%b} {value.day}, {value:%Y} {value:%H:%M} UTC"
    return f"{value:%b} {value.day}, {value:%Y}"


def path_quote(value: str) -> str:
    """A path segment for a name ('Ada Lovelace' -> 'Ada%20Lovelace'); slashes kept for :path."""
    return quote(value, safe="/")


def safe_url(value: str | None) -> str | None:
    """Only http(s) links are rendered as links; ``javascript:`` and the like are dropped."""
    if value and _URL_RE.match(value.strip()):
        return value.strip()
    return None


def code_links(paper: Paper) -> list[str]:
    return [u for u in paper.links if safe_url(u) and any(h in u.lower() for h in _CODE_HOSTS)]


def other_links(paper: Paper) -> list[str]:
    code = set(code_links(paper))
    return [u for u in paper.links if safe_url(u) and u not in code]


def origin_label(origin: str) -> str:
    """A URL as it is; a file path as its last two parts (the folder says what kind)."""
    if _URL_RE.match(origin):
        return link_label(origin)
    parts = origin.replace("\\", "/").rstrip("/").split("/")
    return "/".join(parts[-2:])


def link_label(url: str) -> str:
    text = re.sub(r"^https?://(www\.)?", "", url).rstrip("/")
    return text if len(text) <= 60 else text[:57] + "…"


def arxiv_url(paper: Paper, kind: str = "abs") -> str | None:
    if not paper.arxiv_id:
        return None
    return f"https://arxiv.org/{kind}/{quote(paper.arxiv_id, safe='/.')}"


def number(value: float | int | None) -> str:
    if value is None:
        return "0"
    value = float(value)
    if value >= 10_000:
        return f"{value / 1000:.0f}k"
    if value >= 1000:
        return f"{value / 1000:.1f}k"
    return f"{value:g}" if value != int(value) else str(int(value))


def query_string(params: Mapping[str, Any], **changes: Any) -> str:
    """``?a=1&b=2`` from ``params`` with ``changes`` applied; empty values dropped."""
    merged = {**params, **changes}
    kept = {k: v for k, v in merged.items() if v not in (None, "", False)}
    return "?" + urlencode(kept, doseq=True) if kept else ""


@cache
def _asset_version(name: str) -> str:
    data = (STATIC_DIR / name).read_bytes()
    return hashlib.sha256(data).hexdigest()[:10]


def asset(name: str) -> str:
    """``/static/<name>?v=<hash>``: cache forever, change the URL when the file changes."""
    return f"/static/{name}?v={_asset_version(name)}"


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
    env = templates.env
    env.autoescape = True
    env.auto_reload = False  # templates ship with the package; no stat() per render
    env.trim_blocks = True
    env.lstrip_blocks = True
    env.filters.update(
        snippet_html=snippet_html,
        fmt_date=fmt_date,
        path_quote=path_quote,
        safe_url=safe_url,
        link_label=link_label,
        origin_label=origin_label,
        number=number,
    )
    env.globals.update(
        authors_short=authors_short,
        more_authors=more_authors,
        code_links=code_links,
        other_links=other_links,
        arxiv_url=arxiv_url,
        query_string=query_string,
        asset=asset,
    )
    env.globals["card_lines"] = CardLines(env)
    return templates


class CardLines:
    """A paper card's author and meta lines, rendered once per version of the paper.

    Lists of thirty cards are the bulk of a trending or search page's render,
    and these two lines are the same for every visitor, signed in or not (the
    vote button, which is not, stays outside). The key holds every field the
    lines show, so a changed paper renders afresh; at most ``size`` are kept.
    """

    def __init__(self, env: Environment, size: int = 10_000) -> None:
        self.env = env
        self.size = size
        self._kept: OrderedDict[tuple[Any, ...], Markup] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, paper: Paper, day: date | None = None) -> Markup:
        key = (paper.id, day, paper.title, tuple(paper.authors), paper.authors_complete,
               paper.author_count, tuple(paper.organisations), tuple(paper.categories),
               paper.featured, paper.published, tuple(paper.links), paper.arxiv_id)  # fmt: skip
        with self._lock:
            lines = self._kept.get(key)
            if lines is not None:
                self._kept.move_to_end(key)
                return lines
        macros = self.env.get_template("_macros.html").module
        lines = Markup(f"{macros.authors_line(paper)}\n{macros.meta_line(paper, day)}")  # type: ignore[attr-defined]
        with self._lock:
            self._kept[key] = lines
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)
        return lines


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true" and "hx-history-restore-request" not in {
        k.lower() for k in request.headers
    }


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """Render a page (or an HTMX fragment) with the context every template needs.

    Pages that set ``public_page`` carry no per-visitor token for anonymous
    visitors (their only form is a GET search; voting links to sign-in), so
    ``PageCache`` may serve one rendering to every anonymous visitor.
    """
    state = web_state(request)
    ctx: dict[str, Any] = {
        "request": request,
        "user": current_user(request),
        "csrf_token": current_csrf_token(request),
        "demo_data": request.app.state.demo_data(),
        "feeds": [],
        "canonical": None,
        "site_name": "paperlens",
        "settings": state.services.settings,
        "public_page": False,
    }
    if context:
        ctx.update(context)
    templates: Jinja2Templates = request.app.state.templates
    out_headers = dict(headers or {})
    if ctx["public_page"] and ctx["user"] is None and status_code == 200:
        out_headers["x-page-cache"] = "public"
    return templates.TemplateResponse(
        request, template, ctx, status_code=status_code, headers=out_headers
    )
