"""arXiv OAI-PMH parser, on recorded GetRecord/ListRecords pages (arXiv and arXivRaw)."""

from __future__ import annotations

import contextlib
import io
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paperlens.errors import UnreadableInput
from paperlens.model import ParseError, Record, Version
from paperlens.sources.arxiv_authors import split_authors
from paperlens.sources.arxiv_oai import ArxivOai, resumption_token

FIXTURES = Path(__file__).parent.parent / "fixtures"
OAI = FIXTURES / "oai_pmh"
OAI_FILES = sorted(OAI.glob("*.xml"))
LIST_HEP_EX = OAI / "listrecords_arXiv_physics-hep-ex_2017-12-14.xml"
RAW_1302 = OAI / "getrecord_arXivRaw_1302.2146.xml"
ARXIV_1305 = OAI / "getrecord_arXiv_1305.0014.xml"
ARXIV_1512 = OAI / "getrecord_arXiv_1512.07978.xml"
TOKEN = b'<resumptionToken cursor="0" completeListSize="58011">726959|1001</resumptionToken>'


def parse(data: bytes, origin: str = "page.xml") -> list[Record | ParseError]:
    return list(ArxivOai().parse(io.BytesIO(data), origin))


def records(path: Path) -> list[Record]:
    out = parse(path.read_bytes(), str(path))
    errors = [r for r in out if isinstance(r, ParseError)]
    assert not errors, errors
    return [r for r in out if isinstance(r, Record)]


# --- metadataPrefix=arXiv ------------------------------------------------------------------


def test_arxiv_format_every_field() -> None:
    (rec,) = records(ARXIV_1305)
    assert rec.source == "arxiv-oai"
    assert rec.source_key == rec.arxiv_id == "1305.0014"
    assert rec.location == "record 1"
    assert rec.title == (
        "Framework for maximum likelihood analysis of neutron beta decay observables to "
        "resolve the limits of the V-A law"
    )
    assert rec.abstract is not None
    assert rec.abstract.startswith("We assess the ability of future neutron beta decay")
    assert rec.authors == ["S. Gardner", "B. Plaster"]
    assert rec.categories == ["hep-ph", "hep-lat", "nucl-ex", "nucl-th"]
    assert rec.doi == "10.1103/physrevc.87.065504"
    assert rec.journal_ref == "Phys. Rev. C 87, 065504 (2013)"
    assert rec.comment == "as-published version, 16 pages, 2 figures"
    # created = v1; updated = the latest version, whose number the format does not give.
    assert rec.published == date(2013, 4, 30)
    assert rec.updated == date(2013, 6, 28)
    assert rec.versions == [Version(1, date(2013, 4, 30))]
    assert rec.version is None
    assert rec.extra == {
        "license": "http://arxiv.org/licenses/nonexclusive-distrib/1.0/",
        "oai_datestamp": "2013-07-02",
    }
    assert rec.observed_at == datetime(2017, 8, 24, 11, 34, 20, tzinfo=UTC)


def test_arxiv_format_single_version_and_collaboration_keyname() -> None:
    (rec,) = records(ARXIV_1512)
    # The whole name sits in <keyname>, collaboration included; the collaboration is split
    # off so the surname is Montaruli, and kept as the author's affiliation.
    assert rec.authors == ["Teresa Maria Montaruli"]
    assert rec.extra["affiliations"] == [["for the IceCube Collaboration"]]
    assert rec.organisations == ["IceCube Collaboration"]
    # No <updated>: only v1 exists, so it is both the first and the latest version.
    assert rec.version == 1
    assert rec.versions == [Version(1, date(2015, 12, 25))]
    assert rec.published == rec.updated == date(2015, 12, 25)
    assert rec.comment == (
        "Proc. of CRIS2015, Gallipoli, Italy, 8 pages, 17 figures, to appear in Elsevier in "
        "Nuclear and Particle Physics Proceedings (2016)"
    )
    assert rec.categories == ["astro-ph.HE"]
    assert rec.doi is None


