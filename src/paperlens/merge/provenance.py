"""Claims: who said what about each field, and when.

Provenance is not stored as a second copy: every source record is kept whole
in the store, so the claims for a field are read back from the records. That
keeps ingest to one row per record and makes "why does the page show this
title?" answerable for every field, forever.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from paperlens.model import PAPER_FIELDS, Claim, Record


def claim_value(record: Record, name: str) -> Any:
    """The value ``record`` gives for ``name``, or None when it gives none."""
    value = getattr(record, name)
    if name == "authors" and value and not record.authors_complete:
        return [*value, "et al."]
    if value in (None, "", [], {}):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def claims_from_records(records: Sequence[Record]) -> dict[str, list[Claim]]:
    """Every field's claims, one per record that gave a value, oldest first."""
    claims: dict[str, list[Claim]] = {}
    for record in records:
        observed = record.observed_at.isoformat() if record.observed_at else ""
        for name in (*PAPER_FIELDS, "version"):
            value = claim_value(record, name)
            if value is None:
                continue
            claims.setdefault(name, []).append(
                Claim(record.source, record.source_key, record.origin, observed, value)
            )
    return claims
