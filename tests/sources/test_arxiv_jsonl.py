"""arXiv snapshot JSONL parser, on real lines of the Kaggle ``arxiv-metadata-oai-snapshot``."""

from __future__ import annotations

import gzip
import io
import json
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paperlens.errors import UnreadableInput
from paperlens.model import ParseError, Record, Version
from paperlens.sources.arxiv_fields import find_links, rfc2822_date, squash, tex_to_unicode
from paperlens.sources.arxiv_jsonl import ArxivJsonl
from paperlens.text import clean_whitespace

FIXTURES = Path(__file__).parent.parent / "fixtures"
SNAP = FIXTURES / "kaggle_snapshot"
HEAD = SNAP / "arxiv-metadata-oai-snapshot_head200.jsonl"
BATCH = SNAP / "arxiv-metadata-oai-snapshot_1006.5314-5513_batch.jsonl"


def parse(data: bytes, origin: str = "snap.jsonl") -> list[Record | ParseError]:
    return list(ArxivJsonl().parse(io.BytesIO(data), origin))


def records(data: bytes) -> list[Record]:
    out = parse(data)
    errors = [r for r in out if isinstance(r, ParseError)]
    assert not errors, errors
    return [r for r in out if isinstance(r, Record)]


@pytest.fixture(scope="module")
def snapshot() -> dict[str, Record]:
    return {r.source_key: r for r in records(HEAD.read_bytes() + BATCH.read_bytes())}


# --- exact fields of real lines --------------------------------------------------------------


def test_first_line_every_field(snapshot: dict[str, Record]) -> None:
    rec = records(HEAD.read_bytes())[0]
    assert rec == snapshot["0704.0001"]
    assert rec.source == "arxiv-jsonl"
    assert rec.source_key == rec.arxiv_id == "0704.0001"
    assert rec.location == "line 1"
    assert rec.origin == "snap.jsonl"
    assert rec.title == (
        "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies"
    )
    assert rec.abstract is not None
    assert rec.abstract.startswith("A fully differential calculation in perturbative quantum")
    assert rec.abstract.endswith("with judicious selection of events.")
    # authors_parsed, with Unicode where the authors string has TeX (Bal\'azs).
    assert rec.authors == ["C. Balázs", "E. L. Berger", "P. M. Nadolsky", "C. -P. Yuan"]
    assert rec.versions == [Version(1, date(2007, 4, 2)), Version(2, date(2007, 7, 24))]
    assert rec.version == 2
    assert rec.published == date(2007, 4, 2)
    # The latest version's date, like the Atom API's <updated>; update_date is kept aside.
    assert rec.updated == date(2007, 7, 24)
    assert rec.doi == "10.1103/physrevd.76.013009"
    assert rec.categories == ["hep-ph"]
    assert rec.comment == "37 pages, 15 figures; published version"
    assert rec.journal_ref == "Phys.Rev.D76:013009,2007"
    assert rec.extra == {
        "report_no": "ANL-HEP-PR-07-12",
        "submitter": "Pavel Nadolsky",
        "update_date": "2008-11-26",
    }
    assert rec.links == []
    assert rec.organisations == []


@pytest.mark.parametrize(
    ("arxiv_id", "field", "expected"),
    [
        ("0704.0002", "categories", ["math.CO", "cs.CG"]),  # primary first
        ("0704.0002", "authors", ["Ileana Streinu", "Louis Theran"]),
        ("0704.0009", "authors", [  # a suffix in the third slot
            "Paul Harvey", "Bruno Merin", "Tracy L. Huard", "Luisa M. Rebull", "Nicholas Chapman",
            "Neal J. Evans II", "Philip C. Myers",
        ]),
        ("0704.0020", "authors_complete", False),  # "The BABAR Collaboration, B. Aubert, et al"
        ("0704.0020", "authors", ["The BABAR Collaboration", "B. Aubert"]),
        ("0704.0033", "doi", "10.1364/josaa.23.002578"),  # two DOIs: the first is the DOI
        ("0704.0044", "versions", [
            Version(1, date(2007, 3, 31)), Version(2, date(2008, 5, 24)),
            Version(3, date(2009, 1, 24)), Version(4, date(2009, 5, 9)),
        ]),
        ("0704.0044", "organisations",
         ["Oxford", "Culham", "Maryland", "Princeton", "Iowa", "Berkeley"]),
        ("0704.0156", "comment", (  # withdrawn, and a URL in the comment
            "This paper has been withdrawn by the authors. This paper has been accepted for "
            "publication in JGR-Space Physics. The latest and complete version of the papaer can "
            "be downloaded from "
            "http://rwcc.bao.ac.cn:8001/swap/NLFFF_DBIE_code/HeHan_NLFFF_JGR.pdf "
            "(3.76 MB pdf file)"
        )),
        ("0704.0156", "links", ["http://rwcc.bao.ac.cn:8001/swap/NLFFF_DBIE_code/HeHan_NLFFF_JGR.pdf"]),
        ("0704.0024", "links", ["http://www.physik.uni-kl.de/w_hilleb/ann05.html"]),
        ("1006.5379", "authors", ["N. R. Sheeley Jr.", "A. P. Rouillard"]),  # keyname "Sheeley,"
        ("1006.5345", "organisations", ["UNLV", "UNLV, Kentucky", "Penn State"]),
        ("1006.5345", "doi", "10.1088/2041-8205/725/2/l219"),
        ("1006.5471", "version", 8),
        ("1006.5426", "organisations", ["ATLAS collaboration"]),  # "on behalf of the ..."
    ],
)  # fmt: skip
def test_line_field(
    snapshot: dict[str, Record], arxiv_id: str, field: str, expected: object
) -> None:
    assert getattr(snapshot[arxiv_id], field) == expected


