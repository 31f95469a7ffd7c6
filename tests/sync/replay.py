"""A real HTTP server on 127.0.0.1 that replays recorded responses and injects faults.

The live sources are tested through a socket, not a mock transport: the
fetcher, its timeouts, its connection handling and the parsers all run as in
production, and only the base URLs point here. The server serves:

* ``/api/query`` (arXiv API): the real entries of ``fixtures/arxiv_api/format_2026``,
  paged by ``start``/``max_results`` inside the real feed header, or looked up by
  ``id_list``;
* ``/oai`` (OAI-PMH): the real ``arXiv``-format records of ``fixtures/oai_pmh``,
  one page each, chained by resumption tokens; the recorded ``noRecordsMatch``
  error for an unknown set;
* ``/api/daily_papers`` (Hugging Face): the recorded day lists by ``date``, ``[]``
  for other days;
* ``/graph/v1/paper/batch`` (Semantic Scholar): whatever the test sets.

Faults are queued per path prefix and consumed one request at a time: an HTTP
status with headers (429 + ``Retry-After``, 503), a dropped connection, a body
cut short of its ``Content-Length``, a well-framed but truncated body, a slow
response, an HTML error page, an empty body, or a request held until the test
releases it (to kill a client mid-run). Every request is logged with its
arrival time and headers so tests can check pacing and the User-Agent.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from paperlens.sync.settings import SyncSettings

FIXTURES = Path(__file__).parent.parent / "fixtures"

ERROR_HTML = (
    b"<!DOCTYPE html><html><head><title>503 Service Temporarily Unavailable</title></head>"
    b"<body><h1>Service Temporarily Unavailable</h1></body></html>"
)


def _entries() -> list[str]:
    """Every distinct entry of the recorded 2026-format arXiv API feeds, in file order."""
    seen: dict[str, str] = {}
    folder = FIXTURES / "arxiv_api" / "format_2026"
    for name in (
        "q_testing_start0_max10.xml",
        "q_testing_start20_max10.xml",
        "id_1605.08386.xml",
        "id_1707.08567.xml",
        "id_2104.12255v1.xml",
    ):
        text = (folder / name).read_text(encoding="utf-8")
        for entry in re.findall(r"<entry>.*?</entry>", text, re.DOTALL):
            ident = re.search(r"<id>(.*?)</id>", entry)
            assert ident
            seen.setdefault(ident.group(1), entry)
    return list(seen.values())


def _feed_head() -> str:
    text = (FIXTURES / "arxiv_api" / "format_2026" / "q_testing_start0_max10.xml").read_text(
        encoding="utf-8"
    )
    return text[: text.index("<entry>")]


def _oai_records() -> list[str]:
    """The recorded OAI-PMH records in the ``arXiv`` metadata format."""
    folder = FIXTURES / "oai_pmh"
    records: list[str] = []
    for name in (
        "listrecords_arXiv_physics-hep-ex_2017-12-14.xml",
        "getrecord_arXiv_1305.0014.xml",
        "getrecord_arXiv_1512.07978.xml",
    ):
        text = (folder / name).read_text(encoding="utf-8")
        records += re.findall(r"<record>.*?</record>", text, re.DOTALL)
    return records


def entry_id(entry: str) -> str:
    match = re.search(r"<id>http://arxiv.org/abs/(.*?)(v\d+)?</id>", entry)
    assert match
    return match.group(1)


def oai_id(record: str) -> str:
    match = re.search(r"<identifier>oai:arXiv.org:(.*?)</identifier>", record)
    assert match
    return match.group(1)


ARXIV_ENTRIES = _entries()
OAI_RECORDS = _oai_records()
FEED_HEAD = _feed_head()


@dataclass(slots=True)
class Logged:
    """One request as the server saw it."""

    at: float
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


@dataclass(slots=True)
class Fault:
    """What to do to one request instead of (or before) answering it."""

    kind: str  # status | drop | short | cut | slow | html | empty | hold | body
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    body: bytes = b""
    release: threading.Event | None = None


def status(code: int, **headers: str) -> Fault:
    return Fault(
        "status", status=code, headers={k.replace("_", "-"): v for k, v in headers.items()}
    )


def drop() -> Fault:
    return Fault("drop")


def short() -> Fault:
    """Promise the whole body in Content-Length, send half, close."""
    return Fault("short")


def cut() -> Fault:
    """A well-framed response whose body is the first half of the real one."""
    return Fault("cut")


def slow(seconds: float) -> Fault:
    return Fault("slow", seconds=seconds)


def html() -> Fault:
    return Fault("html")


def empty() -> Fault:
    return Fault("empty")


def hold(release: threading.Event) -> Fault:
    return Fault("hold", release=release)


def body(content: bytes, code: int = 200, content_type: str = "application/json") -> Fault:
    return Fault("body", status=code, body=content, headers={"Content-Type": content_type})


class ReplayServer:
    """The server, its request log and its fault queue."""

    def __init__(self) -> None:
        self.log: list[Logged] = []
        self.faults: list[tuple[str, dict[str, str], Fault]] = []
        self.lock = threading.Lock()
        self.arxiv_entries = list(ARXIV_ENTRIES)
        self.oai_records = list(OAI_RECORDS)
        self.oai_page_size = 1
        self.expired_tokens: set[str] = set()
        self.hf_days: dict[str, bytes] = {
            p.stem.removeprefix("daily_papers_"): p.read_bytes()
            for p in (FIXTURES / "hf_daily_papers").glob("daily_papers_*.json")
        }
        self.hf_transform: Callable[[bytes], bytes] | None = None
        self.s2_response: Callable[[list[str]], bytes] | None = None
        self.received = threading.Condition(self.lock)
        handler = type("Handler", (_Handler,), {"replay": self})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> ReplayServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def env(self) -> dict[str, str]:
        """``PAPERLENS_*`` URLs for a subprocess talking to this server."""
        return {
            "PAPERLENS_ARXIV_API_URL": f"{self.base}/api/query",
            "PAPERLENS_ARXIV_OAI_URL": f"{self.base}/oai",
            "PAPERLENS_HF_API_URL": f"{self.base}/api/daily_papers",
            "PAPERLENS_S2_API_URL": f"{self.base}/graph/v1",
        }

    def fail(self, prefix: str, *faults: Fault, where: dict[str, str] | None = None) -> None:
        """Apply ``faults``, one per request, to the next requests whose path starts so.

        ``where`` narrows them to requests with those query parameters.
        """
        with self.lock:
            self.faults.extend((prefix, dict(where or {}), f) for f in faults)

    def requests(self, prefix: str = "/") -> list[Logged]:
        with self.lock:
            return [r for r in self.log if r.path.startswith(prefix)]

    def wait_for(self, predicate: Callable[[list[Logged]], bool], timeout: float = 30) -> None:
        """Block until the log satisfies ``predicate`` (no sleeping on a guess)."""
        deadline = time.monotonic() + timeout
        with self.received:
            while not predicate(self.log):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("the server never saw the expected requests")
                self.received.wait(left)

    def _take_fault(self, path: str, query: dict[str, str]) -> Fault | None:
        with self.lock:
            for i, (prefix, where, fault) in enumerate(self.faults):
                if path.startswith(prefix) and all(query.get(k) == v for k, v in where.items()):
                    del self.faults[i]
                    return fault
        return None

    # -- the recorded services ---------------------------------------------

    def arxiv(self, query: dict[str, str]) -> tuple[int, str, bytes]:
        start = int(query.get("start", 0))
        size = int(query.get("max_results", 10))
        if query.get("id_list"):
            wanted = [i.split("v")[0] if re.match(r"\d{4}\.", i) else i for i in
                      query["id_list"].split(",")]  # fmt: skip
            if any(not re.fullmatch(r"\d{4}\.\d{4,5}|[a-z\-]+(\.[A-Z]{2})?/\d{7}", w)
                   for w in wanted):  # fmt: skip
                return 400, "application/atom+xml", self._arxiv_error(query["id_list"])
            chosen = [e for e in self.arxiv_entries if entry_id(e) in wanted]
            return 200, "application/atom+xml", self._feed(chosen, len(chosen), 0)
        chosen = self.arxiv_entries[start : start + size]
        return 200, "application/atom+xml", self._feed(chosen, len(self.arxiv_entries), start)

    def _feed(self, entries: list[str], total: int, start: int) -> bytes:
        head = re.sub(r"<opensearch:totalResults>\d+<", f"<opensearch:totalResults>{total}<",
                      FEED_HEAD)  # fmt: skip
        head = re.sub(r"<opensearch:startIndex>\d+<", f"<opensearch:startIndex>{start}<", head)
        return (head + "".join(e + "\n  " for e in entries) + "</feed>\n").encode()

    def _arxiv_error(self, ident: str) -> bytes:
        entry = (
            "<entry><id>https://arxiv.org/api/errors#incorrect_id_format_for_"
            f"{ident}</id><title>Error</title><summary>incorrect id format for {ident}"
            "</summary></entry>"
        )
        return self._feed([entry], 1, 0)

    def oai(self, query: dict[str, str]) -> tuple[int, str, bytes]:
        head = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<OAI-PMH xmlns="http://www.openarchives.org/'
            'OAI/2.0/">\n<responseDate>2017-12-14T13:00:41Z</responseDate>\n'
            '<request verb="ListRecords">http://export.arxiv.org/oai2</request>\n'
        )
        if query.get("set") == "moo":
            recorded = FIXTURES / "oai_pmh" / "error_noRecordsMatch.xml"
            return 200, "text/xml", recorded.read_bytes()
        token = query.get("resumptionToken")
        if token in self.expired_tokens:
            self.expired_tokens.discard(token)  # a fresh harvest gets fresh tokens
            return 200, "text/xml", (head + '<error code="badResumptionToken">The value of '
                                     "the resumptionToken argument is invalid or expired."
                                     "</error>\n</OAI-PMH>\n").encode()  # fmt: skip
        page = int(token.rsplit("-", 1)[1]) if token else 0
        size = self.oai_page_size
        chosen = self.oai_records[page * size : (page + 1) * size]
        more = (page + 1) * size < len(self.oai_records)
        total = len(self.oai_records)
        next_token = f"tok-{page + 1}" if more else ""
        resumption = (
            f'<resumptionToken cursor="{page * size}" completeListSize="{total}">'
            f"{next_token}</resumptionToken>\n"
        )
        text = head + "<ListRecords>\n" + "\n".join(chosen) + "\n" + resumption
        return 200, "text/xml", (text + "</ListRecords>\n</OAI-PMH>\n").encode()

    def hf(self, query: dict[str, str]) -> tuple[int, str, bytes]:
        day = query.get("date", "")
        content = self.hf_days.get(day, b"[]")
        if self.hf_transform is not None:
            content = self.hf_transform(content)
        limit, page = int(query.get("limit", 50)), int(query.get("p", 0))
        items = json.loads(content)
        if isinstance(items, list) and (len(items) > limit or page > 0):
            content = json.dumps(items[page * limit : (page + 1) * limit]).encode()
        return 200, "application/json; charset=utf-8", content

    def s2(self, payload: bytes) -> tuple[int, str, bytes]:
        ids = json.loads(payload)["ids"]
        if self.s2_response is None:
            return 200, "application/json", json.dumps([None] * len(ids)).encode()
        return 200, "application/json", self.s2_response(ids)


class _Handler(BaseHTTPRequestHandler):
    replay: ReplayServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def handle(self) -> None:
        # A client killed with SIGKILL (the resume tests) or timing out leaves
        # the socket dead under a reply being written: that is the test, not an error.
        try:
            super().handle()
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True

    def do_GET(self) -> None:
        self._serve(b"")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        self._serve(self.rfile.read(length))

    def _serve(self, payload: bytes) -> None:
        replay = self.replay
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        with replay.received:
            replay.log.append(
                Logged(time.monotonic(), self.command, parts.path, query,
                       {k.lower(): v for k, v in self.headers.items()}, payload)
            )  # fmt: skip
            replay.received.notify_all()
        fault = replay._take_fault(parts.path, query)
        if fault is not None:
            if fault.kind == "drop":
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if fault.kind == "hold":
                assert fault.release is not None
                fault.release.wait(60)
            if fault.kind == "slow":
                time.sleep(fault.seconds)
            if fault.kind == "status":
                self._reply(fault.status, "text/plain", f"HTTP {fault.status}".encode(),
                            fault.headers)  # fmt: skip
                return
            if fault.kind == "html":
                self._reply(200, "text/html; charset=utf-8", ERROR_HTML)
                return
            if fault.kind == "empty":
                self._reply(200, "application/json", b"")
                return
            if fault.kind == "body":
                self._reply(fault.status, fault.headers["Content-Type"], fault.body)
                return
        if parts.path == "/api/query":
            code, ctype, content = replay.arxiv(query)
        elif parts.path == "/oai":
            code, ctype, content = replay.oai(query)
        elif parts.path == "/api/daily_papers":
            code, ctype, content = replay.hf(query)
        elif parts.path == "/graph/v1/paper/batch":
            code, ctype, content = replay.s2(payload)
        else:
            code, ctype, content = 404, "text/plain", b"not found"
        if fault is not None and fault.kind == "short":
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(content)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(content[: len(content) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault is not None and fault.kind == "cut":
            content = content[: len(content) // 2]
        self._reply(code, ctype, content)

    def _reply(
        self, code: int, ctype: str, content: bytes, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(content)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(content)


def settings_for(server: ReplayServer, **overrides: object) -> SyncSettings:
    """Live settings with only the base URLs (and test-sized waits) changed."""
    values: dict[str, object] = {
        "arxiv_api_url": f"{server.base}/api/query",
        "arxiv_oai_url": f"{server.base}/oai",
        "hf_api_url": f"{server.base}/api/daily_papers",
        "s2_api_url": f"{server.base}/graph/v1",
        "contact_email": "sync-tests@example.org",
        "arxiv_pacing_s": 0.0,
        "hf_pacing_s": 0.0,
        "s2_pacing_s": 0.0,
        "backoff_base_s": 0.02,
        "connect_timeout_s": 2.0,
        "read_timeout_s": 2.0,
    }
    values.update(overrides)
    return SyncSettings(**values)  # type: ignore[arg-type]
