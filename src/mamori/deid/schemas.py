"""Pydantic shapes of the deid slice: the register of de-identified datasets (no record value in any of them)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

DatasetKind = Literal["pseudonymised", "anonymised"]


class DatasetRead(BaseModel):
    """One registered output of ``deid pseudonymise`` / ``deid anonymise``: what it is, never what it holds.

    ``kind`` is 仮名加工情報 (``pseudonymised``, R-41-*) or 匿名加工情報 (``anonymised``, R-43-*); the dataset
    guard refuses to take such a file back in (R-41-5, R-43-5)."""

    model_config = ConfigDict(frozen=True)

    id: str
    kind: DatasetKind
    kind_ja: str
    sha256: str
    file_name: str
    source_name: str
    key_name: str | None
    columns: list[str]
    rows: int
    purpose: str
    created_by: str
    created_at: datetime