def test_two_dois_kept_in_extra(snapshot: dict[str, Record]) -> None:
    assert snapshot["0704.0033"].extra["dois"] == [
        "10.1364/josaa.23.002578",
        "10.1364/josaa.32.002407",
    ]


def test_numbered_affiliations_resolved_through_the_legend(snapshot: dict[str, Record]) -> None:
    """authors_parsed gives "1 and 2"; the authors string's "((1) ...)" legend names them."""
    rec = snapshot["0704.0025"]
    assert rec.authors == ["A. S. Mishchenko", "N. Nagaosa"]
    assert rec.extra["affiliations"] == [
        [
            "CREST, Japan Science and Technology Agency",
            "Russian Research Centre ``Kurchatov Institute''",
        ],
        ["CREST, Japan Science and Technology Agency", "The University of Tokyo"],
    ]


def test_many_authors_in_order(snapshot: dict[str, Record]) -> None:
    rec = snapshot["1006.5335"]
    assert len(rec.authors) == 54
    assert rec.authors[:3] == ["ArDM Collaboration", "C. Amsler", "A. Badertscher"]
    assert rec.authors[-1] == "A. Zalewska"
    assert rec.extra["submitter"] == "Małgorzata Harańczyk"  # TeX in the submitter field


def test_every_line_is_a_complete_record(snapshot: dict[str, Record]) -> None:
    assert len(snapshot) == 400
    for rec in snapshot.values():
        assert rec.title and rec.abstract and rec.authors and rec.categories
        assert rec.versions and rec.versions[0].version == 1 and rec.published
        assert rec.updated is not None and rec.published <= rec.updated
        assert "\n" not in rec.title and "\n" not in rec.abstract
        assert rec.content_hash


def test_old_style_id_and_no_authors_parsed() -> None:
    """A line with an old-style id and only the free-text author list (built from a real line)."""
    line = json.loads(HEAD.read_bytes().splitlines()[0])
    line["id"] = "math.GT/0309136"
    del line["authors_parsed"]
    (rec,) = records(json.dumps(line).encode() + b"\n")
    assert rec.arxiv_id == "math.GT/0309136"
    assert rec.authors == ["C. Balázs", "E. L. Berger", "P. M. Nadolsky", "C.-P. Yuan"]


# --- compressed input ---------------------------------------------------------------------------


def test_gzip_detected_by_magic_bytes() -> None:
    data = HEAD.read_bytes()
    plain = records(data)
    assert records(gzip.compress(data)) == plain
    # Ingest may hand over a stream it already decompressed.
    stream = gzip.GzipFile(fileobj=io.BytesIO(gzip.compress(data)))
    assert [r for r in ArxivJsonl().parse(stream, "snap.jsonl")] == plain


