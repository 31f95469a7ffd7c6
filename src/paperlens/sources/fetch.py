"""Turn URLs into bytes, politely: one httpx client, pacing, retries, a raw-response cache.

Parsers never see a URL (``sources/__init__.py``); this module is the only
place that talks HTTP. One :class:`Fetcher` owns one ``httpx.Client`` (so one
connection per host, as arXiv's etiquette asks) and adds what the client does
not do by itself:

* **Pacing per host.** Requests to a host start at least ``pacing[host]``
  seconds apart (arXiv asks for 3 s), retries included.
* **Retries** on 408/429/5xx, timeouts and dropped or cut connections, with
  exponential backoff plus jitter; a ``Retry-After`` (seconds or HTTP date) is
  honoured as given, up to ``retry_after_max``. Other 4xx fail at once: asking
  again will not help. A host that refuses connections or does not resolve
  gets ``CONNECT_RETRIES`` retries and is then marked down for the rest of
  the fetcher's life, so an offline run fails in seconds, not hours.
* **Body checks.** A 200 can still be useless: empty, cut short, or an HTML
  error page where XML or JSON was asked for. With ``expect="xml"`` or
  ``"json"`` the whole body is checked for well-formedness before anyone
  parses it; a bad body is fetched again (``bad_body_retries``) and then fails
  with the URL and the reason. So a page is either whole or not used at all.
* **A raw-response cache.** Every good body is kept, gzip-compressed, under
  ``cache_dir`` with a one-line JSON header (URL, status, time, parser label,
  POST body), so ``paperlens reparse`` can run a fixed parser over everything
  fetched without asking the network again.

Why hand-written and not a retry library (tenacity, httpx-retries) or a cache
library (hishel): ``Retry-After`` handling, per-host pacing shared with
retries, body validation and a cache of *every* response (an HTTP cache keeps
one per URL, but a re-poll of the same URL is a new observation) are the whole
job here; the glue around a library would be as long as this module.
"""

from __future__ import annotations

import contextlib
import email.utils
import gzip
import hashlib
import io
import json
import logging
import os
import random
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx

from paperlens.errors import PaperlensError
from paperlens.sources.xml_stream import XmlBroken, XmlRefused, iter_elements

logger = logging.getLogger(__name__)

Expect = Literal["xml", "json", "any"]
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
CONNECT_RETRIES = 2
_CACHE_SUFFIX = ".resp.gz"


class FetchError(PaperlensError):
    """A URL gave no usable body after the retries; ``reason`` says why."""

    def __init__(
        self, url: str, reason: str, *, status: int | None = None, body: bytes = b""
    ) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason
        self.status = status
        self.body = body


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    """How a fetcher behaves; ``sync.settings.SyncSettings`` builds one from the environment."""

    user_agent: str
    pacing: Mapping[str, float] = field(default_factory=dict)
    """Minimum seconds between two request starts, per ``host[:port]``."""
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_retries: int = 5
    bad_body_retries: int = 2
    backoff_base: float = 2.0
    backoff_max: float = 120.0
    retry_after_max: float = 900.0
    cache_dir: Path | None = None


@dataclass(slots=True)
class Fetched:
    """A usable response body and where and when it came from."""

    url: str
    status: int
    content: bytes
    content_type: str
    fetched_at: datetime
    label: str
    cache_path: Path | None = None
    request_json: Any = None


@dataclass(slots=True)
class FetchStats:
    """Counters for the end-of-run summary."""

    requests: int = 0
    retries: int = 0
    bytes: int = 0
    waited_s: float = 0.0
    cached: int = 0
    failures: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "retries": self.retries,
            "bytes": self.bytes,
            "waited_s": round(self.waited_s, 2),
            "cached_responses": self.cached,
            "failed_requests": self.failures,
        }


