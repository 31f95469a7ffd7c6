"""BibTeX parser, on two real ``custom.bib`` files: arXiv-export, DBLP and Google-Scholar styles."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paperlens.errors import UnreadableInput
from paperlens.model import ParseError, Record
from paperlens.sources import get_source
from paperlens.sources.bibtex import Bibtex

FIXTURES = Path(__file__).parent.parent / "fixtures"
SINK = FIXTURES / "bibtex" / "attention-sink-paper_custom.bib"
SURVEY = FIXTURES / "bibtex" / "multimodal-llm-short-survey_custom.bib"


def parse(data: bytes, origin: str = "refs.bib") -> list[Record | ParseError]:
    return list(Bibtex().parse(io.BytesIO(data), origin))


def by_key(path: Path) -> dict[str, Record]:
    out = parse(path.read_bytes(), str(path))
    assert all(isinstance(r, Record) for r in out), [r for r in out if isinstance(r, ParseError)]
    return {r.extra["bibtex_key"]: r for r in out if isinstance(r, Record)}


@pytest.fixture(scope="module")
def sink() -> dict[str, Record]:
    return by_key(SINK)


@pytest.fixture(scope="module")
def survey() -> dict[str, Record]:
    return by_key(SURVEY)


def test_every_entry_is_a_record(sink: dict[str, Record], survey: dict[str, Record]) -> None:
    assert len(sink) == 24
    assert len(survey) == 37
    assert sum(1 for r in sink.values() if r.arxiv_id) == 22
    assert sum(1 for r in survey.values() if r.arxiv_id) == 10


# --- arXiv's own export: eprint + archivePrefix + primaryClass --------------------------------


def test_arxiv_export_style(sink: dict[str, Record]) -> None:
    rec = sink["vaswani2023attentionneed"]
    assert rec.source == "bibtex"
    assert rec.source_key == "1706.03762"
    assert rec.location == "entry vaswani2023attentionneed"
    assert rec.origin == str(SINK)
    assert (rec.arxiv_id, rec.version, rec.doi) == ("1706.03762", None, None)
    assert rec.title == "Attention Is All You Need"
    assert rec.authors == [
        "Ashish Vaswani",
        "Noam Shazeer",
        "Niki Parmar",
        "Jakob Uszkoreit",
        "Llion Jones",
        "Aidan N. Gomez",
        "Lukasz Kaiser",
        "Illia Polosukhin",
    ]
    assert rec.authors_complete
    assert rec.categories == ["cs.CL"]
    assert rec.links == ["https://arxiv.org/abs/1706.03762"]
    # year = {2023} is the revision year of a 2017 paper: kept as a fact, not a date.
    assert rec.published is None
    assert rec.extra == {
        "bibtex_key": "vaswani2023attentionneed",
        "entry_type": "misc",
        "year": 2023,
    }
    assert rec.journal_ref is None


def test_non_ascii_names_in_utf8(sink: dict[str, Record]) -> None:
    rec = sink["Barbero2025Why"]
    assert rec.source_key == "2504.02732"
    assert rec.title == "Why do LLMs attend to the first token?"
    assert rec.authors == [
        "Federico Barbero",
        "Álvaro Arroyo",
        "Xiangming Gu",
        "Christos Perivolaropoulos",
        "Michael Bronstein",
        "Petar Veličković",
        "Razvan Pascanu",
    ]
    bloom = sink["bigscience2023bloom"]
    assert len(bloom.authors) == 393
    assert bloom.authors[:2] == ["BigScience Workshop", "Teven Le Scao"]
    assert "Suzana Ilić" in bloom.authors
    assert "Zdeněk Kasner" in bloom.authors
    assert "Albert Villanova del Moral" in bloom.authors


def test_last_first_names_and_latex_accents(sink: dict[str, Record]) -> None:
    rec = sink["Irie2019LanguageMW"]
    # author={Irie, Kazuki and Zeyer, Albert and Schl\"uter, Ralf and Ney, Hermann}
    assert rec.authors == ["Kazuki Irie", "Albert Zeyer", "Ralf Schlüter", "Hermann Ney"]
    # DOI={10.21437/interspeech.2019-2225}: an upper-case field name, no arXiv id.
    assert rec.source_key == rec.doi == "10.21437/interspeech.2019-2225"
    assert rec.arxiv_id is None
    assert rec.journal_ref == "Interspeech 2019"
    assert rec.links == ["http://dx.doi.org/10.21437/Interspeech.2019-2225"]
    assert rec.extra == {
        "bibtex_key": "Irie2019LanguageMW",
        "entry_type": "inproceedings",
        "year": 2019,
        "month": 9,  # month=sep, an unbraced macro
    }


def test_semantic_scholar_style(sink: dict[str, Record]) -> None:
    # journal={ArXiv}, volume={abs/2503.03321}, doi={10.48550/arXiv.2503.03321}, no trailing comma
    rec = sink["Kang2025See"]
    assert rec.source_key == rec.arxiv_id == "2503.03321"
    assert rec.doi is None  # the arXiv DOI names the arXiv record, not a publisher version
    assert rec.title == "See What You Are Told: Visual Attention Sink in Large Multimodal Models"
    assert rec.authors == ["Seil Kang", "Jinyeong Kim", "Junhyeok Kim", "Seong Jae Hwang"]
    assert rec.journal_ref is None
    assert rec.categories == []


def test_entry_without_identifiers_keyed_by_bibtex_key(sink: dict[str, Record]) -> None:
    rec = sink["Radford2019Language"]
    assert rec.source_key == "bibtex:Radford2019Language"
    assert rec.arxiv_id is None and rec.doi is None
    assert rec.title == "Language Models are Unsupervised Multitask Learners"
    assert rec.authors == [
        "Alec Radford",
        "Jeffrey Wu",
        "Rewon Child",
        "David Luan",
        "Dario Amodei",
        "Ilya Sutskever",
    ]
    assert rec.extra["entry_type"] == "techreport"


# --- DBLP: CoRR abs/..., eprinttype, multi-line author lists ----------------------------------


def test_dblp_corr(survey: dict[str, Record]) -> None:
    rec = survey["DBLP:journals/corr/abs-2306-13549"]
    assert rec.source_key == rec.arxiv_id == "2306.13549"
    assert rec.doi is None
    assert rec.title == "A Survey on Multimodal Large Language Models"
    assert rec.authors == [
        "Shukang Yin",
        "Chaoyou Fu",
        "Sirui Zhao",
        "Ke Li",
        "Xing Sun",
        "Tong Xu",
        "Enhong Chen",
    ]
    assert rec.journal_ref is None  # CoRR is arXiv, not a venue
    assert rec.links == ["https://doi.org/10.48550/arXiv.2306.13549"]
    assert rec.extra["year"] == 2023

    resnet = survey["DBLP:journals/corr/HeZRS15"]
    assert resnet.arxiv_id == "1512.03385"
    assert resnet.title == "Deep Residual Learning for Image Recognition"
    assert resnet.authors == ["Kaiming He", "Xiangyu Zhang", "Shaoqing Ren", "Jian Sun"]


def test_dblp_braces_and_escaped_doi(survey: dict[str, Record]) -> None:
    bit = survey["DBLP:conf/eccv/KolesnikovBZPYG20"]
    # doi = {10.1007/978-3-030-58558-7\_29}: the LaTeX escape is not part of the DOI.
    assert bit.source_key == bit.doi == "10.1007/978-3-030-58558-7_29"
    assert bit.journal_ref == (
        "Computer Vision - ECCV 2020 - 16th European Conference, Glasgow, UK, August 23-28, "
        "2020, Proceedings, Part V"
    )
    assert bit.authors[-1] == "Neil Houlsby"  # editors are not authors
    assert len(bit.authors) == 7
    gpt4 = survey["gpt4"]
    assert gpt4.title == "GPT-4 Technical Report"  # {GPT-4}: braces dropped
    assert gpt4.authors == ["OpenAI"]
    assert gpt4.arxiv_id == "2303.08774"
    foundation = survey["DBLP:journals/corr/abs-2302-09419"]
    assert foundation.title == (
        "A Comprehensive Survey on Pretrained Foundation Models: A History from BERT to ChatGPT"
    )


# --- Google Scholar and hand-written entries ---------------------------------------------------


def test_google_scholar_style(survey: dict[str, Record]) -> None:
    rec = survey["fu2023mme"]
    # journal={arXiv preprint arXiv:2306.13394}, author list ending in "and others"
    assert rec.source_key == rec.arxiv_id == "2306.13394"
    assert rec.journal_ref is None
    assert rec.authors == [
        "Chaoyou Fu",
        "Peixian Chen",
        "Yunhang Shen",
        "Yulei Qin",
        "Mengdan Zhang",
        "Xu Lin",
        "Zhenyu Qiu",
        "Wei Lin",
        "Jinrui Yang",
        "Xiawu Zheng",
    ]
    assert rec.authors_complete is False


def test_computing_research_repository_volume(survey: dict[str, Record]) -> None:
    rec = survey["rasooli-tetrault-2015"]
    # journal = {Computing Research Repository}, volume = {arXiv:1503.06733}
    assert rec.arxiv_id == "1503.06733"
    assert rec.journal_ref is None
    assert rec.title == "Yara Parser: A Fast and Accurate Dependency Parser"
    assert rec.extra["note"] == "version 2"


def test_corporate_author_and_odd_keys(survey: dict[str, Record]) -> None:
    assert survey["APA:83"].authors == ["American Psychological Association"]
    wiki = survey["enwiki:1181088602"]  # "@misc{ enwiki:...": a space before the key
    assert wiki.location == "entry enwiki:1181088602"
    assert wiki.title == "Large language model — Wikipedia, The Free Encyclopedia"
    assert wiki.authors == ["Wikipedia contributors"]
    assert wiki.links == [
        "https://en.wikipedia.org/w/index.php?title=Large_language_model&oldid=1181088602"
    ]


def test_ieee_and_capitalised_fields(survey: dict[str, Record]) -> None:
    ieee = survey["9361559"]  # @ARTICLE, author={Grifoni, Patrizia and D’ulizia, Arianna and ...}
    assert ieee.authors == ["Patrizia Grifoni", "Arianna D’ulizia", "Fernando Ferri"]
    assert ieee.doi == "10.1109/access.2021.3061756"
    assert ieee.journal_ref == "IEEE Access"
    assert ieee.extra["entry_type"] == "article"
    ando = survey["Ando2005"]  # Author =, Title =, Month = dec
    assert ando.authors == ["Rie Kubota Ando", "Tong Zhang"]
    assert ando.title == (
        "A Framework for Learning Predictive Structures from Multiple Tasks and Unlabeled Data"
    )
    assert (ando.extra["year"], ando.extra["month"]) == (2005, 12)
    dalle = survey["dalle3"]  # year = 2023 unbraced; authors over three lines
    assert dalle.extra["year"] == 2023
    assert len(dalle.authors) == 14
    assert dalle.authors[10] == "Wesam Manassra"


# --- more conventions, each a real one ----------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "arxiv_id", "version"),
    [
        ("eprint = {2306.13549v2}, archivePrefix = {arXiv}", "2306.13549", 2),
        ("eprint = {hep-th/9901001}, eprinttype = {arxiv}", "hep-th/9901001", None),
        ("eprint = {2306.13549}", "2306.13549", None),
        ("journal = {Ar{X}iv:2010.14701}", "2010.14701", None),
        ("journal = {arXiv e-prints}, pages = {arXiv:2203.05796}", "2203.05796", None),
        ("journal = {arXiv}, pages = {2209.06869}", "2209.06869", None),
        ("journal = {arxiv.org/abs/2205.11916}", "2205.11916", None),
        ("url = {https://arxiv.org/pdf/2104.09864v4.pdf}", "2104.09864", 4),
        ("howpublished = {\\url{https://arxiv.org/abs/2402.17762}}", "2402.17762", None),
        ("note = {arXiv:1706.03762}", "1706.03762", None),
        ("doi = {10.48550/ARXIV.2211.05100}", "2211.05100", None),
        ("eprint = {12345}, archivePrefix = {PubMed}", None, None),
        ("journal = {Nature}, volume = {abs/1234}", None, None),
    ],
)
def test_arxiv_id_conventions(fields: str, arxiv_id: str | None, version: int | None) -> None:
    (rec,) = parse(f"@article{{k, title = {{T}}, {fields}}}\n".encode())
    assert isinstance(rec, Record)
    assert (rec.arxiv_id, rec.version) == (arxiv_id, version)
    assert rec.source_key == (arxiv_id or "bibtex:k")


@pytest.mark.parametrize(
    ("author", "names", "complete"),
    [
        ("Galen Andrew and Jianfeng Gao", ["Galen Andrew", "Jianfeng Gao"], True),
        ("Andrew, Galen and Gao, Jianfeng", ["Galen Andrew", "Jianfeng Gao"], True),
        ("Ram{\\'o}n y {C}ajal, Santiago, and Azoulay, L.", ["Santiago Ramón y Cajal", "L. Azoulay"], True),  # noqa: E501
        ("King, Jr., Martin Luther", ["Martin Luther King, Jr."], True),
        ("Ludwig van Beethoven", ["Ludwig van Beethoven"], True),
        ("Abadi, Mart{\\'\\i}n and et al.", ["Martín Abadi"], False),
        ("{Barnes and Noble, Inc.}", ["Barnes and Noble, Inc."], True),
        ("A and B and C and others", ["A", "B", "C"], False),
        ("Ben Hamner, Jaison Morgan, lynnvandev, Mark Shermis", ["Ben Hamner, Jaison Morgan, lynnvandev, Mark Shermis"], True),  # noqa: E501
        ("Jos{\\'e} M{\\\"u}ller and {\\L}ukasz {\\O}ster", ["José Müller", "Łukasz Øster"], True),
        ("", [], True),
    ],
)  # fmt: skip
def test_author_lists(author: str, names: list[str], complete: bool) -> None:
    (rec,) = parse(f"@misc{{k, title = {{T}}, author = {{{author}}}}}\n".encode())
    assert isinstance(rec, Record)
    assert (rec.authors, rec.authors_complete) == (names, complete)


@pytest.mark.parametrize(
    ("title", "clean"),
    [
        ("{BERT}: Pre-training of Deep", "BERT: Pre-training of Deep"),
        ("An image is worth $16\\times 16$ words", "An image is worth $16\\times 16$ words"),
        ("Methods for {S}olving {I}ncorrectly {P}osed\n   {P}roblems", "Methods for Solving Incorrectly Posed Problems"),  # noqa: E501
        ("50\\% of A \\& B", "50% of A & B"),
        ("50% of A & B", "50% of A & B"),
        ("Les {N}ouvelles {I}d{\\'e}es", "Les Nouvelles Idées"),
        ("\\textbf{Bold} and \\emph{slanted} words", "Bold and slanted words"),
        ("The {\\em Unknown} command \\foo{kept}", "The Unknown command kept"),
    ],
)  # fmt: skip
def test_titles(title: str, clean: str) -> None:
    (rec,) = parse(f"@misc{{k, title = {{{title}}}, year = 2020}}\n".encode())
    assert isinstance(rec, Record)
    assert rec.title == clean


def test_string_macros_are_resolved() -> None:
    data = b'@string{ICML = "International Conference on Machine Learning"}\n' + (
        b"@inproceedings{k, title = {T}, booktitle = ICML, year = 2021}\n"
    )
    (rec,) = parse(data)
    assert isinstance(rec, Record)
    assert rec.journal_ref == "International Conference on Machine Learning"


# --- broken input ---------------------------------------------------------------------------


def test_malformed_entries_among_good_ones() -> None:
    text = SINK.read_text(encoding="utf-8")
    vaswani = text[text.index("@misc{vaswani") : text.index("@misc{gu2025when")]
    gu = text[text.index("@misc{gu2025when") : text.index("@misc{sun2024massive")]
    radford = text[text.index("@techreport{Radford") :]
    data = "".join(
        [
            vaswani,
            "@article{broken, title = {An entry that never closes,\n",
            gu,  # starts on line 13
            "@misc{vaswani2023attentionneed, title = {Same key again}}\n\n",
            "@misc{nothing, note = {no title, no id}}\n\n",
            "@misc{twice, title = {A}, title = {B}}\n\n",
            radford,
        ]
    )
    out = parse(data.encode(), "mixed.bib")

    def line_of(snippet: str) -> str:
        return f"line {data[: data.index(snippet)].count(chr(10)) + 1}"

    shape = [
        (type(x).__name__, x.location if isinstance(x, ParseError) else x.source_key) for x in out
    ]
    assert line_of("@article{broken") == "line 10"
    assert shape == [
        ("Record", "1706.03762"),
        ("ParseError", line_of("@article{broken")),
        ("Record", "2410.10781"),
        ("ParseError", line_of("@misc{vaswani2023attentionneed, title = {Same")),
        ("ParseError", line_of("@misc{nothing")),
        ("ParseError", line_of("@misc{twice")),
        ("Record", "bibtex:Radford2019Language"),
    ]
    errors = [x for x in out if isinstance(x, ParseError)]
    assert all(e.origin == "mixed.bib" for e in errors)
    assert "Unexpected block start" in errors[0].reason
    assert errors[1].reason == (
        "duplicate entry key 'vaswani2023attentionneed'; BibTeX uses the first one, "
        "this one is skipped"
    )
    assert errors[2].reason == "entry 'nothing' has no title, arXiv id or DOI to identify the paper"
    assert errors[3].reason == "field title given twice in one entry"


def test_comments_preambles_and_text_between_entries_are_ignored() -> None:
    data = (
        b'% a comment\n@comment{anything}\n@preamble{"\\newcommand{\\noop}[1]{}"}\n'
        b"stray text\n@misc{k, title = {T}}\n"
    )
    out = parse(data)
    assert [type(x) for x in out] == [Record]


def test_no_entries_gives_nothing() -> None:
    assert parse(b"% only a comment\n") == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty file"),
        (b"\n  \n", "empty file"),
        (b"@misc{k, title = {\x00}}", "binary file"),
        (b"@misc{k, title = {Caf\xe9 au lait}, year = 2020}\n", "not UTF-8"),
        (b"@misc{k, title = {x}}\n" * 4000 + b"@misc{z, title = {\xe9}}\n", "not UTF-8"),
    ],
)
def test_unreadable_inputs_raise_naming_the_file(data: bytes, message: str) -> None:
    with pytest.raises(UnreadableInput, match=rf"^refs\.bib: {message}"):
        parse(data)


# --- detection --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [SINK, SURVEY], ids=lambda p: p.stem)
def test_sniff_accepts_bib_files(path: Path) -> None:
    assert Bibtex().sniff(path.read_bytes()[:65536], "no-extension")


@pytest.mark.parametrize(
    "path",
    [
        p
        for p in sorted(FIXTURES.rglob("*"))
        if p.is_file() and p.suffix != ".md" and p.parent.name != "bibtex"
    ],
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_sniff_rejects_other_formats(path: Path) -> None:
    assert not Bibtex().sniff(path.read_bytes()[:65536], path.name)


def test_sniff_rejects_prose_with_at_signs() -> None:
    assert not Bibtex().sniff(b"Mail me @ home, or at x@example.org {soon}.\n", "notes.txt")


def test_registered_under_its_format_name() -> None:
    assert isinstance(get_source("bibtex"), Bibtex)


# --- properties -------------------------------------------------------------------------------

TEXTS = [SINK.read_text(encoding="utf-8"), SURVEY.read_text(encoding="utf-8")]


def _unreadable(data: bytes) -> bool:
    if not data[:65536].strip() or b"\x00" in data[:8192]:
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def check(data: bytes) -> list[Record | ParseError]:
    try:
        out = parse(data, "fuzz.bib")
    except UnreadableInput:
        assert _unreadable(data)
        return []
    for item in out:
        assert isinstance(item, Record | ParseError)
        if isinstance(item, Record):
            assert item.source == "bibtex" and item.source_key
            assert item.title or item.arxiv_id or item.doi
            assert len(item.content_hash) == 64
            json.dumps(item.to_json(), allow_nan=False)
        else:
            assert item.origin == "fuzz.bib" and re.fullmatch(r"line \d+", item.location)
    return out


_INSERTS = [b"{", b"}", b"@", b",", b'"', b"\\", b"=", b"\n", b"%", b"$", b"#", b" and "]
_INSERTS += [b"@misc{", b"\\'", b"\xc3", b"\x00"]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A window of a few real entries with bytes deleted, inserted or replaced."""
    text = draw(st.sampled_from(TEXTS))
    starts = [m.start() for m in re.finditer(r"(?m)^@", text)]
    i = draw(st.integers(0, len(starts) - 1))
    window = text[starts[i] : starts[min(i + draw(st.integers(1, 3)), len(starts) - 1)] or None]
    data = bytearray(window.encode())
    for _ in range(draw(st.integers(1, 6))):
        pos = draw(st.integers(0, len(data)))
        op = draw(st.sampled_from(["delete", "insert", "replace", "truncate"]))
        if op == "delete":
            del data[pos : pos + draw(st.integers(1, 20))]
        elif op == "insert":
            data[pos:pos] = draw(st.sampled_from(_INSERTS))
        elif op == "replace" and pos < len(data):
            data[pos] = draw(st.integers(0, 255))
        elif op == "truncate":
            del data[pos:]
    return bytes(data)