def test_truncated_gzip_keeps_complete_lines() -> None:
    data = gzip.compress(HEAD.read_bytes())
    out = parse(data[: len(data) // 2])
    assert all(isinstance(r, Record) for r in out[:-1]) and len(out) > 50
    err = out[-1]
    assert isinstance(err, ParseError)
    assert err.location == f"line {len(out)}"
    assert "compressed stream breaks" in err.reason


def test_corrupt_gzip_is_a_parse_error() -> None:
    (err,) = parse(b"\x1f\x8b" + b"not really gzip at all")
    assert isinstance(err, ParseError) and err.location == "line 1"


# --- bad lines ---------------------------------------------------------------------------------


def test_malformed_lines_among_good_ones() -> None:
    lines = HEAD.read_bytes().splitlines(keepends=True)[:6]
    bad = [
        b'{"id": "0704.9999", "title": \n',  # cut JSON
        b"[1, 2, 3]\n",  # JSON, not an object
        b'{"title": "no id"}\n',
        b'{"id": "not-an-id"}\n',
        b"\xff\xfe garbage \xc3\n",  # not UTF-8
        b"   \n",  # blank lines are skipped
    ]
    data = b"".join(x for pair in zip(lines, bad, strict=True) for x in pair)
    out = parse(data)
    assert [r.location for r in out] == [f"line {n}" for n in range(1, 12)]
    assert [type(r).__name__ for r in out] == ["Record", "ParseError"] * 5 + ["Record"]
    reasons = [r.reason for r in out if isinstance(r, ParseError)]
    assert reasons[0].startswith("not valid JSON:")
    assert reasons[1] == "expected a JSON object, got list"
    assert reasons[2] == 'no "id" string'
    assert reasons[3] == "id 'not-an-id' is not an arXiv id"
    assert "UTF-8" in reasons[4] or "JSON" in reasons[4]
    assert [r.source_key for r in out if isinstance(r, Record)] == [
        "0704.0001",
        "0704.0002",
        "0704.0003",
        "0704.0004",
        "0704.0005",
        "0704.0006",
    ]


@pytest.mark.parametrize("fraction", [0.1, 0.33, 0.5, 0.77, 0.999])
def test_truncated_last_line_is_an_error(fraction: float) -> None:
    data = HEAD.read_bytes()
    cut = data[: int(len(data) * fraction)]
    out = parse(cut)
    complete = cut.count(b"\n")
    assert len(out) == complete + 1
    assert all(isinstance(r, Record) for r in out[:-1])
    err = out[-1]
    assert isinstance(err, ParseError)
    assert err.location == f"line {complete + 1}"
    assert err.reason.startswith("line is cut off")


def test_last_line_without_newline_is_fine() -> None:
    data = HEAD.read_bytes().rstrip(b"\n")
    assert len(records(data)) == 200


def test_byte_order_mark_and_crlf_line_ends() -> None:
    data = b"\xef\xbb\xbf" + HEAD.read_bytes().replace(b"\n", b"\r\n")
    assert records(data) == records(HEAD.read_bytes())


@pytest.mark.parametrize("data", [b"", b" \n\n", b'{"id": "0704.0001"}\x00\n', gzip.compress(b"")])
def test_empty_or_binary_input_is_unreadable(data: bytes) -> None:
    with pytest.raises(UnreadableInput, match=r"snap\.jsonl"):
        parse(data)


def test_reads_in_constant_memory() -> None:
    """The first record comes out after reading one buffer, not the whole file."""

    class Counting(io.BytesIO):
        read_bytes = 0

        def read(self, size: int | None = -1, /) -> bytes:
            chunk = super().read(size)
            Counting.read_bytes += len(chunk)
            return chunk

    data = HEAD.read_bytes() * 20  # 5.7 MB
    stream = Counting(data)
    first = next(iter(ArxivJsonl().parse(stream, "snap.jsonl")))
    assert isinstance(first, Record)
    assert Counting.read_bytes <= 2 * 1024 * 1024


# --- helpers -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mon, 2 Apr 2007 19:18:42 GMT", date(2007, 4, 2)),
        ("Tue, 24 Jul 2007 20:10:27 GMT", date(2007, 7, 24)),
        ("Fri, 28 Sep 2007 15:13:43 GMT", date(2007, 9, 28)),
        ("2 Apr 2007 23:30:00 -0500", date(2007, 4, 3)),  # not GMT: converted to UTC
        ("Mon, 31 Feb 2007 10:00:00 GMT", None),
        ("yesterday", None),
        ("", None),
        (None, None),
    ],
)
def test_rfc2822_date(text: str | None, expected: date | None) -> None:
    assert rfc2822_date(text) == expected


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        (("Code: https://github.com/foo/bar.",), ["https://github.com/foo/bar"]),
        (("see \\url{http://x.org/a_(b)})",), ["http://x.org/a_(b)"]),
        (("(https://example.com/x), and github.com/a/b,",),
         ["https://example.com/x", "https://github.com/a/b"]),
        (("https://a.io/x", "again https://a.io/x"), ["https://a.io/x"]),
        (("no links here: 1/2 w/o",), []),
        ((None, ""), []),
    ],
)  # fmt: skip
def test_find_links(texts: tuple[str | None, ...], expected: list[str]) -> None:
    assert find_links(*texts) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Bal\\'azs", "Balázs"),
        ('G\\"{o}del', "Gödel"),
        ("Jean-Fran\\c{c}ois", "Jean-François"),
        ("Ma{\\l}gorzata", "Małgorzata"),
        ("Pe\\~na", "Peña"),
        ("$\\alpha$ plain", "$\\alpha$ plain"),
    ],
)
def test_tex_to_unicode(text: str, expected: str) -> None:
    assert tex_to_unicode(text) == expected


