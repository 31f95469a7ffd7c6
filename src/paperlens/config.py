"""Settings: every option, read from ``PAPERLENS_*`` environment variables.

The entry point builds ``Settings(**cli_flags)``; flags given on the command
line win over the environment, which wins over the defaults here.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """paperlens configuration. Every field is documented in docs/configuration.md."""

    model_config = SettingsConfigDict(env_prefix="PAPERLENS_", extra="ignore")

    db: Path = Field(Path("paperlens.db"), description="SQLite database file.")
    batch_size: int = Field(2000, ge=1, description="Records per ingest transaction.")
    embed: bool = Field(True, description="Embed new papers during ingest.")
    model: str = Field(
        "all-MiniLM-L6-v2",
        description="Embedding model: all-MiniLM-L6-v2 (bundled) or a sentence-transformers path.",
    )
    device: str = Field("auto", description="Embedding device: auto, cpu or cuda.")
    embed_batch_size: int = Field(64, ge=1, description="Texts per embedding batch.")
    exact_search_max: int = Field(
        200_000, ge=0, description="Corpora up to this size use exact vector search, not ANN."
    )

    vector_quantization: str = Field(
        "f16", description="Approximate vector index storage: f16 (default), i8 or f32."
    )
    search_mode: str = Field(
        "hybrid", description="Default search mode: keyword, semantic or hybrid."
    )
    fusion: str = Field("weighted", description="Hybrid fusion: weighted or rrf.")
    hybrid_alpha: float = Field(
        0.4, ge=0.0, le=1.0, description="Weight of keyword (BM25) scores in weighted fusion."
    )
    normalise: str = Field(
        "zscore", description="Score normalisation for weighted fusion: max, minmax or zscore."
    )
    rrf_k: int = Field(60, ge=1, description="The k of reciprocal-rank fusion.")
    fusion_depth: int = Field(
        200, ge=10, description="Candidates taken from each ranker before fusing."
    )

    trending_upvotes: float = Field(1.0, description="Trending: weight of upvotes.")
    trending_velocity: float = Field(2.0, description="Trending: weight of upvotes per day.")
    trending_comments: float = Field(0.5, description="Trending: weight of comments.")
    trending_stars: float = Field(1.0, description="Trending: weight of log GitHub stars.")
    trending_demo: float = Field(1.0, description="Trending: weight of labelled demo upvotes.")
    trending_half_life_days: float = Field(7.0, gt=0, description="Trending: decay half-life.")
    trending_velocity_hours: float = Field(
        24.0, gt=0, description="Trending: window over which upvote velocity is measured."
    )
    cookie_secure: str = Field(
        "auto",
        description="Secure flag on cookies: auto (on unless serving localhost), true, false.",
    )
    page_cache_seconds: float = Field(
        10.0, ge=0, description="Anonymous page cache lifetime in seconds (0 turns it off)."
    )
    page_cache_stale_seconds: float = Field(
        60.0,
        ge=0,
        description="After the lifetime, how long a cached page is served while it re-renders.",
    )

    @property
    def data_dir(self) -> Path:
        """Directory beside the database holding the indexes (``<db>.d/``)."""
        return self.db.with_name(self.db.name + ".d")
