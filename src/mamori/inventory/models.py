"""Tables of the inventory slice: storage locations and the data dictionary.

Neither table holds a personal value: a storage location is an organisational fact (a database, a backup
volume, a cloud service and its country), a data item is the name of a field or an attribute key with its tags.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from mamori.kernel.db import Base, UtcDateTime


class StorageLocation(Base):
    """A place personal data is stored or handled (R-23-7 storage-region registry, R-28-4 cloud services).

    A location abroad carries the understanding of that country's system (外的環境の把握, ``foreign_note``); a
    provider that handles the data is a counterparty (outsourcee or third party) and is linked to it (R-28-4).
    Retired, never deleted: the record of where data was kept stays.
    """

    __tablename__ = "storage_locations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(
        String(24)
    )  # database / backup / file_share / cloud / outsourcee_system
    operator: Mapped[str] = mapped_column(String(200))  # who runs it (own company or the provider)
    country: Mapped[str] = mapped_column(String(2))  # ISO 3166 alpha-2 of the servers / the place of handling
    region: Mapped[str | None] = mapped_column(String(100), nullable=True)  # e.g. ap-northeast-1, 東京
    handles_data: Mapped[bool] = mapped_column(
        Boolean, default=False
    )  # R-28-4: the provider handles the data
    counterparty_id: Mapped[str | None] = mapped_column(ForeignKey("counterparties.id"), nullable=True)
    categories: Mapped[str] = mapped_column(String(200), default="")  # comma-separated data categories
    purposes: Mapped[str] = mapped_column(
        Text, default=""
    )  # comma-separated purpose codes ("" = every purpose)
    foreign_note: Mapped[str | None] = mapped_column(Text, nullable=True)  # R-23-7 外的環境の把握
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    retired_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(80))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_by: Mapped[str] = mapped_column(String(80))


class DataItem(Base):
    """The privacy officer's tags for one data item: a customer field (``name``) or an attribute key
    (``attr:allergy``). APPI category and 要配慮 kind (R-2.3-1), GDPR Art. 9 special category and Art. 10 (G-6)."""

    __tablename__ = "data_items"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    appi_category: Mapped[str] = mapped_column(String(16))
    sensitive_kind: Mapped[str | None] = mapped_column(
        String(32), nullable=True
    )  # one of the 11 要配慮 kinds
    gdpr_article9: Mapped[str | None] = mapped_column(String(32), nullable=True)  # Art. 9(1) category
    gdpr_article10: Mapped[bool] = mapped_column(Boolean, default=False)  # criminal convictions and offences
    # Misuse may cause financial loss (a card number, a bank account, a login for a payment service): a leak of
    # it is reportable even for one person (R-26-1 trigger (2), issue 22).
    financial: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    description: Mapped[str | None] = mapped_column(String(500), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_by: Mapped[str] = mapped_column(String(80))