class _Retry(Exception):
    """One attempt failed in a way worth another try."""

    def __init__(
        self,
        reason: str,
        *,
        delay: float | None = None,
        bad_body: bool = False,
        unreachable: bool = False,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.delay = delay
        self.bad_body = bad_body
        self.unreachable = unreachable


class Fetcher:
    """GET/POST with pacing, retries, body checks and the raw cache, through one client."""

    def __init__(
        self,
        policy: FetchPolicy,
        *,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.policy = policy
        self.stats = FetchStats()
        self._own_client = client is None
        self._client = client or httpx.Client(
            timeout=httpx.Timeout(
                policy.read_timeout, connect=policy.connect_timeout, pool=policy.read_timeout
            ),
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
            follow_redirects=True,
        )
        self._client.headers["User-Agent"] = policy.user_agent
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()
        self._last_start: dict[str, float] = {}
        self._down: dict[str, str] = {}

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._own_client:
            self._client.close()

    def get(
        self,
        url: str,
        *,
        params: Mapping[str, str | int] | None = None,
        label: str,
        expect: Expect = "any",
        headers: Mapping[str, str] | None = None,
    ) -> Fetched:
        """GET ``url``; raises :class:`FetchError` when no usable body came back."""
        request = self._client.build_request("GET", url, params=params, headers=headers)
        return self._send(request, label=label, expect=expect, request_json=None)

    def post_json(
        self,
        url: str,
        payload: Any,
        *,
        params: Mapping[str, str | int] | None = None,
        label: str,
        expect: Expect = "json",
        headers: Mapping[str, str] | None = None,
    ) -> Fetched:
        """POST a JSON body (Semantic Scholar's batch endpoint); same guarantees as :meth:`get`."""
        request = self._client.build_request(
            "POST", url, params=params, json=payload, headers=headers
        )
        return self._send(request, label=label, expect=expect, request_json=payload)

    # -- the retry loop ----------------------------------------------------

    def _send(
        self, request: httpx.Request, *, label: str, expect: Expect, request_json: Any
    ) -> Fetched:
        url = str(request.url)
        host = request.url.netloc.decode("ascii").lower()
        policy = self.policy
        attempt = bad_bodies = 0
        if host in self._down:
            self.stats.failures += 1
            raise FetchError(url, f"{self._down[host]}; not asked again in this run")
        while True:
            self._pace(host)
            try:
                response = self._attempt(request, url, expect)
            except _Retry as retry:
                if retry.bad_body:
                    bad_bodies += 1
                    exhausted = bad_bodies > policy.bad_body_retries
                else:
                    attempt += 1
                    # A host that cannot be reached at all (no DNS, refused) is not
                    # going to answer in a minute: fewer retries, then fail fast.
                    limit = min(policy.max_retries, CONNECT_RETRIES)
                    exhausted = attempt > (limit if retry.unreachable else policy.max_retries)
                if exhausted:
                    self.stats.failures += 1
                    if retry.unreachable:
                        self._down[host] = f"{host} unreachable ({retry.reason})"
                    tries = attempt + bad_bodies
                    raise FetchError(
                        url, f"{retry.reason} (gave up after {tries} attempts)"
                    ) from None
                delay = retry.delay
                if delay is None:
                    delay = self._backoff(attempt + bad_bodies - 1)
                elif delay > policy.retry_after_max:
                    self.stats.failures += 1
                    raise FetchError(
                        url,
                        f"{retry.reason}; the server asks to wait {delay:.0f} s, more than "
                        f"the {policy.retry_after_max:.0f} s allowed (PAPERLENS_RETRY_AFTER_MAX_S)",
                    ) from None
                self.stats.retries += 1
                logger.info("%s: %s; retrying in %.1f s", url, retry.reason, delay)
                self._wait(delay)
                continue
            fetched = Fetched(
                url=url,
                status=response.status_code,
                content=response.content,
                content_type=response.headers.get("content-type", ""),
                fetched_at=datetime.now(UTC),
                label=label,
                request_json=request_json,
            )
            if policy.cache_dir is not None:
                fetched.cache_path = write_cache(policy.cache_dir, fetched, request.method)
                self.stats.cached += 1
            return fetched

    def _attempt(self, request: httpx.Request, url: str, expect: Expect) -> httpx.Response:
        self._last_start[request.url.netloc.decode("ascii").lower()] = self._clock()
        self.stats.requests += 1
        try:
            response = self._client.send(request)
        except httpx.ConnectTimeout as exc:
            raise _Retry(f"cannot connect ({type(exc).__name__})", unreachable=True) from None
        except httpx.TimeoutException as exc:
            raise _Retry(f"timed out ({type(exc).__name__})") from None
        except httpx.ConnectError as exc:
            raise _Retry(f"cannot connect ({exc})", unreachable=True) from None
        except httpx.TransportError as exc:
            # RemoteProtocolError covers a connection dropped before or during the
            # body (a Content-Length the server never delivered); ReadError and
            # ConnectError a reset or refused socket.
            raise _Retry(f"connection failed ({type(exc).__name__}: {exc})") from None
        self.stats.bytes += len(response.content)
        status = response.status_code
        if status in RETRY_STATUSES:
            raise _Retry(
                f"HTTP {status}{_short(response)}",
                delay=_retry_after(response.headers.get("retry-after")),
            )
        if status >= 400:
            self.stats.failures += 1
            raise FetchError(
                url, f"HTTP {status}{_short(response)}", status=status, body=response.content
            )
        problem = body_problem(response.content, response.headers.get("content-type", ""), expect)
        if problem:
            raise _Retry(problem, bad_body=True)
        return response

    def _pace(self, host: str) -> None:
        interval = self.policy.pacing.get(host, 0.0)
        last = self._last_start.get(host)
        if interval <= 0 or last is None:
            return
        wait = last + interval - self._clock()
        if wait > 0:
            self._wait(wait)

    def _wait(self, seconds: float) -> None:
        self.stats.waited_s += seconds
        self._sleep(seconds)

    def _backoff(self, attempt: int) -> float:
        """``base * 2**attempt`` capped at ``backoff_max``, plus up to ``base`` of jitter."""
        base = self.policy.backoff_base
        delay: float = min(self.policy.backoff_max, base * 2.0 ** max(attempt, 0))
        return delay + self._rng.uniform(0, base)


def body_problem(content: bytes, content_type: str, expect: Expect) -> str | None:
    """Why a 200 body cannot be the data asked for, or None when it can."""
    if expect == "any":
        return None
    head = content[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head:
        return "empty body"
    lowered = head[:64].lower()
    if lowered.startswith((b"<!doctype html", b"<html")) or (
        "text/html" in content_type.lower() and not lowered.startswith(b"<?xml")
    ):
        title = _html_title(content)
        return "an HTML page instead of " + expect.upper() + (f" ({title!r})" if title else "")
    if expect == "json":
        try:
            json.loads(content)
        except (ValueError, RecursionError) as exc:
            return f"malformed or truncated JSON ({exc})"
        return None
    try:
        for _ in iter_elements(io.BytesIO(content), ()):
            pass
    except XmlBroken as exc:
        return f"malformed or truncated XML ({exc})"
    except XmlRefused as exc:
        return f"refused XML ({exc})"
    return None


def _html_title(content: bytes) -> str:
    text = content[:4096].decode("utf-8", "replace")
    start = text.lower().find("<title>")
    end = text.lower().find("</title>")
    return " ".join(text[start + 7 : end].split())[:80] if 0 <= start < end else ""


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    with contextlib.suppress(TypeError, ValueError, IndexError):
        when = email.utils.parsedate_to_datetime(value)
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max(0.0, float((when - datetime.now(UTC)).total_seconds()))
    return None


def _short(response: httpx.Response) -> str:
    ctype = response.headers.get("content-type", "")
    if "html" in ctype:
        title = _html_title(response.content)
        return f" ({title})" if title else ""
    text = " ".join(response.content[:300].decode("utf-8", "replace").split())
    return f": {text[:200]}" if text else ""


# -- the raw-response cache ------------------------------------------------


@dataclass(slots=True)
class CachedResponse:
    """One cached response, read back."""

    path: Path
    url: str
    label: str
    status: int
    fetched_at: datetime
    content: bytes
    request_json: Any = None


def write_cache(cache_dir: Path, fetched: Fetched, method: str = "GET") -> Path:
    """Store one body under ``cache_dir/<day>/<time>-<label>-<hash>.resp.gz``, atomically.

    File names sort by fetch time, so ``reparse`` replays observations in the
    order they were made. The temp-file-and-rename keeps a killed process from
    leaving half a file where a reader would look.
    """
    when = fetched.fetched_at
    digest = hashlib.sha256(fetched.url.encode() + b"\0" + fetched.content).hexdigest()[:12]
    folder = cache_dir / when.strftime("%Y-%m-%d")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{when.strftime('%H%M%S%f')}-{fetched.label}-{digest}{_CACHE_SUFFIX}"
    header = {
        "url": fetched.url,
        "method": method,
        "status": fetched.status,
        "content_type": fetched.content_type,
        "fetched_at": when.isoformat(),
        "label": fetched.label,
        "request_json": fetched.request_json,
    }
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    with gzip.open(tmp, "wb", compresslevel=6) as f:
        f.write(json.dumps(header, ensure_ascii=False).encode() + b"\n")
        f.write(fetched.content)
    os.replace(tmp, path)
    return path


def read_cache(path: Path) -> CachedResponse:
    """One cache file; raises ``OSError``/``ValueError`` for a damaged one."""
    with gzip.open(path, "rb") as f:
        header = json.loads(f.readline())
        content = f.read()
    return CachedResponse(
        path=path,
        url=header["url"],
        label=header["label"],
        status=int(header["status"]),
        fetched_at=datetime.fromisoformat(header["fetched_at"]),
        content=content,
        request_json=header.get("request_json"),
    )


def cache_files(cache_dir: Path) -> list[Path]:
    """Every cache file, oldest first (names sort by fetch time)."""
    if not cache_dir.is_dir():
        return []
    return sorted(cache_dir.glob(f"*/*{_CACHE_SUFFIX}"))


def host_of(url: str) -> str:
    """``host[:port]`` of a URL, lower-cased: the key of :attr:`FetchPolicy.pacing`."""
    return urlsplit(url).netloc.lower()


def iter_cache(cache_dir: Path) -> Iterator[CachedResponse]:
    for path in cache_files(cache_dir):
        yield read_cache(path)
