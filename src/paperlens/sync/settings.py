"""Settings for the live sources: endpoints, politeness, retries, schedules.

Kept apart from ``config.Settings`` while the sync feature lands; every field
reads ``PAPERLENS_<NAME>`` like the rest of paperlens, so folding them into
``config.Settings`` later changes no environment variable. The base URLs are
the only difference between the tests (a replay server on 127.0.0.1) and live
use.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from paperlens import __version__

PROJECT_URL = "https://github.com/paperlens/paperlens"


class SyncSettings(BaseSettings):
    """Where the live sources are and how politely paperlens talks to them."""

    model_config = SettingsConfigDict(env_prefix="PAPERLENS_", extra="ignore")

    arxiv_api_url: str = Field(
        "https://export.arxiv.org/api/query", description="arXiv API query endpoint (Atom)."
    )
    arxiv_oai_url: str = Field(
        "https://oaipmh.arxiv.org/oai", description="arXiv OAI-PMH endpoint (ListRecords)."
    )
    hf_api_url: str = Field(
        "https://huggingface.co/api/daily_papers",
        description="Hugging Face Daily Papers API endpoint.",
    )
    s2_api_url: str = Field(
        "https://api.semanticscholar.org/graph/v1",
        description="Semantic Scholar Graph API base URL (the batch endpoint is /paper/batch).",
    )
    s2_api_key: SecretStr | None = Field(
        None, description="Semantic Scholar API key (optional; sent as x-api-key)."
    )
    contact_email: str | None = Field(
        None,
        description="Contact address put in the User-Agent, as arXiv's API etiquette asks.",
    )

    arxiv_pacing_s: float = Field(
        3.0, ge=0, description="Minimum seconds between requests to an arXiv host."
    )
    hf_pacing_s: float = Field(
        1.0, ge=0, description="Minimum seconds between requests to Hugging Face."
    )
    s2_pacing_s: float = Field(
        1.0, ge=0, description="Minimum seconds between requests to Semantic Scholar (<= 1/s)."
    )
    connect_timeout_s: float = Field(10.0, gt=0, description="HTTP connect timeout.")
    read_timeout_s: float = Field(60.0, gt=0, description="HTTP read timeout (per read).")
    max_retries: int = Field(
        5, ge=0, description="Retries on 429/5xx/timeouts/dropped connections."
    )
    bad_body_retries: int = Field(
        2,
        ge=0,
        description="Refetches of a 200 whose body is empty, truncated or HTML instead of data.",
    )
    backoff_base_s: float = Field(
        2.0, ge=0, description="First retry delay; doubles each retry, plus jitter."
    )
    backoff_max_s: float = Field(120.0, ge=0, description="Longest delay between two retries.")
    retry_after_max_s: float = Field(
        900.0, ge=0, description="Longest Retry-After paperlens waits; longer fails the request."
    )
    http_cache: bool = Field(
        True, description="Keep every raw response, gzip-compressed, for `paperlens reparse`."
    )

    arxiv_page_size: int = Field(
        200, ge=1, le=2000, description="Results per arXiv API request (arXiv allows <= 2000)."
    )
    arxiv_default_days: int = Field(
        3,
        ge=1,
        description="`sync arxiv`/`sync arxiv-oai` without a start date or a previous run: "
        "days back.",
    )
    arxiv_categories: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Categories the scheduled arXiv sync follows (e.g. cs.LG,cs.CL); "
        "empty disables it.",
    )
    oai_set: str | None = Field(
        None, description="OAI-PMH set the scheduled harvest follows (e.g. cs); empty disables it."
    )
    oai_metadata_prefix: str = Field(
        "arXiv", description="OAI-PMH metadataPrefix: arXiv (structured authors) or arXivRaw."
    )
    hf_repoll_days: int = Field(
        7, ge=0, description="`sync hf` re-polls this many days before today (upvotes grow)."
    )
    hf_page_size: int = Field(100, ge=1, le=100, description="Daily Papers items per request.")
    s2_batch_size: int = Field(
        100, ge=1, le=500, description="Papers per Semantic Scholar batch request (<= 500)."
    )
    enrich_max_age_days: int = Field(
        7, ge=0, description="`enrich` refreshes papers enriched longer ago than this."
    )

    sync_arxiv_every: timedelta = Field(
        timedelta(hours=6), description="Worker schedule for the arXiv API sync."
    )
    sync_oai_every: timedelta = Field(
        timedelta(days=1), description="Worker schedule for the OAI-PMH harvest."
    )
    sync_hf_every: timedelta = Field(
        timedelta(hours=3), description="Worker schedule for the Daily Papers re-poll."
    )
    enrich_every: timedelta = Field(
        timedelta(days=1), description="Worker schedule for Semantic Scholar enrichment."
    )
    enrich_limit: int = Field(500, ge=1, description="Papers the scheduled enrichment handles.")

    @field_validator("arxiv_categories", mode="before")
    @classmethod
    def _split_categories(cls, value: object) -> object:
        if isinstance(value, str):
            return [c.strip() for c in value.replace(" ", ",").split(",") if c.strip()]
        return value

    @field_validator(
        "sync_arxiv_every", "sync_oai_every", "sync_hf_every", "enrich_every", mode="before"
    )
    @classmethod
    def _seconds(cls, value: object) -> object:
        """Plain seconds (``3600``, ``0`` to disable) as well as ISO 8601 (``PT1H``)."""
        if isinstance(value, str) and value.strip().isdigit():
            return int(value.strip())
        return value

    @field_validator("arxiv_api_url", "arxiv_oai_url", "hf_api_url", "s2_api_url")
    @classmethod
    def _absolute_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value.rstrip("/") if parts.path not in ("", "/") else value

    def user_agent(self) -> str:
        """A descriptive User-Agent naming the software and whom to contact."""
        contact = f"mailto:{self.contact_email}" if self.contact_email else "contact not set"
        return f"paperlens/{__version__} (+{PROJECT_URL}; {contact})"

    def pacing(self) -> dict[str, float]:
        """Minimum seconds between two requests, per host of the configured endpoints."""
        hosts: dict[str, float] = {}
        for url, seconds in (
            (self.arxiv_api_url, self.arxiv_pacing_s),
            (self.arxiv_oai_url, self.arxiv_pacing_s),
            (self.hf_api_url, self.hf_pacing_s),
            (self.s2_api_url, self.s2_pacing_s),
        ):
            host = urlsplit(url).netloc.lower()
            hosts[host] = max(hosts.get(host, 0.0), seconds)
        return hosts
