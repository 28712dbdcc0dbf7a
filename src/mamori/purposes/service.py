"""The purpose registry (利用目的). The only writer of purposes / purpose_versions.

A purpose is retired, never deleted; editing its text or scope makes a new version, so the version notified to a
person at collection stays provable (R-17-1, R-17-2).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import cast

from sqlalchemy import ScalarSelect

from mamori.kernel.auditing import authorise, record_write
from mamori.kernel.context import Context
from mamori.kernel.errors import Conflict, NotFound, ValidationFailed
from mamori.kernel.policy import CHANNELS, Action, Category, PurposeFacts, Resource
from mamori.law.rules import G_6, R_17_1, R_17_2
from mamori.purposes import queries
from mamori.purposes.models import Purpose, PurposeVersion
from mamori.purposes.schemas import PurposeCreate, PurposeRead

# R-17-1: the PPC gives these as purposes too vague for the person to foresee the final use.
VAGUE_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"事業活動に(用|利用|使用)"), "「事業活動に用いるため」"),
    (re.compile(r"マーケティング活動に(用|利用|使用)"), "「マーケティング活動に用いるため」"),
    (re.compile(r"(サービス|事業)の(向上|改善)のため$"), "「サービス向上のため」"),
    (re.compile(r"\bfor (our )?business (activities|purposes)\b", re.I), "'for business purposes'"),
    (re.compile(r"\bfor marketing( activities| purposes)?\.?$", re.I), "'for marketing'"),
)


def wording_warnings(data: PurposeCreate) -> list[str]:
    """R-17-1 warnings: vague wording, unstated profiling, unstated third-party provision."""
    warnings: list[str] = []
    for text in (data.text_ja, data.text_en, data.title_ja, data.title_en):
        norm = unicodedata.normalize("NFKC", text).strip().rstrip("。.")
        for pattern, label in VAGUE_PATTERNS:
            if pattern.search(norm):
                warnings.append(
                    f"{R_17_1.id}: 曖昧な利用目的の表現 {label} — 本人が最終的な利用を予測できる程度に具体的に記載してください。"
                )
    if len(unicodedata.normalize("NFKC", data.text_ja).strip()) < 12:
        warnings.append(f"{R_17_1.id}: 利用目的の説明が短すぎます（具体的に特定してください）。")
    if Category.BEHAVIOUR in data.categories and not re.search(r"分析|プロファイリング|解析", data.text_ja):
        warnings.append(f"{R_17_1.id}: 行動・関心の分析を行う場合は、その旨を利用目的に記載してください。")
    if data.third_party and not re.search(r"第三者|提供", data.text_ja):
        warnings.append(f"{R_17_1.id}: 第三者提供を含む場合は、その旨を利用目的に記載してください。")
    if data.lawful_basis is None:
        warnings.append(
            f"{G_6.id}: GDPR の適法性の根拠が未登録です。GDPR の対象者のデータはこの目的では利用できません。"
        )
    if Category.SENSITIVE in data.categories and data.art9_condition is None:
        warnings.append(
            f"{G_6.id}: GDPR 9条2項の要件が未登録です。GDPR の対象者の要配慮（特別な種類）の項目はマスクされます。"
        )
    return list(dict.fromkeys(warnings))


def _lawful_basis(data: PurposeCreate) -> PurposeCreate:
    """G-6: the GDPR lawful basis, checked; ``consent_gdpr`` follows from it (basis == consent)."""
    basis = data.lawful_basis
    if basis is None:
        basis = "consent" if data.consent_gdpr else None
    elif data.consent_gdpr and basis != "consent":
        raise ValidationFailed(
            "GDPR の同意の要否（consent_gdpr）は適法性の根拠が consent のときだけ指定できます。",
            "GDPR consent (consent_gdpr) goes only with the lawful basis 'consent'.",
            rule_id=G_6.id,
            code="lawful_basis_conflict",
        )
    if basis == "legitimate_interests" and not data.balancing_ref:
        raise ValidationFailed(
            "正当な利益（legitimate_interests）には比較衡量の記録（balancing_ref）が必要です。",
            "Legitimate interests needs the id of its balancing record (balancing_ref).",
            rule_id=G_6.id,
            code="balancing_record_missing",
        )
    if data.balancing_ref and basis != "legitimate_interests":
        raise ValidationFailed(
            "比較衡量の記録（balancing_ref）は正当な利益（legitimate_interests）のときだけ指定できます。",
            "balancing_ref goes only with the lawful basis 'legitimate_interests'.",
            rule_id=G_6.id,
            code="balancing_record_unexpected",
        )
    if data.art9_condition is not None and Category.SENSITIVE not in data.categories:
        raise ValidationFailed(
            "GDPR 9条2項の要件は要配慮（sensitive）の区分を含む利用目的にだけ指定できます。",
            "An Art. 9(2) condition goes only with a purpose covering the sensitive category.",
            rule_id=G_6.id,
            code="art9_without_sensitive",
        )
    return data.model_copy(update={"lawful_basis": basis, "consent_gdpr": basis == "consent"})


# Issue 24: what analysis / profiling reads. A purpose flagged ``profiling`` must cover one of these categories.
PROFILED_CATEGORIES: frozenset[Category] = frozenset({Category.BEHAVIOUR, Category.ATTRIBUTE})
# R-17-1: the Japanese notice text of a profiling purpose must say so in one of these words.
PROFILING_WORDS = re.compile(r"分析|プロファイリング")
# … said, not denied: a mention followed in the same clause by a negation (「分析は行いません」「プロファイリングを
# 含みません」「分析することはありません」) does not state it.
_DENIED = re.compile(
    r"(?:分析|プロファイリング)[^。、．，,.\n]{0,12}?"
    r"(?:しません|いたしません|致しません|行いません|おこないません|行わない|しない|含みません|含まない|"
    r"ことはありません|ことはない|ことはございません)"
)


def states_profiling(text_ja: str) -> bool:
    """Whether a Japanese notice text says the purpose includes analysis / profiling (R-17-1): a mention of 分析 or
    プロファイリング that is not denied in the same clause."""
    text = unicodedata.normalize("NFKC", text_ja)
    return len(PROFILING_WORDS.findall(text)) > len(_DENIED.findall(text))


def check_profiling(data: PurposeCreate) -> None:
    """Issue 24 / R-17-1: a purpose that includes analysis or profiling must say so in its Japanese notice text
    (分析 / プロファイリング) and cover the behaviour or attribute data the analysis reads. Raises
    ValidationFailed; a purpose not flagged ``profiling`` passes."""
    if not data.profiling:
        return
    if not PROFILED_CATEGORIES.intersection(data.categories):
        raise ValidationFailed(
            "分析・プロファイリングを含む利用目的は、分析の対象となる行動（behaviour）または属性（attribute）の"
            "データ区分を含めてください。",
            "A purpose that includes analysis or profiling must cover the behaviour or attribute data category "
            "the analysis reads.",
            rule_id=R_17_1.id,
            code="profiling_without_category",
        )
    if not states_profiling(data.text_ja):
        raise ValidationFailed(
            "分析・プロファイリングを含む利用目的は、その旨（「分析」または「プロファイリング」）を利用目的の文面"
            "（日本語）に記載してください。本人が通知・公表される文面で分かる必要があります。",
            "A purpose that includes analysis or profiling must say so in its Japanese notice text (分析 or "
            "プロファイリング): the person must be able to read it in the notice.",
            rule_id=R_17_1.id,
            code="profiling_not_stated",
        )


def _read(purpose: Purpose, version: PurposeVersion, warnings: list[str] | None = None) -> PurposeRead:
    return PurposeRead(
        code=purpose.code,
        version=version.version,
        title_ja=version.title_ja,
        title_en=version.title_en,
        text_ja=version.text_ja,
        text_en=version.text_en,
        categories=[Category(c) for c in version.categories.split(",") if c],
        third_party=version.third_party,
        consent_appi=version.consent_appi,
        consent_gdpr=version.consent_gdpr,
        retention_days=version.retention_days,
        retired=purpose.retired_at is not None,
        created_at=version.created_at,
        lawful_basis=version.lawful_basis,
        balancing_ref=version.balancing_ref,
        art9_condition=version.art9_condition,
        art10=version.art10,
        channels=[c for c in (version.channels or "").split(",") if c],
        marketing=bool(version.marketing),
        profiling=bool(version.profiling),
        warnings=warnings or [],
    )


def _version_row(ctx: Context, purpose_id: int, version: int, data: PurposeCreate) -> PurposeVersion:
    return PurposeVersion(
        purpose_id=purpose_id,
        version=version,
        title_ja=data.title_ja,
        title_en=data.title_en,
        text_ja=data.text_ja,
        text_en=data.text_en,
        categories=",".join(c.value for c in data.categories),
        third_party=data.third_party,
        consent_appi=data.consent_appi,
        consent_gdpr=data.consent_gdpr,
        retention_days=data.retention_days,
        created_at=ctx.clock.now(),
        created_by=ctx.actor.label,
        lawful_basis=data.lawful_basis,
        balancing_ref=data.balancing_ref,
        art9_condition=data.art9_condition,
        art10=data.art10,
        channels=",".join(c for c in CHANNELS if c in data.channels),  # one order (validated by the schema)
        marketing=data.marketing,
        profiling=data.profiling,
    )


def add(ctx: Context, data: PurposeCreate) -> PurposeRead:
    authorise(ctx, Action.PURPOSE_MANAGE, Resource(kind="purpose"))
    data = _lawful_basis(data)
    check_profiling(data)
    if ctx.session.execute(queries.by_code(data.code)).scalar_one_or_none() is not None:
        raise Conflict(
            f"利用目的「{data.code}」は既に存在します（変更は新しい版として登録してください）。",
            f"Purpose '{data.code}' already exists (edit it to make a new version).",
            code="purpose_exists",
        )
    purpose = Purpose(code=data.code, current_version=1, created_at=ctx.clock.now())
    ctx.session.add(purpose)
    ctx.session.flush()
    version = _version_row(ctx, purpose.id, 1, data)
    ctx.session.add(version)
    ctx.session.flush()
    record_write(ctx, "purpose.add", (), ("purpose",), details={"purpose": data.code, "version": 1})
    return _read(purpose, version, wording_warnings(data))


def revise(ctx: Context, data: PurposeCreate) -> PurposeRead:
    """A new version of an existing purpose. Whether the change stays within what is reasonably related to the
    old purpose (R-17-2) is a human judgement; the system keeps every version and logs the change."""
    authorise(ctx, Action.PURPOSE_MANAGE, Resource(kind="purpose"))
    data = _lawful_basis(data)
    check_profiling(data)
    purpose = _get(ctx, data.code)
    purpose.current_version += 1
    version = _version_row(ctx, purpose.id, purpose.current_version, data)
    ctx.session.add(version)
    ctx.session.flush()
    record_write(
        ctx,
        "purpose.revise",
        (),
        ("purpose",),
        rule_ids=(R_17_2.id,),
        details={"purpose": data.code, "version": purpose.current_version},
    )
    result = _read(purpose, version, wording_warnings(data))
    return result.model_copy(update={"pending_notice": pending_notice_count(ctx, data.code)})


def retire(ctx: Context, code: str) -> PurposeRead:
    authorise(ctx, Action.PURPOSE_MANAGE, Resource(kind="purpose"))
    purpose = _get(ctx, code)
    if purpose.retired_at is None:
        purpose.retired_at = ctx.clock.now()
        ctx.session.flush()
        record_write(ctx, "purpose.retire", (), ("purpose",), details={"purpose": code})
    return show(ctx, code)


def _get(ctx: Context, code: str) -> Purpose:
    purpose = ctx.session.execute(queries.by_code(code)).scalar_one_or_none()
    if purpose is None:
        raise NotFound(
            f"利用目的「{code}」は登録されていません。",
            f"Purpose '{code}' is not registered.",
            rule_id=R_17_1.id,
            code="purpose_unknown",
        )
    return purpose


def show(ctx: Context, code: str) -> PurposeRead:
    row = ctx.session.execute(queries.current([code])).one_or_none()
    if row is None:
        _get(ctx, code)
        raise AssertionError("unreachable")
    return _read(row[0], row[1])


def history(ctx: Context, code: str) -> list[PurposeRead]:
    purpose = _get(ctx, code)
    return [_read(purpose, v) for v in ctx.session.execute(queries.versions(purpose.id)).scalars()]


def list_purposes(ctx: Context, *, include_retired: bool = True) -> list[PurposeRead]:
    rows = [_read(p, v) for p, v in ctx.session.execute(queries.current()).all()]
    return [r for r in rows if include_retired or not r.retired]


def _facts(purpose: Purpose, version: PurposeVersion) -> PurposeFacts:
    return PurposeFacts(
        code=purpose.code,
        categories=frozenset(Category(c) for c in version.categories.split(",") if c),
        consent_required_appi=version.consent_appi,
        consent_required_gdpr=version.consent_gdpr,
        retired=purpose.retired_at is not None,
        version=version.version,
        lawful_basis=version.lawful_basis,
        art9_condition=version.art9_condition,
        channels=frozenset(c for c in (version.channels or "").split(",") if c),
        marketing=bool(version.marketing),
        profiling=bool(version.profiling),  # issue 24: the notice of this version says it includes profiling
    )


def facts(ctx: Context, code: str | None) -> PurposeFacts | None:
    """What the policy engine needs to know about a purpose's CURRENT version (None if unknown)."""
    if not code:
        return None
    row = ctx.session.execute(queries.current([code])).one_or_none()
    if row is None:
        return None
    purpose, version = row
    return _facts(purpose, version)