@settings(max_examples=2000, deadline=None)
@given(st.text())
def test_squash_is_clean_whitespace(text: str) -> None:
    assert squash(text) == clean_whitespace(text)


# --- sniffing ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [HEAD, BATCH], ids=lambda p: p.name)
def test_sniff_accepts_snapshot_plain_and_gzip(path: Path) -> None:
    data = path.read_bytes()
    assert ArxivJsonl().sniff(data[:65536], path.name)
    assert ArxivJsonl().sniff(gzip.compress(data)[:65536], path.name + ".gz")


@pytest.mark.parametrize(
    "path",
    [
        FIXTURES / "hf_daily_papers" / "daily_papers_2024-05-29.json",
        FIXTURES / "semantic_scholar" / "paper_search_turing_title_only.json",
        FIXTURES / "arxiv_api" / "format_2026" / "recorded_wrapper_id_1605.08386.json",
        FIXTURES / "oai_pmh" / "getrecord_arXivRaw_1302.2146.xml",
    ],
    ids=lambda p: p.name,
)
def test_sniff_rejects_other_formats(path: Path) -> None:
    assert not ArxivJsonl().sniff(path.read_bytes()[:65536], path.name)


# --- properties -----------------------------------------------------------------------------

LINES = (
    HEAD.read_bytes().splitlines(keepends=True)[:40]
    + BATCH.read_bytes().splitlines(keepends=True)[:40]
)
SNIPPETS = [
    b'"',
    b"{",
    b"}",
    b"[",
    b"]",
    b"null",
    b"\n",
    b"1e999",
    b'"versions":[{"version":"v"}]',
    b'"authors_parsed":[[],[1],["a"],[""]]',
    b'"id":"hep-th/9901001v3"',
    b"\\u0000",
    b"\\ud800",
    b"[" * 200,
    b"\xff",
]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(b"".join(draw(st.lists(st.sampled_from(LINES), min_size=1, max_size=4))))
    for _ in range(draw(st.integers(0, 4))):
        op = draw(st.sampled_from(["cut", "delete", "insert", "snippet", "byte"]))
        i = draw(st.integers(0, len(data)))
        if op == "cut":
            del data[i:]
        elif op == "delete":
            del data[i : i + draw(st.integers(1, 200))]
        elif op == "insert":
            data[i:i] = draw(st.binary(max_size=24))
        elif op == "snippet":
            data[i:i] = draw(st.sampled_from(SNIPPETS))
        elif i < len(data):
            data[i] = draw(st.integers(0, 255))
    out = bytes(data)
    return gzip.compress(out) if draw(st.booleans()) else out


def _check(data: bytes) -> None:
    plain = gzip.decompress(data) if data[:2] == b"\x1f\x8b" and _gunzips(data) else data
    try:
        out = parse(data)
    except UnreadableInput:
        assert not plain.strip() or b"\x00" in plain[:8192]
        return
    for item in out:
        assert isinstance(item, Record | ParseError)
        if isinstance(item, Record):
            assert item.arxiv_id and item.source_key == item.arxiv_id
            assert item.content_hash


def _gunzips(data: bytes) -> bool:
    try:
        gzip.decompress(data)
    except (OSError, EOFError):
        return False
    return True


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_lines_yield_only_records_and_errors(data: bytes) -> None:
    _check(data)


@settings(max_examples=800, deadline=None)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_yield_only_records_and_errors(data: bytes) -> None:
    _check(data)


@settings(max_examples=500, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.sampled_from(
                        ["id", "title", "authors", "authors_parsed", "versions", "doi",
                         "categories", "abstract", "comments", "version", "created"]), inner,
                        max_size=6),
                    max_leaves=20))  # fmt: skip
def test_any_json_value_per_line(value: object) -> None:
    _check(json.dumps(value).encode() + b"\n")
