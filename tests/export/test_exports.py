"""BibTeX, CSL-JSON and JSON Lines exports, and the BibTeX round trip through ``sources.bibtex``."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paperlens.export import citation_keys
from paperlens.export.bibtex import escape_title, to_bibtex
from paperlens.export.csl_json import csl_name, to_csl_json
from paperlens.export.jsonl import write_jsonl
from paperlens.ids import paper_id_for
from paperlens.model import PAPER_FIELDS, Claim, Observation, Paper, Record, Version
from paperlens.sources.bibtex import Bibtex
from paperlens.sources.hf_daily import HfDaily

FIXTURES = Path(__file__).parent.parent / "fixtures"
BIB_FILES = sorted((FIXTURES / "bibtex").glob("*.bib"))
HF_FILES = sorted((FIXTURES / "hf_daily_papers").glob("*.json"))


def to_paper(rec: Record) -> Paper:
    """The paper a single record would make (merge is not under test here)."""
    fields = {name: getattr(rec, name) for name in PAPER_FIELDS}
    return Paper(
        id=paper_id_for(rec.arxiv_id or rec.doi or rec.source_key),
        authors_complete=rec.authors_complete,
        extra=dict(rec.extra),
        **fields,
    )


def parse_bib(text: str) -> list[Record]:
    out = list(Bibtex().parse(io.BytesIO(text.encode()), "export.bib"))
    assert all(isinstance(r, Record) for r in out), [r for r in out if not isinstance(r, Record)]
    return [r for r in out if isinstance(r, Record)]


def fixture_papers() -> list[Paper]:
    """Every record of the BibTeX and HF fixtures as a paper: real titles and names."""
    papers = []
    for source, paths in ((Bibtex(), BIB_FILES), (HfDaily(), HF_FILES)):
        for path in paths:
            out = source.parse(io.BytesIO(path.read_bytes()), str(path))
            papers += [to_paper(r) for r in out if isinstance(r, Record)]
    return papers


OMNISVG = Paper(
    id="pl_0123456789ab",
    arxiv_id="2504.06263",
    title="OmniSVG: A Unified Scalable Vector Graphics Generation Model",
    abstract="Scalable Vector Graphics (SVG) is an important image format.",
    authors=["Yiying Yang", "Wei Cheng", "Sijin Chen"],
    authors_complete=False,
    categories=["cs.CV", "cs.AI"],
    published=date(2025, 4, 8),
    links=["https://github.com/OmniSVG/OmniSVG"],
)


# --- BibTeX -----------------------------------------------------------------------------------


def test_bibtex_entry_in_arxiv_export_shape() -> None:
    assert to_bibtex([OMNISVG]) == (
        "@misc{yang2025omnisvg,\n"
        "  title = {{OmniSVG}: A Unified Scalable Vector Graphics Generation Model},\n"
        "  author = {Yiying Yang and Wei Cheng and Sijin Chen and others},\n"
        "  year = {2025},\n"
        "  eprint = {2504.06263},\n"
        "  archivePrefix = {arXiv},\n"
        "  primaryClass = {cs.CV},\n"
        "  url = {https://arxiv.org/abs/2504.06263},\n"
        "}\n"
    )


def test_bibtex_without_arxiv_id_uses_doi() -> None:
    paper = Paper(
        id="pl_1",
        doi="10.1007/978-3-030-58558-7_29",
        title="Big Transfer (BiT): General Visual Representation Learning",
        authors=["Alexander Kolesnikov", "Lucas Beyer"],
        extra={"year": 2020},
    )
    assert to_bibtex([paper]) == (
        "@misc{kolesnikov2020big,\n"
        "  title = {Big Transfer ({BiT}): General Visual Representation Learning},\n"
        "  author = {Alexander Kolesnikov and Lucas Beyer},\n"
        "  year = {2020},\n"
        "  doi = {10.1007/978-3-030-58558-7_29},\n"
        "  url = {https://doi.org/10.1007/978-3-030-58558-7_29},\n"
        "}\n"
    )


@pytest.mark.parametrize(
    ("title", "written"),
    [
        ("50% of A & B_c #1 {x} ~y^", r"50\% of A \& B\_c \#1 \{x\} \textasciitilde{}y\textasciicircum{}"),  # noqa: E501
        (r"$\omega$Test: a $\mathcal{O}(n)$ bound", r"$\omega$Test: a $\mathcal{O}(n)$ bound"),
        ("A $5 budget and $3 more", r"A \$5 budget and \$3 more"),
        ("Back\\slash", r"Back\textbackslash{}slash"),
        ("LLMs, GPT-4 and RoFormer", "{LLMs}, {GPT-4} and {RoFormer}"),
    ],
)  # fmt: skip
def test_bibtex_title_escaping(title: str, written: str) -> None:
    assert escape_title(title) == written


def test_bibtex_names_that_need_care() -> None:
    paper = Paper(
        id="pl_2",
        title="T",
        authors=["Martin Luther King, Jr.", "Barnes and Noble", "Albert Villanova del Moral"],
    )
    text = to_bibtex([paper])
    assert "author = {King, Jr., Martin Luther and {Barnes and Noble} and " in text
    (back,) = parse_bib(text)
    assert back.authors == [
        "Martin Luther King, Jr.",
        "Barnes and Noble",
        "Albert Villanova del Moral",
    ]


def test_round_trip_through_the_bibtex_source() -> None:
    papers = fixture_papers()
    assert len(papers) > 70
    back = parse_bib(to_bibtex(papers))
    assert len(back) == len(papers)
    for paper, rec in zip(papers, back, strict=True):
        assert rec.arxiv_id == paper.arxiv_id
        assert rec.doi == paper.doi
        assert rec.title == paper.title
        assert rec.authors == paper.authors
        assert rec.authors_complete == paper.authors_complete


def test_round_trip_of_awkward_text() -> None:
    paper = Paper(
        id="pl_3",
        arxiv_id="hep-th/9901001",
        title=r"Caf\'e? No: 50% of {A} & $\alpha_1$ ~ Ü #tag_x",
        authors=["Zdeněk Kasner", "D'Angelo, Ana María", "José Müller-Straße"],
        published=date(1999, 1, 4),
    )
    (rec,) = parse_bib(to_bibtex([paper]))
    assert rec.arxiv_id == "hep-th/9901001"
    assert rec.title == paper.title
    assert rec.authors == ["Zdeněk Kasner", "Ana María D'Angelo", "José Müller-Straße"]
    assert rec.extra["year"] == 1999


_title_chars = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")),
    min_size=1,
    max_size=60,
)


@pytest.mark.parametrize("title", ["Why?` not", "Wow!` x", "A -- B --- C", "``Quoted'' text"])
def test_tex_ligatures_stay_as_written(title: str) -> None:
    """TeX reads ``--`` as an en dash and ``?``+backquote as ¿: the export keeps the characters."""
    paper = Paper(id="pl_4", arxiv_id="2306.13549", title=title, authors=["Ke Li"])
    (rec,) = parse_bib(to_bibtex([paper]))
    assert rec.title == title


@settings(max_examples=500, deadline=None)
@given(_title_chars.filter(lambda t: t.strip() and "$" not in t))
def test_property_any_title_round_trips(title: str) -> None:
    paper = Paper(id="pl_4", arxiv_id="2306.13549", title=title, authors=["Ke Li"])
    (rec,) = parse_bib(to_bibtex([paper]))
    assert rec.title == " ".join(title.split())


# --- citation keys -----------------------------------------------------------------------------


def test_citation_keys_are_stable_and_unique() -> None:
    twin = Paper(
        id="pl_5", title="OmniSVG: Something Else", authors=["Yi Yang"], published=date(2025, 1, 1)
    )
    papers = [OMNISVG, twin, OMNISVG]
    assert citation_keys(papers) == ["yang2025omnisvg", "yang2025omnisvgb", "yang2025omnisvgc"]
    assert citation_keys(papers) == citation_keys(list(papers))


@pytest.mark.parametrize(
    ("paper", "key"),
    [
        (Paper(id="x", title="Why do LLMs attend to the first token?", authors=["Petar Veličković"]), "velickovicllms"),  # noqa: E501
        (Paper(id="x", title="The Theory of Parsing", authors=["Alfred V. Aho"], published=date(1972, 1, 1)), "aho1972theory"),  # noqa: E501
        (Paper(id="x", title="A Survey", authors=[], published=date(2023, 6, 23)), "p2023survey"),
        (Paper(id="x", arxiv_id="2306.13549"), "p230613549"),
        (Paper(id="pl_abc"), "plabc"),
        (Paper(id="x", title="日本語のタイトル", authors=["山田太郎"]), "x"),
    ],
)  # fmt: skip
def test_citation_key_shapes(paper: Paper, key: str) -> None:
    assert citation_keys([paper]) == [key]


# --- CSL-JSON -----------------------------------------------------------------------------------


def test_csl_json_item() -> None:
    (item,) = to_csl_json([OMNISVG])
    assert item == {
        "id": "yang2025omnisvg",
        "type": "article",
        "title": "OmniSVG: A Unified Scalable Vector Graphics Generation Model",
        "author": [
            {"family": "Yang", "given": "Yiying"},
            {"family": "Cheng", "given": "Wei"},
            {"family": "Chen", "given": "Sijin"},
        ],
        "issued": {"date-parts": [[2025, 4, 8]]},
        "publisher": "arXiv",
        "number": "arXiv:2504.06263",
        "URL": "https://arxiv.org/abs/2504.06263",
        "abstract": "Scalable Vector Graphics (SVG) is an important image format.",
    }
    json.dumps(item)


def test_csl_json_doi_year_only_and_keys_match_bibtex() -> None:
    papers = fixture_papers()
    items = to_csl_json(papers)
    assert [i["id"] for i in items] == citation_keys(papers)
    by_id = {i["id"]: i for i in items}
    irie = next(i for i in items if i.get("DOI") == "10.21437/interspeech.2019-2225")
    assert irie["issued"] == {"date-parts": [[2019]]}
    assert irie["note"] == "Interspeech 2019"
    assert irie["URL"] == "https://doi.org/10.21437/interspeech.2019-2225"
    assert "number" not in irie
    assert len(by_id) == len(items)
    json.dumps(items, ensure_ascii=False)


@pytest.mark.parametrize(
    ("name", "csl"),
    [
        ("Yiying Yang", {"family": "Yang", "given": "Yiying"}),
        ("Albert Villanova del Moral", {"family": "Moral", "given": "Albert Villanova", "non-dropping-particle": "del"}),  # noqa: E501
        ("Martin Luther King, Jr.", {"family": "King", "given": "Martin Luther", "suffix": "Jr."}),
        ("Schlüter, Ralf", {"family": "Schlüter", "given": "Ralf"}),
        ("OpenAI", {"literal": "OpenAI"}),
        ("Barnes and Noble", {"literal": "Barnes and Noble"}),
        ("a, b, c, d", {"literal": "a, b, c, d"}),
    ],
)  # fmt: skip
def test_csl_names(name: str, csl: dict[str, str]) -> None:
    assert csl_name(name) == csl


# --- JSON Lines ---------------------------------------------------------------------------------


def test_jsonl_one_paper_per_line() -> None:
    rich = Paper(
        id="pl_6",
        arxiv_id="2504.06263",
        title="OmniSVG",
        authors=["Yiying Yang"],
        versions=[Version(1, date(2025, 4, 8))],
        claims={"title": [Claim("hf-daily", "2504.06263", "d.json", "2025-04-09", "OmniSVG")]},
        signals=[Observation("upvotes", 35.0, "hf-daily", datetime(2025, 4, 9, 6, tzinfo=UTC))],
    )
    out = io.StringIO()
    assert write_jsonl([OMNISVG, rich], out) == 2
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert [json.loads(line) for line in lines] == [OMNISVG.to_json(), rich.to_json()]
    assert json.loads(lines[1])["signals"][0]["observed_at"] == "2025-04-09T06:00:00+00:00"


def test_jsonl_keeps_unicode_readable() -> None:
    out = io.StringIO()
    write_jsonl([Paper(id="pl_7", authors=["Petar Veličković"])], out)
    assert "Veličković" in out.getvalue()
    assert write_jsonl([], io.StringIO()) == 0