@pytest.mark.parametrize(
    ("arxiv_id", "field", "expected"),
    [
        ("1706.05371", "authors", [
            "Tyler Anderson", "Jacob Cutter", "Navneet Dhaliwal", "Olivia Dalager",
            "Benjamin Godfrey", "Seth Hillbrand", "Michael Irving", "Aaron Manalaysay",
            "Juan Montoya", "James Morad", "Christian Neher", "Dustin Stolp", "Mani Tripathi",
        ]),
        ("1706.05371", "title",
         "Evaluation of Silicon Photomultipliers for use as Photosensors in Liquid "
         "Xenon Detectors"),
        ("1706.05371", "categories", ["physics.ins-det", "hep-ex"]),
        ("1706.09418", "doi", "10.1140/epjc/s10052-017-5414-4"),
        ("1706.09418", "journal_ref", "Eur. Phys. J. C (2017) 77:856"),
        ("1706.09418", "authors",
         ["Daniel Dercks", "Herbi Dreiner", "Manuel E. Krauss", "Toby Opferkuch",
          "Annika Reinert"]),
        ("1707.00874", "categories", ["hep-ph", "astro-ph.CO", "hep-ex"]),
        ("1707.00874", "published", date(2017, 7, 4)),
        ("1707.00874", "updated", date(2017, 12, 13)),
        ("1707.00874", "comment",
         "Typos corrected, references added, version accepted for publication in PRD"),
    ],
)  # fmt: skip
def test_list_records_field(arxiv_id: str, field: str, expected: object) -> None:
    recs = {r.source_key: r for r in records(LIST_HEP_EX)}
    assert getattr(recs[arxiv_id], field) == expected


@pytest.mark.parametrize(
    ("forenames", "keyname", "name", "affiliations"),
    [
        ("Dipanwita Dutta for the CMS", "Collaboration", "Dipanwita Dutta",
         ["for the CMS Collaboration"]),
        ("Keck", "Array", "Keck Array", []),
        (None, ":", None, None),  # debris of arXiv's own name splitting
        ("R.", "W.", "R. W.", []),
    ],
)  # fmt: skip
def test_arxiv_format_author_names(
    forenames: str | None, keyname: str, name: str | None, affiliations: list[str] | None
) -> None:
    """Author elements as arXiv writes them (1607.00786, 1603.05976), in a real record."""
    author = f"<keyname>{keyname}</keyname>"
    if forenames:
        author = f"<forenames>{forenames}</forenames>" + author
    data = ARXIV_1512.read_bytes().replace(
        b"<keyname>Teresa Maria Montaruli for the IceCube Collaboration</keyname>",
        author.encode(),
    )
    (rec,) = [r for r in parse(data) if isinstance(r, Record)]
    if name is None:
        assert rec.authors == []
    else:
        assert rec.authors == [name]
        assert rec.extra.get("affiliations", [[]]) == [affiliations]


def test_list_records_order_and_extra() -> None:
    recs = records(LIST_HEP_EX)
    assert [r.source_key for r in recs] == ["1706.05371", "1706.09418", "1707.00874"]
    assert [r.location for r in recs] == ["record 1", "record 2", "record 3"]
    assert recs[1].extra["report_no"] == "BONN-TH-2017-03"
    assert recs[2].extra["report_no"] == "IITH-PH-0001/17, IMSc/2017/07/05"


def test_affiliations_and_old_style_id_in_arxiv_format() -> None:
    """Per-author ``<affiliation>`` and an old-style id, built on a real pretty-printed record."""
    data = ARXIV_1305.read_bytes()
    data = data.replace(b"<id>1305.0014</id>", b"<id>physics/0112006</id>")
    data = data.replace(
        b"<forenames>S.</forenames>",
        b"<forenames>S.</forenames><affiliation>INFN, Sezione di\n  Ferrara</affiliation>"
        b"<affiliation>ITEP, Moscow</affiliation>",
    ).replace(b"<forenames>B.</forenames>", b"<forenames>B.</forenames><suffix>Jr.</suffix>"
              b"<affiliation>ITEP, Moscow</affiliation>")  # fmt: skip
    (rec,) = [r for r in parse(data) if isinstance(r, Record)]
    assert rec.arxiv_id == "physics/0112006"
    assert rec.authors == ["S. Gardner", "B. Plaster Jr."]
    assert rec.organisations == ["INFN, Sezione di Ferrara", "ITEP, Moscow"]
    assert rec.extra["affiliations"] == [
        ["INFN, Sezione di Ferrara", "ITEP, Moscow"],
        ["ITEP, Moscow"],
    ]