_PIECES = [*"aZ09 {}\\\"'$%&#_~^@,=.-/:\n", "and", "\\'e", "arXiv:", "10.48550/arXiv."]
_PIECES += ["2306.13549", "abs/", "ü", "\\url{"]
_value = st.lists(st.sampled_from(_PIECES), max_size=40).map("".join)
_field = st.tuples(
    st.sampled_from(["title", "author", "year", "month", "eprint", "archivePrefix", "journal",
                     "volume", "doi", "url", "primaryClass", "note", "booktitle", "abstract"]),
    _value,
)  # fmt: skip


@st.composite
def entries(draw: st.DrawFn) -> bytes:
    parts = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["misc", "article", "inproceedings", "string", "comment"]))
        key = draw(st.text(alphabet="abcXYZ09:-_", max_size=10))
        fields = draw(st.lists(_field, max_size=6))
        opener, closer = draw(st.sampled_from([("{", "}"), ("(", ")")]))
        body = ",\n  ".join(f"{name} = {{{value}}}" for name, value in fields)
        parts.append(f"@{kind}{opener}{key},\n  {body}\n{closer}\n")
    return "\n".join(parts).encode()


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_property_mutated_real_entries(data: bytes) -> None:
    check(data)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entries())
def test_property_generated_entries(data: bytes) -> None:
    check(data)


@settings(max_examples=800, deadline=None)
@given(st.text(max_size=200))
def test_property_arbitrary_text(text: str) -> None:
    check(text.encode("utf-8", "surrogatepass"))
