"""SELECTs over the deid slice's table."""

from __future__ import annotations

from sqlalchemy import Select, select

from mamori.deid.models import DeidDataset


def datasets_by_sha(sha256: str) -> Select[DeidDataset]:
    return select(DeidDataset).where(DeidDataset.sha256 == sha256).order_by(DeidDataset.created_at)


def dataset_by_id(dataset_id: str) -> Select[DeidDataset]:
    return select(DeidDataset).where(DeidDataset.id == dataset_id)


def datasets(kind: str | None, limit: int) -> Select[DeidDataset]:
    """The register, newest first (optionally one kind)."""
    stmt = select(DeidDataset).order_by(DeidDataset.created_at.desc(), DeidDataset.id).limit(limit)
    return stmt if kind is None else stmt.where(DeidDataset.kind == kind)