# --- metadataPrefix=arXivRaw ------------------------------------------------------------------


def test_arxivraw_every_field() -> None:
    (rec,) = records(RAW_1302)
    assert rec.arxiv_id == "1302.2146"
    assert rec.version == 2
    assert rec.versions == [Version(1, date(2013, 2, 8)), Version(2, date(2013, 4, 2))]
    assert rec.published == date(2013, 2, 8)
    assert rec.updated == date(2013, 4, 2)
    # One free-text author string, split on commas and "and".
    assert rec.authors == ["Joshua Berger", "Maxim Perelstein", "Michael Saelim", "Philip Tanedo"]
    assert rec.authors_complete
    assert rec.title == "The Same-Sign Dilepton Signature of RPV/MFV SUSY"
    assert rec.categories == ["hep-ph", "hep-ex"]
    assert rec.comment == "18 pages, 6 figures; v2: References added"
    assert rec.extra["submitter"] == "Michael Saelim"
    assert rec.abstract is not None and rec.abstract.endswith("with a 100 fb^-1 data set.")


@pytest.mark.parametrize(
    ("text", "names", "affiliations", "complete"),
    [
        ("Joshua Berger, Maxim Perelstein, Michael Saelim and Philip Tanedo",
         ["Joshua Berger", "Maxim Perelstein", "Michael Saelim", "Philip Tanedo"],
         [[], [], [], []], True),
        # Initials without spaces, Oxford comma.
        ("D.V. Shetty, S.J. Yennello, and G.A. Souliotis",
         ["D. V. Shetty", "S. J. Yennello", "G. A. Souliotis"], [[], [], []], True),
        # TeX accents become Unicode, as in authors_parsed.
        ("C. Bal\\'azs, E. L. Berger, P. M. Nadolsky, C.-P. Yuan",
         ["C. Balázs", "E. L. Berger", "P. M. Nadolsky", "C.-P. Yuan"], [[], [], [], []], True),
        ("Jean-Fran\\c{c}ois M\\'etayer (IPR), Patrick Richard (IPR)",
         ["Jean-François Métayer", "Patrick Richard"], [["IPR"], ["IPR"]], True),
        # One affiliation after several names belongs to each (arXiv's own rule).
        ("Katherine L. Rhode, Jessica L. Windschitl, and Michael D. Young   (Indiana University)",
         ["Katherine L. Rhode", "Jessica L. Windschitl", "Michael D. Young"],
         [["Indiana University"]] * 3, True),
        ("Kentaro Nagamine (UNLV), Jun-Hwan Choi (UNLV, Kentucky), Hidenobu   Yajima (Penn State)",
         ["Kentaro Nagamine", "Jun-Hwan Choi", "Hidenobu Yajima"],
         [["UNLV"], ["UNLV, Kentucky"], ["Penn State"]], True),
        # Numbered affiliations resolved through the trailing legend.
        ("A. S. Mishchenko (1 and 2) and N. Nagaosa (1 and 3) ((1) CREST, Japan\n  Science and "
         "Technology Agency, (2) Russian Research Centre ``Kurchatov\n  Institute'', (3) The "
         "University of Tokyo)",
         ["A. S. Mishchenko", "N. Nagaosa"],
         [["CREST, Japan Science and Technology Agency",
           "Russian Research Centre ``Kurchatov Institute''"],
          ["CREST, Japan Science and Technology Agency", "The University of Tokyo"]], True),
        # A suffix after a comma stays with its name.
        ("N. R. Sheeley, Jr. and A. P. Rouillard", ["N. R. Sheeley Jr.", "A. P. Rouillard"],
         [[], []], True),
        # "et al." is not a name: the list is incomplete.
        ("The BABAR Collaboration, B. Aubert, et al", ["The BABAR Collaboration", "B. Aubert"],
         [[], []], False),
        ("D0 Collaboration, V. Abazov et al", ["D0 Collaboration", "V. Abazov"], [[], []], False),
        ("ArDM Collaboration: C.Amsler, A.Badertscher",
         ["ArDM Collaboration", "C. Amsler", "A. Badertscher"], [[], [], []], True),
        # A parenthesis inside a name is a nickname, not an affiliation.
        ("An Liu and Youjian (Eugene) Liu and Haige Xiang",
         ["An Liu", "Youjian Liu", "Haige Xiang"], [[], [], []], True),
        # A collaboration written into the name becomes the author's affiliation.
        ("A. Tricomi for the ATLAS and CMS Collaborations, B. Jones",
         ["A. Tricomi", "B. Jones"], [["for the ATLAS and CMS Collaborations"], []], True),
        ("", [], [], True),
        ("(MIT)", [], [], True),
    ],
)  # fmt: skip
def test_split_authors(
    text: str, names: list[str], affiliations: list[list[str]], complete: bool
) -> None:
    pairs, is_complete = split_authors(text)
    assert [name for name, _ in pairs] == names
    assert [affs for _, affs in pairs] == affiliations
    assert is_complete is complete