def version_facts(ctx: Context, code: str) -> dict[int, PurposeFacts]:
    """The facts of every version of a purpose, by version number ({} if unknown)."""
    purpose = ctx.session.execute(queries.by_code(code)).scalar_one_or_none()
    if purpose is None:
        return {}
    return {
        v.version: _facts(purpose, v) for v in ctx.session.execute(queries.versions(purpose.id)).scalars()
    }


def as_notified(notified: PurposeFacts, current: PurposeFacts) -> PurposeFacts:
    """A purpose as it applies to a person notified of version ``notified`` while ``current`` is in force.

    R-17-2 / R-21-1: the person was told only what that version says, so only its data categories (and only
    those the current version still covers) may be used; where either version needs consent, consent is
    needed (the stricter applies); the GDPR basis and Art. 9(2) condition hold only when both versions have the
    same one (G-6); analysis / profiling is allowed only when both versions include it (issue 24, R-17-1: the
    person must have been told).
    """
    if notified.version == current.version:
        return current
    return PurposeFacts(
        code=current.code,
        categories=notified.categories & current.categories,
        consent_required_appi=notified.consent_required_appi or current.consent_required_appi,
        consent_required_gdpr=notified.consent_required_gdpr or current.consent_required_gdpr,
        retired=current.retired,
        version=notified.version,
        lawful_basis=current.lawful_basis if notified.lawful_basis == current.lawful_basis else None,
        art9_condition=current.art9_condition if notified.art9_condition == current.art9_condition else None,
        unnotified=current.categories - notified.categories,
        # issue 20: only channels both versions name (the person was told of no other), the stricter opt-in need
        channels=notified.channels & current.channels,
        marketing=notified.marketing or current.marketing,
        # issue 24: analysis only when the version the person was told of says so and the current one still does
        profiling=notified.profiling and current.profiling,
    )


