"""BEIR corpus parser.

``tests/fixtures/beir/corpus_sample.jsonl`` is 20 lines copied byte for byte
from the SciFact ``corpus.jsonl`` of the BEIR benchmark (lines 1-15, 155,
214, 4371, 5098 and 4125 of the 5,183-line file): the first lines, two with
``\\u`` escapes, and the three shortest documents.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paperlens.errors import UnreadableInput
from paperlens.model import ParseError, Record
from paperlens.sources import get_source
from paperlens.sources.beir import Beir

FIXTURES = Path(__file__).parent.parent / "fixtures"
SAMPLE = FIXTURES / "beir" / "corpus_sample.jsonl"


def parse(data: bytes, origin: str = "corpus.jsonl") -> list[Record | ParseError]:
    return list(Beir().parse(io.BytesIO(data), origin))


def sample_records() -> list[Record]:
    out = parse(SAMPLE.read_bytes(), str(SAMPLE))
    assert all(isinstance(r, Record) for r in out)
    return [r for r in out if isinstance(r, Record)]


def test_every_line_is_a_record() -> None:
    recs = sample_records()
    assert len(recs) == 20
    assert [r.location for r in recs] == [f"line {n}" for n in range(1, 21)]
    assert [r.source_key for r in recs][:5] == ["4983", "5836", "7912", "18670", "19238"]
    assert all(r.source == "beir" and r.extra == {"beir_id": r.source_key} for r in recs)
    assert all(r.authors == [] and r.published is None and r.arxiv_id is None for r in recs)


def test_first_record_fields() -> None:
    first = sample_records()[0]
    assert first.source_key == "4983"
    assert first.origin == str(SAMPLE)
    assert first.title == (
        "Microstructural development of human newborn cerebral white matter assessed in vivo "
        "by diffusion tensor magnetic resonance imaging."
    )
    assert first.abstract is not None
    assert first.abstract.startswith(
        "Alterations of the architecture of cerebral white matter in the developing human brain"
    )
    assert first.abstract.endswith(
        "provides insight into microstructural development in cerebral white matter in living "
        "infants."
    )
    assert first.doi is None and first.links == []


def test_unicode_escapes_and_short_documents() -> None:
    by_id = {r.source_key: r for r in sample_records()}
    assert by_id["1215116"].title == (
        "“Rapid-Impact Interventions”: How a Policy of Integrated Control for Africa's "
        "Neglected Tropical Diseases Could Benefit the Poor"
    )
    assert by_id["33989422"].title == "On the origins of ultra-fine anaphase bridges."
    assert by_id["33989422"].abstract == (
        "Comment on: Chan KL, Palmai-Pallag T, Ying S, Hickson ID. Replication stress induces "
        "sister-chromatid bridging at fragile site loci in mitosis. Nat Cell Biol 2009; 11:753-60."
    )
    assert by_id["80109277"].abstract is not None
    assert by_id["80109277"].abstract.startswith("© Joanna Moncrieff 2013. All rights reserved.")
    # SciFact titles are sometimes cut mid-phrase; they are kept as given.
    assert by_id["72159"].title == "induction of early IFN-inducible genes in the absence of type"


def test_metadata_kept_with_url_and_doi() -> None:
    # TREC-COVID-style metadata: {"url": ..., "pubmed_id": ...}; a DOI when one is given.
    line = json.loads(SAMPLE.read_text(encoding="utf-8").splitlines()[0])
    line["metadata"] = {
        "url": "https://www.ncbi.nlm.nih.gov/pubmed/11001932",
        "pubmed_id": "11001932",
        "doi": "https://doi.org/10.1203/00006450-199910000-00022",
    }
    (rec,) = parse(json.dumps(line).encode())
    assert isinstance(rec, Record)
    assert rec.links == ["https://www.ncbi.nlm.nih.gov/pubmed/11001932"]
    assert rec.doi == "10.1203/00006450-199910000-00022"
    assert rec.extra["beir_metadata"]["pubmed_id"] == "11001932"


def test_malformed_lines_among_good_ones() -> None:
    lines = SAMPLE.read_bytes().splitlines(keepends=True)
    data = b"".join(
        [
            lines[0],
            b"\n",  # blank lines are skipped, but counted
            b'{"_id": "1", "title": "Half a line\n',
            lines[1],
            b"[1, 2, 3]\n",
            b'{"title": "no id", "text": "x"}\n',
            b'{"_id": "5", "title": 7, "text": "x"}\n',
            b'{"_id": "6", "title": "caf\\u00e9", "text": "x", "metadata": NaN}\n',
            lines[2].rstrip(b"\n"),  # the last line has no newline
        ]
    )
    out = parse(data)
    kinds = [(type(x).__name__, x.location) for x in out]
    assert kinds == [
        ("Record", "line 1"),
        ("ParseError", "line 3"),
        ("Record", "line 4"),
        ("ParseError", "line 5"),
        ("ParseError", "line 6"),
        ("ParseError", "line 7"),
        ("Record", "line 8"),
        ("Record", "line 9"),
    ]
    reasons = [x.reason for x in out if isinstance(x, ParseError)]
    assert reasons[0] == "not JSON (Unterminated string starting at, column 23)"
    assert reasons[1] == "expected a JSON object"
    assert reasons[2] == "no '_id' string"
    assert reasons[3] == "'title' of 5 is not a string"
    cafe = out[6]
    assert isinstance(cafe, Record)
    assert cafe.title == "café"
    assert "beir_metadata" not in cafe.extra  # NaN is not metadata


def test_invalid_utf8_past_the_head_costs_only_its_line() -> None:
    good = SAMPLE.read_bytes() * 4  # > 64 KiB, all valid
    data = good + b'{"_id": "6", "title": "caf\xe9", "text": "x"}\n' + SAMPLE.read_bytes()
    out = parse(data)
    errors = [x for x in out if isinstance(x, ParseError)]
    assert len(out) == 20 * 5 + 1
    assert [(e.location, e.reason) for e in errors] == [
        ("line 81", "not UTF-8 (invalid byte 0xe9 at column 27)")
    ]


def test_a_line_longer_than_the_head_is_read_whole() -> None:
    line = json.loads(SAMPLE.read_text(encoding="utf-8").splitlines()[0])
    line["text"] = "long " * 20_000  # 100 KB, past the 64 KiB head
    data = json.dumps(line).encode() + b"\n" + SAMPLE.read_bytes()
    out = parse(data)
    assert len(out) == 21 and all(isinstance(r, Record) for r in out)
    assert out[0].abstract == ("long " * 20_000).strip()


def test_crlf_and_bom() -> None:
    data = b"\xef\xbb\xbf" + SAMPLE.read_bytes().replace(b"\n", b"\r\n")
    recs = parse(data)
    assert [r.source_key for r in recs if isinstance(r, Record)] == [
        r.source_key for r in sample_records()
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty file"),
        (b"\n\n", "empty file"),
        (b'{"_id": "1"\x00}', "binary file"),
        (b'{"_id": "\xff1", "title": "T", "text": "x"}\n', "not UTF-8"),
    ],
)
def test_unreadable_inputs_raise_naming_the_file(data: bytes, message: str) -> None:
    with pytest.raises(UnreadableInput, match=rf"^corpus\.jsonl: {message}"):
        parse(data)


def test_streams_without_reading_everything_first() -> None:
    class OneShot(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            assert size is not None and size > 0, "parse must not read the whole stream"
            return super().read(size)

    stream = OneShot(SAMPLE.read_bytes() * 50)
    first = next(iter(Beir().parse(stream, "big.jsonl")))
    assert isinstance(first, Record)
    assert stream.tell() < len(stream.getvalue())


# --- detection --------------------------------------------------------------------------------


def test_sniff_accepts_the_sample_and_the_full_corpus_head() -> None:
    assert Beir().sniff(SAMPLE.read_bytes()[:65536], "corpus_sample.jsonl")
    assert Beir().sniff(SAMPLE.read_bytes()[:200], "cut-mid-line")


def test_sniff_rejects_beir_queries() -> None:
    # queries.jsonl has the same shape without "title": queries are not papers.
    assert not Beir().sniff(
        b'{"_id": "0", "text": "0-dimensional biomaterials", "metadata": {}}\n', "q"
    )


@pytest.mark.parametrize(
    "path",
    [
        p
        for p in sorted(FIXTURES.rglob("*"))
        if p.is_file() and p.suffix != ".md" and p.parent.name != "beir"
    ],
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_sniff_rejects_other_formats(path: Path) -> None:
    assert not Beir().sniff(path.read_bytes()[:65536], path.name)


def test_sniff_rejects_arxiv_jsonl_with_an_id_field() -> None:
    line = b'{"_id": "x", "title": "T", "text": "a", "abstract": "a", "authors": "A"}\n'
    assert not Beir().sniff(line, "x.jsonl")


def test_registered_under_its_format_name() -> None:
    assert isinstance(get_source("beir"), Beir)


# --- properties -------------------------------------------------------------------------------

LINES = SAMPLE.read_bytes().splitlines(keepends=True)


def _unreadable(data: bytes) -> bool:
    head = data[:65536]
    if not head.strip() or b"\x00" in head[:8192]:
        return True
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # The one forgiven error: a character cut where a full-size head ends.
        return not (len(head) >= 65536 and exc.reason == "unexpected end of data")
    return False


def check(data: bytes) -> list[Record | ParseError]:
    try:
        out = parse(data, "fuzz.jsonl")
    except UnreadableInput:
        assert _unreadable(data)
        return []
    assert not _unreadable(data)
    for item in out:
        assert isinstance(item, Record | ParseError)
        if isinstance(item, Record):
            assert item.source == "beir" and item.source_key == item.extra["beir_id"]
            assert len(item.content_hash) == 64
            json.dumps(item.to_json(), allow_nan=False)
    blank = sum(1 for line in data.splitlines() if not line.strip())
    assert len(out) <= len(data.splitlines()) - blank + 1
    return out


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    lines = draw(st.lists(st.sampled_from(LINES), min_size=1, max_size=6))
    data = bytearray(b"".join(lines))
    for _ in range(draw(st.integers(1, 6))):
        pos = draw(st.integers(0, len(data)))
        op = draw(st.sampled_from(["delete", "insert", "replace", "truncate"]))
        if op == "delete":
            del data[pos : pos + draw(st.integers(1, 30))]
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=6))
        elif op == "replace" and pos < len(data):
            data[pos] = draw(st.sampled_from(b'{}[]",:\\\n\x00\xff\xc3'))
        elif op == "truncate":
            del data[pos:]
    return bytes(data)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=10,
)
_docs = st.fixed_dictionaries(
    {}, optional={"_id": _JSON, "title": _JSON, "text": _JSON, "metadata": _JSON}
)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_property_mutated_real_lines(data: bytes) -> None:
    check(data)


@settings(max_examples=800, deadline=None)
@given(st.text(max_size=300))
def test_property_arbitrary_text(text: str) -> None:
    check(text.encode("utf-8", "surrogatepass"))


@settings(max_examples=600, deadline=None)
@given(st.lists(_docs | _JSON, min_size=1, max_size=6))
def test_property_arbitrary_json_lines(docs: list[object]) -> None:
    data = "\n".join(json.dumps(d) for d in docs).encode()
    out = check(data)
    assert len(out) == len(docs)
