"""deid use cases inside the kernel's rules: Context first, policy decision, declared purpose, one audit entry.

* ``pseudonymise`` / ``anonymise`` / ``risk`` work on files: each is authorised (``deid.*`` actions: the privacy
  officer and the analyst), needs a declared, registered purpose (R-18-1, R-17-1), and writes one audit entry per
  run with the file NAMES, column names, counts, k / l and the key name — never a value.
* 削除情報等 (the pseudonym keys, R-41-2) are reached only here: ``create_key`` / ``destroy_key`` and the first
  use of a new key name need ``deid.keys`` (the privacy officer only); a refusal names R-41-2.
* Every dataset produced is registered (``deid_datasets``: sha256 of the bytes, kind, key name) and its manifest
  carries the dataset id. ``dataset_guard`` — registered with the kernel (``register_dataset_guard``) — refuses
  taking such a file back into customers: 仮名加工情報 may not be collated with identity / contact data nor used
  to contact people (R-41-5), 匿名加工情報 may not be collated to re-identify (R-43-5).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import polars as pl

from mamori.deid.models import ANONYMISED, PSEUDONYMISED, DeidDataset
from mamori.deid.permissions import (
    DEID_ANONYMISE,
    DEID_KEYS,
    DEID_PSEUDONYMISE,
    DEID_RISK,
)
from mamori.deid.tabular.anonymise import (
    AnonymisationResult,
)
from mamori.deid.tabular.anonymise import anonymise as run_anonymise
from mamori.deid.tabular.engine import Metric, PrivacyModel
from mamori.deid.tabular.errors import DatasetError
from mamori.deid.tabular.hierarchy import Hierarchy
from mamori.deid.tabular.pseudonymise import (
    DEFAULT_KEY_NAME,
    InMemoryKeySource,
    PseudonymisationResult,
)
from mamori.deid.tabular.pseudonymise import pseudonymise as run_pseudonymise
from mamori.deid.tabular.risk import RiskReport, assess
from mamori.kernel.auditing import record_denial, record_write
from mamori.kernel.context import Context
from mamori.kernel.db import new_id
from mamori.kernel.errors import PolicyDenied
from mamori.kernel.files import FORMULA_PREFIXES, output_file, write_output
from mamori.kernel.policy import Action, Decision, Resource, decide
from mamori.purposes import service as purposes_service

KEY_PREFIX = "deid.pseudonym"  # the only system keys this service may create, use or destroy (R-41-2)
ANONYMISED_JA = "匿名加工情報"
MANIFEST_SUFFIX = ".manifest.json"
# The customers table's identity and contact columns: what a customer import collates a file with (R-41-5).
CUSTOMER_IDENTITY_COLUMNS = ("name", "kana", "phone", "email", "address", "birth_date")

_RESOURCE = Resource(kind="deid_dataset")


# --- authorisation ------------------------------------------------------------------------------------------


def _deny(ctx: Context, action: Action | str, decision: Decision) -> None:
    record_denial(ctx, action, (), decision)  # own connection: survives the rollback
    decision.raise_if_denied()


def _refusal(code: str, rules: tuple[str, ...], ja: str, en: str) -> Decision:
    return Decision(False, rules, frozenset(), ja, en, code)


def _authorise(ctx: Context, action: Action, *, rule: str | None = None, purpose: bool = True) -> None:
    """Role permission (R-23-2; ``rule`` is named first for key actions, R-41-2), then the declared purpose."""
    decision = decide(ctx, action, _RESOURCE)
    if not decision.allowed:
        if rule is not None:
            decision = replace(decision, rule_ids=(rule, *decision.rule_ids))
        _deny(ctx, action, decision)
    if not purpose:
        return
    if not ctx.purpose:
        _deny(
            ctx,
            action,
            _refusal(
                "purpose_required",
                ("R-18-1",),
                "仮名加工・匿名加工・リスク評価には利用目的の指定が必要です。",
                "De-identification needs a declared purpose.",
            ),
        )
    facts = purposes_service.facts(ctx, ctx.purpose)
    if facts is None or facts.retired:
        _deny(
            ctx,
            action,
            _refusal(
                "purpose_unknown" if facts is None else "purpose_retired",
                ("R-17-1",),
                f"利用目的「{ctx.purpose}」は登録されていないか廃止されています。",
                f"Purpose '{ctx.purpose}' is not registered or has been retired.",
            ),
        )


def _check_key_name(name: str) -> str:
    if not (name == KEY_PREFIX or name.startswith(KEY_PREFIX + ".")) or len(name) > 100:
        raise PolicyDenied(
            f"削除情報等の鍵名は {KEY_PREFIX}. で始まる名前です。",
            f"pseudonym key names start with {KEY_PREFIX}.",
            rule_id="R-41-2",
            code="key_name_refused",
        )
    return name


# --- 削除情報等: the pseudonym keys (R-41-2) ------------------------------------------------------------------


def create_key(ctx: Context, name: str = DEFAULT_KEY_NAME) -> bool:
    """Create the named pseudonym key in the keystore (wrapped by the KEK). False if it already existed."""
    _check_key_name(name)
    _authorise(ctx, DEID_KEYS, rule="R-41-2", purpose=False)
    keystore = ctx.runtime.keystore
    existed = keystore.has_system_key(name)
    keystore.system_key(name)
    record_write(
        ctx, "deid.keys.create", (), (), rule_ids=("R-41-2",), details={"key_name": name, "existed": existed}
    )
    return not existed


def destroy_key(ctx: Context, name: str) -> bool:
    """Destroy a pseudonym key (R-41-6: erase 削除情報等 once no longer needed). True if it existed."""
    _check_key_name(name)
    _authorise(ctx, DEID_KEYS, rule="R-41-2", purpose=False)
    existed = ctx.runtime.keystore.destroy_system_key(name)
    record_write(
        ctx,
        "deid.keys.destroy",
        (),
        (),
        rule_ids=("R-41-2", "R-41-6"),
        details={"key_name": name, "existed": existed},
    )
    return existed


def key_exists(ctx: Context, name: str) -> bool:
    _check_key_name(name)
    _authorise(ctx, DEID_KEYS, rule="R-41-2", purpose=False)
    return ctx.runtime.keystore.has_system_key(name)


class _AuthorisedKeys:
    """The keystore as the pseudonymisation code sees it, after authorisation: one key name, use only.

    A key that does not exist yet is created only for an actor allowed ``deid.keys`` (R-41-2)."""

    def __init__(self, ctx: Context, name: str) -> None:
        self._ctx = ctx
        self._name = _check_key_name(name)

    def system_key(self, name: str) -> bytes:
        if name != self._name:
            raise PolicyDenied("許可されていない鍵です。", "key not authorised", rule_id="R-41-2")
        keystore = self._ctx.runtime.keystore
        if not keystore.has_system_key(name):
            if not decide(self._ctx, DEID_KEYS, _RESOURCE).allowed:
                _deny(
                    self._ctx,
                    DEID_KEYS,
                    _refusal(
                        "pseudonym_key_missing",
                        ("R-41-2", "R-23-2"),
                        f"仮名化の鍵 {name} がありません。削除情報等の作成は個人情報保護管理者のみです"
                        "（deid keys create）。",
                        f"there is no pseudonym key {name}; only the privacy officer creates 削除情報等 "
                        "(deid keys create).",
                    ),
                )
            keystore.system_key(name)
            record_write(
                self._ctx, "deid.keys.create", (), (), rule_ids=("R-41-2",), details={"key_name": name}
            )
        return keystore.system_key(name)

    def destroy_system_key(self, name: str) -> None:
        raise PolicyDenied(
            "鍵の破棄は deid keys destroy で行います。", "use deid keys destroy", rule_id="R-41-2"
        )


# --- files ----------------------------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _formula_safe(df: pl.DataFrame) -> pl.DataFrame:
    """Text cells a spreadsheet would run as a formula get a leading ``'`` (OWASP; kernel.files.safe_cell)."""
    pattern = "^[" + re.escape("".join(FORMULA_PREFIXES)) + "]"
    return df.with_columns(
        pl.when(pl.col(name).str.contains(pattern))
        .then(pl.lit("'") + pl.col(name))
        .otherwise(pl.col(name))
        .alias(name)
        for name, dtype in df.schema.items()
        if dtype == pl.String
    )