def facts_for_version(ctx: Context, code: str | None, version: int | None) -> PurposeFacts | None:
    """The facts that apply to a person notified of ``version`` of ``code`` (the current version's facts when
    ``version`` is None, i.e. the person was not notified of the purpose at all). Cached per unit of work, and
    across units of work while the catalog stamp read with the caller's data (:func:`note_catalog_stamp`) is
    unchanged."""
    if not code:
        return None
    key = ("purpose_version_facts", code)
    if key not in ctx.memo:
        stamp = ctx.memo.get(CATALOG_STAMP)
        if stamp is None:
            ctx.memo[key] = version_facts(ctx, code)
        else:
            shared = ctx.runtime.caches.stamped("purposes.version_facts")
            ctx.memo[key] = shared.get(stamp, code, lambda: version_facts(ctx, code))
    by_version: dict[int, PurposeFacts] = ctx.memo[key]  # type: ignore[assignment]
    if not by_version:
        return None
    current = by_version[max(by_version)]
    notified = by_version.get(version) if version is not None else None
    return current if notified is None else as_notified(notified, current)


# ctx.memo key of the catalog stamp the caller read in its own statement (see queries.catalog_stamp).
CATALOG_STAMP = "purposes.catalog_stamp"


def catalog_stamp_column() -> ScalarSelect[str]:
    """Select this beside your row, then pass the value to :func:`note_catalog_stamp`: the purpose facts of
    this unit of work then come from the process's cache when the catalog has not changed (no extra query)."""
    return queries.catalog_stamp()


