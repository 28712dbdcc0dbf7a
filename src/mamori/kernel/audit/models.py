"""The audit log's own tables (its own database: never the data store, never the keystore).

Nothing here holds a personal value: actor labels, action names, purpose codes, opaque subject ids, field
NAMES, the decision, rule ids, a reason code and small details. Erasing a person therefore never touches
these rows, and the chain keeps verifying after crypto-shredding.

Each entry and the head row also carry a MAC (HMAC-SHA256 under a keystore secret, see
:mod:`mamori.kernel.audit.chain`), so someone holding only these files cannot rebuild a chain that verifies.

Every content column is stored as text exactly as it was hashed (``at`` is a fixed-width ISO 8601 UTC string,
the list and mapping columns are canonical compact JSON), so :mod:`mamori.kernel.audit.verify` recomputes each
leaf hash byte for byte on SQLite and on PostgreSQL alike.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, MetaData, String, Table, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from mamori.kernel.db import NAMING_CONVENTION

# SQLite: INTEGER PRIMARY KEY makes seq the rowid (the table is stored in seq order); PostgreSQL: BIGINT.
SeqType = BigInteger().with_variant(Integer(), "sqlite")

HEAD_ID = 1


class AuditBase(DeclarativeBase):
    """Declarative base of the audit database (own MetaData, same naming convention as the data store)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class AuditEntryRow(AuditBase):
    """One link of the chain. ``seq`` starts at 1 and has no gaps."""

    __tablename__ = "audit_entries"
    # Who read what between two times (an incident's scope, issue 22; the audit search by actor): created with a
    # new log and added to an existing one by the writer's init_schema.
    __table_args__ = (Index("ix_audit_entries_actor_at", "actor", "at"),)

    seq: Mapped[int] = mapped_column(SeqType, primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(String(32))  # "YYYY-MM-DDTHH:MM:SS.ffffffZ" (UTC)
    actor: Mapped[str] = mapped_column(Text)
    actor_role: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text)
    purpose: Mapped[str | None] = mapped_column(Text, nullable=True)
    subject_ids: Mapped[str] = mapped_column(Text)  # canonical JSON list of opaque ids
    fields: Mapped[str] = mapped_column(Text)  # canonical JSON list of field names
    decision: Mapped[str] = mapped_column(String(8))  # allow / deny / info
    rule_ids: Mapped[str] = mapped_column(Text)  # canonical JSON list of rule ids (R-…)
    reason: Mapped[str | None] = mapped_column(String(64), nullable=True)  # a code, never free text
    details: Mapped[str] = mapped_column(Text)  # canonical JSON object of str/int/bool/null values
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    chain_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    # HMAC-SHA256(mac key, label || seq || chain_hash); NULL only in rows written before the MAC existed
    # (a log upgraded in place), which verify reports as unkeyed.
    mac: Mapped[bytes | None] = mapped_column(LargeBinary(32), nullable=True)


class AuditCheckpointRow(AuditBase):
    """A signed tree head: Ed25519 over (tree_size, Merkle root, chain hash, at)."""

    __tablename__ = "audit_checkpoints"

    tree_size: Mapped[int] = mapped_column(SeqType, primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(String(32))
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    chain_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    signature: Mapped[bytes] = mapped_column(LargeBinary(64))
    key_id: Mapped[str] = mapped_column(String(64))


class AuditHeadRow(AuditBase):
    """The single row (id = 1) every append locks first; it also carries the tip of the chain.

    ``frontier`` is the compact Merkle frontier (the roots of the perfect subtrees of the current tree, largest
    first, 32 bytes each) so a checkpoint costs O(log n) instead of re-reading every leaf.
    """

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    chain_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    frontier: Mapped[bytes] = mapped_column(LargeBinary)
    mac: Mapped[bytes | None] = mapped_column(
        LargeBinary(32), nullable=True
    )  # over last_seq, chain, frontier


ENTRIES = cast(Table, AuditEntryRow.__table__)
ACTOR_AT_INDEX = next(i for i in ENTRIES.indexes if i.name == "ix_audit_entries_actor_at")
CHECKPOINTS = cast(Table, AuditCheckpointRow.__table__)
HEAD = cast(Table, AuditHeadRow.__table__)