# --- deleted records, errors, tokens -----------------------------------------------------------


def _deleted(data: bytes) -> bytes:
    """Mark the first record deleted the way OAI-PMH does: status on the header, no metadata."""
    head, rest = data.split(b"<metadata>", 1)
    _, tail = rest.split(b"</metadata>", 1)
    return head.replace(b"<header>", b'<header status="deleted">', 1) + tail


def test_deleted_records_are_skipped_not_errors() -> None:
    out = parse(_deleted(LIST_HEP_EX.read_bytes()))
    assert [r.source_key for r in out if isinstance(r, Record)] == ["1706.09418", "1707.00874"]
    assert not [r for r in out if isinstance(r, ParseError)]
    # Locations count every record in the page, deleted ones included.
    assert [r.location for r in out] == ["record 2", "record 3"]


def test_no_records_match_is_an_empty_result() -> None:
    assert parse((OAI / "error_noRecordsMatch.xml").read_bytes()) == []


def test_other_oai_errors_are_parse_errors_with_code_and_message() -> None:
    path = OAI / "error_idDoesNotExist_nonexistent_1305.9999.xml"
    (err,) = parse(path.read_bytes(), "g.xml")
    assert isinstance(err, ParseError)
    assert err.location == "response"
    assert err.reason == (
        "OAI-PMH error idDoesNotExist: Identifier 'oai:arXiv.org:1305.9999' has correct form "
        "but does not correspond to an item in this repository"
    )


def test_unsupported_metadata_format_is_a_parse_error() -> None:
    data = ARXIV_1512.read_bytes().replace(b"<arXiv xmlns=", b"<oai_dc xmlns=")
    data = data.replace(b"</arXiv>", b"</oai_dc>")
    (err,) = parse(data)
    assert isinstance(err, ParseError)
    assert "metadata format <oai_dc>" in err.reason


@pytest.mark.parametrize(
    ("data", "token"),
    [
        (LIST_HEP_EX.read_bytes(), None),  # no token element: the last page
        (LIST_HEP_EX.read_bytes().replace(b"</ListRecords>", TOKEN + b"</ListRecords>"),
         "726959|1001"),
        (LIST_HEP_EX.read_bytes().replace(
            b"</ListRecords>", b'<resumptionToken cursor="1000" completeListSize="1003"/>'
            b"</ListRecords>"), None),  # an empty token: the last page
        ((OAI / "error_noRecordsMatch.xml").read_bytes(), None),
    ],
)  # fmt: skip
def test_resumption_token(data: bytes, token: str | None) -> None:
    assert resumption_token(data) == token
    # The token never becomes a record or an error.
    assert not [r for r in parse(data) if isinstance(r, ParseError)]