def write_table(df: pl.DataFrame, path: Path, sep: str = ",", *, force: bool = False) -> None:
    """Write the data file through kernel.files (a new 0600 file, never through a symbolic link; an existing file
    only with ``force``); a CSV's formula-like text cells are neutralised."""
    try:
        if path.suffix.lower() == ".parquet":
            with output_file(path, force=force, binary=True) as fh:
                df.write_parquet(fh)
        else:
            with output_file(path, force=force, newline="") as fh:
                _formula_safe(df).write_csv(fh, separator=sep)
    except OSError as exc:
        raise DatasetError(
            f"出力ファイル {path.name} に書けません。", f"cannot write the output file {path.name}"
        ) from exc


def _register(
    ctx: Context,
    *,
    kind: str,
    output: Path,
    source_name: str,
    columns: Sequence[str],
    rows: int,
    key_name: str | None,
) -> DeidDataset:
    row = DeidDataset(
        id=new_id(),
        kind=kind,
        sha256=_sha256(output),
        file_name=output.name[:255],
        source_name=source_name[:255],
        key_name=key_name,
        columns=",".join(columns),
        rows=rows,
        purpose=ctx.purpose or "",
        created_by=ctx.actor.label[:64],
        created_at=ctx.clock.now(),
    )
    ctx.session.add(row)
    ctx.session.flush()
    return row


# --- use cases ----------------------------------------------------------------------------------------------


@dataclass
class PseudonymiseOutcome:
    result: PseudonymisationResult
    dataset_id: str
    manifest_path: Path


