"""The register of de-identified datasets, the dataset guard (R-41-5, R-43-5) and provision (R-41-4, R-43-4)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from mamori.deid import queries
from mamori.deid.models import ANONYMISED, PSEUDONYMISED
from mamori.deid.permissions import (
    DEID_DATASETS,
    DEID_PROVIDE,
)
from mamori.deid.schemas import DatasetRead
from mamori.deid.service.core import (
    ANONYMISED_JA,
    CUSTOMER_IDENTITY_COLUMNS,
    MANIFEST_SUFFIX,
    _authorise,
    _deny,
    _refusal,
    _sha256,
)
from mamori.deid.tabular.anonymise import (
    PROVISION_STATEMENT_EN,
    PROVISION_STATEMENT_JA,
)
from mamori.deid.tabular.errors import DatasetError
from mamori.deid.tabular.policy import (
    check_anonymised_collation,
    check_pseudonymised_join,
    check_pseudonymised_provision,
)
from mamori.deid.tabular.pseudonymise import (
    KIND_JA,
)
from mamori.deid.tabular.pseudonymise import KIND_JA as PSEUDONYMISED_JA
from mamori.kernel.auditing import record_denial, record_info, record_write
from mamori.kernel.context import Context
from mamori.kernel.errors import PolicyDenied, ValidationFailed
from mamori.kernel.registry import DatasetUse, register_dataset_guard

# --- the register ----------------------------------------------------------------------------------------------

DATASET_KIND_JA = {PSEUDONYMISED: "仮名加工情報", ANONYMISED: "匿名加工情報"}
MAX_LIST = 1000


def list_datasets(ctx: Context, *, kind: str | None = None, limit: int = 100) -> list[DatasetRead]:
    """The register of de-identified datasets, newest first (privacy officer, analyst). Audited as a read of the
    register; it holds no record value, so no purpose is needed."""
    if kind is not None and kind not in DATASET_KIND_JA:
        raise ValidationFailed(
            "種類は pseudonymised（仮名加工情報）か anonymised（匿名加工情報）です。",
            "kind must be pseudonymised or anonymised.",
            details={"field": "kind"},
        )
    if not 1 <= limit <= MAX_LIST:
        raise ValidationFailed(
            f"件数は 1〜{MAX_LIST} です。", f"limit must be 1..{MAX_LIST}.", details={"field": "limit"}
        )
    _authorise(ctx, DEID_DATASETS, purpose=False)
    rows = ctx.session.execute(queries.datasets(kind, limit)).scalars().all()
    record_info(ctx, "deid.datasets.list", details={"count": len(rows), "kind": kind})
    return [
        DatasetRead(
            id=r.id,
            kind=r.kind,
            kind_ja=DATASET_KIND_JA.get(r.kind, r.kind),
            sha256=r.sha256,
            file_name=r.file_name,
            source_name=r.source_name,
            key_name=r.key_name,
            columns=[c for c in r.columns.split(",") if c],
            rows=r.rows,
            purpose=r.purpose,
            created_by=r.created_by,
            created_at=r.created_at,
        )
        for r in rows
    ]


# --- the dataset guard (R-41-5, R-43-5) -----------------------------------------------------------------------


def _manifest_kind(path: object) -> str | None:
    """The kind named by a manifest written beside the file by ``pseudonymise``, if there is one."""
    if not isinstance(path, Path):
        return None
    manifest = path.with_name(path.name + MANIFEST_SUFFIX)
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    kind = data.get("kind") if isinstance(data, dict) else None
    if kind == PSEUDONYMISED_JA:
        return PSEUDONYMISED
    if kind == ANONYMISED_JA:
        return ANONYMISED
    return None


def dataset_kind(ctx: Context, use: DatasetUse) -> str | None:
    """PSEUDONYMISED / ANONYMISED if the file is a dataset deid produced (by its bytes or its manifest)."""
    rows = ctx.session.execute(queries.datasets_by_sha(use.sha256)).scalars().all()
    kinds = {r.kind for r in rows}
    if PSEUDONYMISED in kinds:
        return PSEUDONYMISED
    if ANONYMISED in kinds:
        return ANONYMISED
    return _manifest_kind(use.path)


def dataset_guard(ctx: Context, use: DatasetUse) -> None:
    """Refuse taking a de-identified dataset into customers (collation / contact list), audit the refusal."""
    kind = dataset_kind(ctx, use)
    if kind is None:
        return
    try:
        if kind == PSEUDONYMISED:
            # Importing into customers collates the data with identity and contact data and turns it into a
            # contact list: both are forbidden for 仮名加工情報 (R-41-5, 規則33).
            check_pseudonymised_join(CUSTOMER_IDENTITY_COLUMNS)
        else:
            check_anonymised_collation()  # R-43-5
    except PolicyDenied as exc:
        decision = _refusal(
            "deidentified_dataset",
            (exc.rule_id or "R-41-5",),
            f"{KIND_JA if kind == PSEUDONYMISED else ANONYMISED_JA}（{use.file_name}）は取り込めません: "
            + exc.message_ja,
            f"{use.file_name} is {'pseudonymised' if kind == PSEUDONYMISED else 'anonymised'} data and cannot "
            f"be taken in ({use.use}): " + exc.message_en,
        )
        record_denial(ctx, use.use, (), decision)
        decision.raise_if_denied()


@dataclass
class ProvideOutcome:
    kind: str
    dataset_id: str | None
    ground: str | None
    statement_ja: str | None
    statement_en: str | None


def provide(
    ctx: Context, path: Path, *, recipient: str, ground: str, joint_use_items_published: bool = False
) -> ProvideOutcome:
    """Hand a dataset deid produced to another party, recorded. 仮名加工情報 only on the grounds of R-41-4
    (委託, 事業承継, 共同利用 with the items published, or a law); 匿名加工情報 with the R-43-4 statement."""
    _authorise(ctx, DEID_PROVIDE)
    try:
        sha = _sha256(path)
    except OSError as exc:
        raise DatasetError(
            f"入力ファイル {path.name} を読めません。", f"cannot read input file {path.name}"
        ) from exc
    use = DatasetUse(use=str(DEID_PROVIDE), file_name=path.name, sha256=sha, path=path)
    kind = dataset_kind(ctx, use)
    if kind is None:
        raise DatasetError(
            f"{path.name} は deid で作成した仮名加工情報・匿名加工情報ではありません"
            "（個人データの提供は provision で記録します）。",
            f"{path.name} is not a dataset made by deid (provide personal data through provision)",
            code="deid_not_a_dataset",
        )
    rows = ctx.session.execute(queries.datasets_by_sha(sha)).scalars().all()
    dataset_id = rows[-1].id if rows else None
    legal_ground: str | None = None
    if kind == PSEUDONYMISED:
        try:
            legal_ground = check_pseudonymised_provision(
                ground, joint_use_items_published=joint_use_items_published
            )
        except PolicyDenied as exc:
            decision = _refusal(
                "pseudonymised_provision", (exc.rule_id or "R-41-4",), exc.message_ja, exc.message_en
            )
            _deny(ctx, DEID_PROVIDE, decision)
    record_write(
        ctx,
        "deid.provide",
        (),
        (),
        rule_ids=("R-41-4",) if kind == PSEUDONYMISED else ("R-43-4",),
        details={
            "dataset_id": dataset_id,
            "kind": kind,
            "file": path.name[:255],
            "recipient": recipient[:200],
            "ground": legal_ground or ground[:64],
        },
    )
    if kind == ANONYMISED:
        return ProvideOutcome(kind, dataset_id, None, PROVISION_STATEMENT_JA, PROVISION_STATEMENT_EN)
    return ProvideOutcome(kind, dataset_id, legal_ground, None, None)


def register() -> None:
    """The dataset guard (called by mamori.composition.register_all, after the slices' permissions)."""
    register_dataset_guard(dataset_guard)
