"""arXiv API Atom parser, on recorded classic (2016) and current (2026) responses."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paperlens.errors import UnreadableInput
from paperlens.model import ParseError, Record, Version
from paperlens.sources import get_source
from paperlens.sources.arxiv_atom import ArxivAtom, feed_totals

FIXTURES = Path(__file__).parent.parent / "fixtures"
API = FIXTURES / "arxiv_api"
CLASSIC = API / "classic_2016"
CURRENT = API / "format_2026"
ATOM_FILES = sorted(API.glob("*/*.xml"))


def parse(data: bytes, origin: str = "feed.xml") -> list[Record | ParseError]:
    return list(ArxivAtom().parse(io.BytesIO(data), origin))


def records(path: Path) -> list[Record]:
    out = parse(path.read_bytes(), str(path))
    errors = [r for r in out if isinstance(r, ParseError)]
    assert not errors, errors
    return [r for r in out if isinstance(r, Record)]


def by_id(path: Path) -> dict[str, Record]:
    return {r.source_key: r for r in records(path)}


# --- exact fields of real entries --------------------------------------------------------


def test_classic_entry_every_field() -> None:
    (rec,) = records(CLASSIC / "id_list_1111.2011v2.xml")
    assert rec.source == "arxiv-atom"
    assert rec.source_key == rec.arxiv_id == "1111.2011"
    assert rec.location == "record 1"
    assert rec.origin.endswith("id_list_1111.2011v2.xml")
    assert rec.version == 2
    # <published> is v1's date, <updated> the returned version's (v2).
    assert rec.versions == [Version(1, date(2011, 11, 8)), Version(2, date(2012, 4, 2))]
    assert rec.published == date(2011, 11, 8)
    assert rec.updated == date(2012, 4, 2)
    # The classic feed hard-wraps the title; the line break is collapsed.
    assert rec.title == (
        "Quantum Criticality for Extended Nodes on a Bethe Lattice in the Large Connectivity Limit"
    )
    assert rec.abstract is not None
    assert rec.abstract.startswith(
        "Theoretical description of anisotropic systems, such as layered"
    )
    assert rec.abstract.endswith("to the theory describing a single node.")
    assert "\n" not in rec.abstract and "  " not in rec.abstract
    assert rec.authors == ["James M. Murray", "Adrian Del Maestro", "Zlatko Tesanovic"]
    assert rec.doi == "10.1103/physrevb.85.115117"
    assert rec.comment == "8 pages, 3 figures. Published version"
    assert rec.journal_ref == "Phys. Rev. B 85, 115117 (2012)"
    assert rec.categories == ["cond-mat.str-el", "cond-mat.stat-mech"]
    assert rec.organisations == []
    assert rec.links == []
    assert rec.extra == {}
    # The feed's own <updated> (2016-10-09T00:00:00-04:00) is when arXiv said it, in UTC.
    assert rec.observed_at == datetime(2016, 10, 9, 4, 0, tzinfo=UTC)


def test_current_entry_every_field() -> None:
    (rec,) = records(CURRENT / "id_1605.08386.xml")
    assert rec.arxiv_id == "1605.08386"
    assert rec.version == 1
    assert rec.versions == [Version(1, date(2016, 5, 26))]
    assert rec.title == "Heat-bath random walks with Markov bases"
    assert rec.authors == ["Caprice Stanley", "Tobias Windisch"]
    # arxiv:primary_category comes after the categories in this serialisation.
    assert rec.categories == ["math.CO", "math.ST"]
    assert rec.comment == "20 pages, 3 figures"
    assert rec.doi is None
    assert rec.journal_ref is None
    assert rec.published == rec.updated == date(2016, 5, 26)
    assert rec.observed_at == datetime(2026, 4, 12, 22, 10, 19, tzinfo=UTC)


@pytest.mark.parametrize(
    ("path", "arxiv_id", "field", "expected"),
    [
        # Old-style ids keep their archive; the version is split off.
        (CLASSIC / "search_au_del_maestro.xml", "cond-mat/0412498", "version", 1),
        (CLASSIC / "search_au_del_maestro.xml", "cond-mat/0607501", "versions",
         [Version(1, date(2006, 7, 19)), Version(2, date(2006, 11, 6))]),
        (CLASSIC / "search_au_del_maestro.xml", "1303.6954", "authors",
         ["B. Kulchytskyy", "G. Gervais", "A. Del Maestro"]),
        (CLASSIC / "search_au_del_maestro.xml", "1201.4869", "doi", "10.1142/s021797921244002x"),
        (CLASSIC / "search_au_del_maestro.xml", "1412.6529", "categories",
         ["cond-mat.quant-gas", "quant-ph"]),
        (CLASSIC / "search_au_del_maestro.xml", "0807.2873", "journal_ref",
         "Annals of Physics 324, 523 (2009)."),
        (CLASSIC / "search_au_del_maestro_AND_ti_checkerboard.xml", "cond-mat/0603029", "title",
         "From stripe to checkerboard order on the square lattice in the presence of "
         "quenched disorder"),
        (CURRENT / "id_2104.12255v1.xml", "2104.12255", "title", "0"),  # a falsy title is kept
        (CURRENT / "id_1707.08567.xml", "1707.08567", "doi", None),
        # 2026: the DOI comes after the authors, its link is https://doi.org/...
        (CURRENT / "q_testing_start0_max10.xml", "2202.12139", "doi",
         "10.1109/icstw55395.2022.00035"),
        (CURRENT / "q_testing_start0_max10.xml", "2204.08348", "versions",
         [Version(1, date(2022, 4, 18)), Version(3, date(2022, 7, 6))]),
        (CURRENT / "q_testing_start0_max10.xml", "2005.14124", "categories",
         ["cs.SE", "cs.CR", "cs.LG"]),
        (CURRENT / "q_testing_start0_max10.xml", "2405.13786", "authors",
         ["Aurora Ramírez", "Mario Berrios", "José Raúl Romero", "Robert Feldt"]),
        (CURRENT / "q_testing_start20_max10.xml", "2306.03845", "title",
         "$ω$Test: WebView-Oriented Testing for Android Applications"),
        (CURRENT / "q_testing_start20_max10.xml", "2409.05654", "version", 9),
        (CURRENT / "q_testing_start20_max10.xml", "2104.11069", "links",
         ["https://icst2021.icmc.usp.br/details/iteqs-2021-papers/4/"
          "Online-GANs-for-Automatic-Performance-Testing"]),
        (CURRENT / "q_testing_start20_max10.xml", "2106.13414", "categories",
         ["cs.DS", "cs.IT", "math.PR", "math.ST", "stat.ML"]),
    ],
)  # fmt: skip
def test_entry_field(path: Path, arxiv_id: str, field: str, expected: object) -> None:
    assert getattr(by_id(path)[arxiv_id], field) == expected


def test_34_authors_in_order_with_non_ascii() -> None:
    (rec,) = records(CURRENT / "id_1707.08567.xml")
    assert len(rec.authors) == 34
    assert rec.authors[:2] == ["Kees A. Schouhamer Immink", "Stan Baggen"]
    assert rec.authors[-1] == "Hirosuke Yamamoto"
    assert "Dirk Wübben" in rec.authors


def test_feed_order_and_locations() -> None:
    recs = records(CLASSIC / "search_au_del_maestro.xml")
    assert [r.source_key for r in recs] == [
        "1201.4869",
        "cond-mat/0412498",
        "cond-mat/0603029",
        "1005.5383",
        "1303.6954",
        "1312.6177",
        "1412.6529",
        "cond-mat/0607501",
        "cond-mat/0702661",
        "0807.2873",
    ]
    assert [r.location for r in recs] == [f"record {n}" for n in range(1, 11)]


@pytest.mark.parametrize("path", ATOM_FILES, ids=lambda p: p.name)
def test_every_entry_is_complete(path: Path) -> None:
    """Both serialisations fill the same fields for every entry."""
    for rec in records(path):
        assert rec.title and rec.abstract and rec.authors and rec.categories
        assert rec.version is not None and rec.versions[0].version == 1
        assert rec.published is not None and rec.updated is not None
        assert rec.published <= rec.updated
        assert rec.content_hash  # JSON-safe throughout


def test_affiliations_become_organisations() -> None:
    """``<arxiv:affiliation>`` under an author, built from a real entry of the classic feed."""
    data = (CLASSIC / "id_list_1111.2011v2.xml").read_bytes()
    data = data.replace(
        b"<name>Adrian Del Maestro</name>",
        b"<name>Adrian Del Maestro</name>"
        b'<arxiv:affiliation xmlns:arxiv="http://arxiv.org/schemas/atom">'
        b"University of Vermont</arxiv:affiliation>",
    ).replace(
        b"<name>Zlatko Tesanovic</name>",
        b"<name>Zlatko Tesanovic</name>"
        b'<arxiv:affiliation xmlns:arxiv="http://arxiv.org/schemas/atom">'
        b"for the Johns Hopkins University</arxiv:affiliation>",
    )
    (rec,) = [r for r in parse(data) if isinstance(r, Record)]
    assert rec.organisations == ["University of Vermont", "Johns Hopkins University"]
    assert rec.extra["affiliations"] == [
        [],
        ["University of Vermont"],
        ["for the Johns Hopkins University"],
    ]


# --- empty results, errors, feed totals ----------------------------------------------------


def test_empty_result_is_no_records_and_no_error() -> None:
    assert parse((CURRENT / "id_0000.0000_empty.xml").read_bytes()) == []


def _error_feed() -> bytes:
    """The documented error shape (one ``.../api/errors#...`` entry) in a real feed."""
    data = (CURRENT / "id_0000.0000_empty.xml").read_bytes()
    entry = (
        b"<entry><id>https://arxiv.org/api/errors#incorrect_id_format_for_1234</id>"
        b"<title>Error</title><summary>incorrect id format for 1234</summary>"
        b"<author><name>arXiv api core</name></author></entry>"
    )
    return data.replace(b"</feed>", entry + b"</feed>")


def test_error_feed_is_a_parse_error_with_arxivs_message() -> None:
    (err,) = parse(_error_feed(), "q.xml")
    assert isinstance(err, ParseError)
    assert err.origin == "q.xml"
    assert err.location == "record 1"
    assert err.reason == "arXiv API error: incorrect id format for 1234"


@pytest.mark.parametrize(
    ("path", "totals"),
    [
        (CLASSIC / "id_list_1111.2011v2.xml", (1, 0, 10)),
        (CLASSIC / "search_au_del_maestro.xml", (31, 0, 10)),
        (CURRENT / "id_0000.0000_empty.xml", (0, 0, 100)),
        (CURRENT / "q_testing_start0_max10.xml", (214881, 0, 10)),
        (CURRENT / "q_testing_start20_max10.xml", (214881, 20, 10)),
    ],
    ids=lambda v: v.name if isinstance(v, Path) else None,
)
def test_feed_totals(path: Path, totals: tuple[int, int, int]) -> None:
    data = path.read_bytes()
    assert feed_totals(data) == totals
    # The totals precede the entries, so a page cut after them still has them.
    cut = data.index(b"<entry>") + 10 if b"<entry>" in data else len(data)
    assert feed_totals(data[:cut]) == totals


@pytest.mark.parametrize("data", [b"", b"<feed", b"not xml", b"<a><b/></a>"])
def test_feed_totals_absent(data: bytes) -> None:
    assert feed_totals(data) == (None, None, None)


# --- broken and hostile input -------------------------------------------------------------


@pytest.mark.parametrize("fraction", [0.05, 0.2, 0.37, 0.5, 0.63, 0.81, 0.95, 0.999])
@pytest.mark.parametrize(
    "path",
    [CLASSIC / "search_au_del_maestro.xml", CURRENT / "q_testing_start0_max10.xml"],
    ids=lambda p: p.name,
)
def test_truncated_feed_keeps_complete_entries(path: Path, fraction: float) -> None:
    data = path.read_bytes()
    cut = data[: int(len(data) * fraction)]
    out = parse(cut)
    complete = cut.count(b"</entry>")
    assert [r.source_key for r in out[:-1]] == [r.source_key for r in records(path)][:complete]
    err = out[-1]
    assert isinstance(err, ParseError)
    last_line = cut.count(b"\n") + 1
    assert err.location.startswith(f"line {last_line}, column ")
    assert f"after {complete} complete entries" in err.reason


def test_dtd_is_refused_not_expanded() -> None:
    data = (CLASSIC / "id_list_1111.2011v2.xml").read_bytes()
    bomb = (
        b'<!DOCTYPE feed [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>\n'
    )
    data = data.replace(b"<feed", bomb + b"<feed", 1).replace(b"Zlatko", b"&c;")
    (err,) = parse(data)
    assert isinstance(err, ParseError)
    assert err.location == "document"
    assert "DTD" in err.reason


def test_other_xml_is_refused_as_a_whole() -> None:
    (err,) = parse((FIXTURES / "oai_pmh" / "getrecord_arXiv_1305.0014.xml").read_bytes())
    assert isinstance(err, ParseError)
    assert err.reason == "not an Atom feed (root <OAI-PMH>)"


@pytest.mark.parametrize("data", [b"", b"  \n", b"<feed>\x00\x00</feed>"])
def test_empty_or_binary_input_is_unreadable(data: bytes) -> None:
    with pytest.raises(UnreadableInput, match=r"feed\.xml"):
        parse(data)


# --- sniffing ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ATOM_FILES, ids=lambda p: p.name)
def test_sniff_accepts_recorded_feeds(path: Path) -> None:
    assert ArxivAtom().sniff(path.read_bytes()[:65536], path.name)
    assert get_source("arxiv-atom").name == "arxiv-atom"


@pytest.mark.parametrize(
    "path",
    [
        CURRENT / "recorded_wrapper_id_1605.08386.json",  # a feed inside a JSON string
        FIXTURES / "oai_pmh" / "listrecords_arXiv_physics-hep-ex_2017-12-14.xml",
        FIXTURES / "kaggle_snapshot" / "arxiv-metadata-oai-snapshot_head200.jsonl",
        FIXTURES / "hf_daily_papers" / "daily_papers_2024-05-29.json",
    ],
    ids=lambda p: p.name,
)
def test_sniff_rejects_other_formats(path: Path) -> None:
    assert not ArxivAtom().sniff(path.read_bytes()[:65536], path.name)


# --- properties ----------------------------------------------------------------------------

SEEDS = [p.read_bytes() for p in ATOM_FILES]
SNIPPETS = [
    b"<",
    b">",
    b"&",
    b"&amp;",
    b"]]>",
    b"<!DOCTYPE feed>",
    b"<!ENTITY x 'y'>",
    b"<entry>",
    b"</entry>",
    b"<id>http://arxiv.org/abs/",
    b"v999999999999999999999",
    b"<id>https://arxiv.org/api/errors#x</id>",
    b"<!--",
    b"<?pi x?>",
    b"\xc3\xa9",
    b"\xff",
    b'<?xml version="1.0" encoding="bogus"?>',
]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["cut", "delete", "insert", "snippet", "byte"]))
        i = draw(st.integers(0, len(data)))
        if op == "cut":
            del data[i:]
        elif op == "delete":
            del data[i : i + draw(st.integers(1, 300))]
        elif op == "insert":
            data[i:i] = draw(st.binary(max_size=24))
        elif op == "snippet":
            data[i:i] = draw(st.sampled_from(SNIPPETS))
        elif i < len(data):
            data[i] = draw(st.integers(0, 255))
    return bytes(data)


def _check(data: bytes) -> None:
    try:
        out = parse(data)
    except UnreadableInput:
        assert not data.strip() or b"\x00" in data[:65536][:8192]
        return
    for item in out:
        assert isinstance(item, Record | ParseError)
        if isinstance(item, Record):
            assert item.arxiv_id and item.source_key == item.arxiv_id
            assert item.content_hash
    assert (
        sum(isinstance(item, ParseError) and item.location.startswith("line") for item in out) <= 1
    )


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_feeds_yield_only_records_and_errors(data: bytes) -> None:
    _check(data)


@settings(max_examples=600, deadline=None)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_yield_only_records_and_errors(data: bytes) -> None:
    _check(data)