def test_resumption_token_of_a_cut_page_is_not_a_last_page() -> None:
    data = LIST_HEP_EX.read_bytes().replace(b"</ListRecords>", TOKEN + b"</ListRecords>")
    with pytest.raises(UnreadableInput, match="cannot tell"):
        resumption_token(data[: len(data) // 2])


# --- broken and hostile input ---------------------------------------------------------------


@pytest.mark.parametrize("fraction", [0.1, 0.3, 0.45, 0.6, 0.75, 0.9, 0.99])
def test_truncated_page_keeps_complete_records(fraction: float) -> None:
    data = LIST_HEP_EX.read_bytes()
    cut = data[: int(len(data) * fraction)]
    out = parse(cut)
    complete = cut.count(b"</record>")
    expected = [r.source_key for r in records(LIST_HEP_EX)][:complete]
    assert [r.source_key for r in out[:-1]] == expected
    err = out[-1]
    assert isinstance(err, ParseError)
    last_line = cut.count(b"\n") + 1
    assert err.location.startswith(f"line {last_line}, column ")
    assert f"after {complete} complete records" in err.reason


def test_dtd_is_refused() -> None:
    data = ARXIV_1305.read_bytes().replace(
        b"<OAI-PMH", b'<!DOCTYPE OAI-PMH [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<OAI-PMH', 1
    )
    data = data.replace(b"<keyname>Gardner", b"<keyname>&x;Gardner")
    (err,) = parse(data)
    assert isinstance(err, ParseError) and "DTD" in err.reason


def test_other_xml_is_refused_as_a_whole() -> None:
    atom = FIXTURES / "arxiv_api" / "format_2026" / "id_1605.08386.xml"
    (err,) = parse(atom.read_bytes())
    assert isinstance(err, ParseError) and err.reason == "not an OAI-PMH response (root <feed>)"


@pytest.mark.parametrize("path", OAI_FILES, ids=lambda p: p.name)
def test_sniff_accepts_recorded_pages(path: Path) -> None:
    assert ArxivOai().sniff(path.read_bytes()[:65536], path.name)


@pytest.mark.parametrize(
    "path",
    [
        FIXTURES / "arxiv_api" / "classic_2016" / "id_list_1111.2011v2.xml",
        FIXTURES / "kaggle_snapshot" / "arxiv-metadata-oai-snapshot_head200.jsonl",
        FIXTURES / "bibtex" / "attention-sink-paper_custom.bib",
    ],
    ids=lambda p: p.name,
)
def test_sniff_rejects_other_formats(path: Path) -> None:
    assert not ArxivOai().sniff(path.read_bytes()[:65536], path.name)


# --- properties ------------------------------------------------------------------------------

SEEDS = [p.read_bytes() for p in OAI_FILES] + [_deleted(LIST_HEP_EX.read_bytes())]
SNIPPETS = [
    b"<",
    b"&",
    b"&lt;",
    b"<!DOCTYPE x>",
    b"<record>",
    b"</record>",
    b'<header status="deleted">',
    b"<version version='v'>",
    b"<version version='v7'><date>Mon, 99 Foo 2013</date></version>",
    b"<created>2013-13-45</created>",
    b"<authors>(((</authors>",
    b"<keyname>:</keyname>",
    b'<error code="badVerb">x</error>',
    b"<resumptionToken>",
    b"\xc3\xa9",
    b"\xff\xfe",
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
        assert not data.strip() or b"\x00" in data[:8192]
        return
    for item in out:
        assert isinstance(item, Record | ParseError)
        if isinstance(item, Record):
            assert item.arxiv_id and item.source_key == item.arxiv_id
            assert item.content_hash
    with contextlib.suppress(UnreadableInput):
        resumption_token(data)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_pages_yield_only_records_and_errors(data: bytes) -> None:
    _check(data)


@settings(max_examples=600, deadline=None)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_yield_only_records_and_errors(data: bytes) -> None:
    _check(data)


@settings(max_examples=600, deadline=None)
@given(st.text(max_size=300))
def test_split_authors_never_fails(text: str) -> None:
    pairs, _ = split_authors(text)
    for name, affiliations in pairs:
        assert name.strip() == name and name
        assert all(isinstance(a, str) and a for a in affiliations)