def pseudonymise(
    ctx: Context,
    df: pl.DataFrame,
    *,
    source_name: str,
    output: Path,
    key_name: str = DEFAULT_KEY_NAME,
    id_columns: Sequence[str] = (),
    drop: Sequence[str] = (),
    keep: Sequence[str] = (),
    sep: str = ",",
    manifest_path: Path | None = None,
    force: bool = False,
) -> PseudonymiseOutcome:
    """Create 仮名加工情報 (R-41-1) under the pseudonym key ``key_name`` (R-41-2), register it and audit it."""
    _authorise(ctx, DEID_PSEUDONYMISE)
    result = run_pseudonymise(
        df,
        keys=_AuthorisedKeys(ctx, key_name),
        key_name=key_name,
        id_columns=id_columns,
        drop=drop,
        keep=keep,
        now=ctx.clock.now(),
    )
    write_table(result.data, output, sep, force=force)
    ds = _register(
        ctx,
        kind=PSEUDONYMISED,
        output=output,
        source_name=source_name,
        columns=result.data.columns,
        rows=result.data.height,
        key_name=key_name,
    )
    result.manifest.update({"dataset_id": ds.id, "sha256": ds.sha256, "purpose": ctx.purpose})
    manifest_path = manifest_path or output.with_name(output.name + MANIFEST_SUFFIX)
    write_output(manifest_path, json.dumps(result.manifest, ensure_ascii=False, indent=2), force=force)
    removed = result.manifest["removed"]
    removed_count = sum(len(v) for v in removed.values()) if isinstance(removed, Mapping) else 0
    record_write(
        ctx,
        "deid.pseudonymise",
        (),
        result.data.columns,
        rule_ids=("R-41-1", "R-41-2"),
        details={
            "dataset_id": ds.id,
            "kind": PSEUDONYMISED,
            "file": ds.file_name,
            "source_file": ds.source_name,
            "rows_in": df.height,
            "rows_out": result.data.height,
            "columns_removed": removed_count,
            "key_name": key_name,
        },
    )
    return PseudonymiseOutcome(result, ds.id, manifest_path)


@dataclass
class AnonymiseOutcome:
    result: AnonymisationResult
    dataset_id: str


def anonymise(
    ctx: Context,
    df: pl.DataFrame,
    qis: Sequence[str],
    hierarchies: Mapping[str, Hierarchy],
    model: PrivacyModel,
    *,
    source_name: str,
    output: Path,
    sensitive: str | None = None,
    sensitive_hierarchy: Hierarchy | None = None,
    metric: Metric = "loss",
    keep: Sequence[str] = (),
    keep_suppressed: bool = False,
    sep: str = ",",
    force: bool = False,
) -> AnonymiseOutcome:
    """Create 匿名加工情報 (R-43-1), register it and audit the run (k, l, t, counts — no values).

    The one-off shuffle key (加工方法等情報, R-43-2) lives only in memory for the run and is destroyed after it."""
    _authorise(ctx, DEID_ANONYMISE)
    result = run_anonymise(
        df,
        qis,
        hierarchies,
        model,
        keys=InMemoryKeySource(),
        sensitive=sensitive,
        sensitive_hierarchy=sensitive_hierarchy,
        metric=metric,
        keep=keep,
        keep_suppressed=keep_suppressed,
    )
    write_table(result.data, output, sep, force=force)
    ds = _register(
        ctx,
        kind=ANONYMISED,
        output=output,
        source_name=source_name,
        columns=result.data.columns,
        rows=result.data.height,
        key_name=None,
    )
    record_write(
        ctx,
        "deid.anonymise",
        (),
        result.data.columns,
        rule_ids=("R-43-1", "R-43-2"),
        details={
            "dataset_id": ds.id,
            "kind": ANONYMISED,
            "file": ds.file_name,
            "source_file": ds.source_name,
            "quasi_identifiers": ",".join(qis)[:256],
            "sensitive": sensitive,
            "rows_in": df.height,
            "rows_out": result.data.height,
            "suppressed": result.suppressed,
            "k": model.k,
            "l": model.l,
            "l_kind": model.l_kind if model.l else None,
            "t": str(model.t) if model.t is not None else None,
            "suppression_limit": str(model.suppression),
        },
    )
    return AnonymiseOutcome(result, ds.id)


def risk(
    ctx: Context,
    df: pl.DataFrame,
    qis: Sequence[str],
    *,
    source_name: str,
    population: pl.DataFrame | None = None,
    threshold: float = 0.2,
    top: int = 20,
) -> RiskReport:
    """Re-identification risk of a file (figures and row numbers only), audited."""
    _authorise(ctx, DEID_RISK)
    report = assess(df, qis, population=population, threshold=threshold, top=top)
    record_write(
        ctx,
        "deid.risk",
        (),
        qis,
        details={
            "file": source_name[:255],
            "records": report.records,
            "classes": report.classes,
            "sample_uniques": report.sample_uniques,
            "prosecutor_max": str(round(report.prosecutor_max, 6)),
            "threshold": str(threshold),
            "population": population is not None,
        },
    )
    return report