def note_catalog_stamp(ctx: Context, stamp: str | None) -> None:
    if stamp is not None:
        ctx.memo[CATALOG_STAMP] = stamp


# Counts the persons notified of an older version of a purpose only (registered by the customers slice, which
# holds the notices; purposes may not read customers). Used to say how many need the new notice (R-17-2).
NoticeCounter = Callable[[Context, str], int]
_notice_counters: list[NoticeCounter] = []


def register_notice_counter(counter: NoticeCounter) -> None:
    """Called once by the customers slice (``customers.service.notices``) when it is imported."""
    if counter not in _notice_counters:
        _notice_counters.append(counter)


def pending_notice_count(ctx: Context, code: str) -> int | None:
    """How many persons still need the notice of the current version of ``code`` (None: nobody counts)."""
    if not _notice_counters:
        return None
    return sum(counter(ctx, code) for counter in _notice_counters)


def current_versions(ctx: Context, codes: list[str]) -> dict[str, tuple[int, bool]]:
    """code → (current version, retired) for the given codes (from the process's cache while the catalog stamp
    noted in this unit of work is unchanged)."""
    stamp = ctx.memo.get(CATALOG_STAMP)
    if stamp is None:
        return {
            p.code: (v.version, p.retired_at is not None)
            for p, v in ctx.session.execute(queries.current(codes)).all()
        }

    def every() -> dict[str, tuple[int, bool]]:
        return {
            p.code: (v.version, p.retired_at is not None)
            for p, v in ctx.session.execute(queries.current()).all()
        }

    catalog = cast(
        dict[str, tuple[int, bool]], ctx.runtime.caches.stamped("purposes.current").get(stamp, "all", every)
    )
    return {code: catalog[code] for code in codes if code in catalog}
