"""Fulfilment through every slice's subject data source (mamori.kernel.registry.sources()).

This module never imports a slice to fulfil a request: adding a slice that registers a source is enough for
its data to be disclosed, corrected and erased. Customers and consent are imported only for locating people
and for the stop-use suppression (the allowed direction).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from mamori.consent import service as consent_service
from mamori.kernel import labels, mail, registry
from mamori.kernel.auditing import authorise
from mamori.kernel.clock import today_jst
from mamori.kernel.context import Context
from mamori.kernel.errors import NotFound, PolicyDenied, ValidationFailed
from mamori.kernel.notify import notifier_for, purge_concerning
from mamori.kernel.policy import Action, Resource
from mamori.kernel.registry import Recipient, SubjectRecord
from mamori.kernel.runtime import SCRUB_PENDING
from mamori.law.rules import (
    G_15,
    G_16,
    G_17,
    G_19,
    G_20,
    G_21,
    R_16_4,
    R_33_1,
    R_33_2,
    R_33_3,
    R_34_1,
    R_35_1,
    R_37_1,
)
from mamori.purposes import service as purposes_service
from mamori.rights.grounds import GROUNDS, PARTIAL_GROUNDS
from mamori.rights.models import RightsRequest
from mamori.rights.schemas import (
    CorrectionOut,
    DisclosurePackage,
    Outcome,
    RecordOut,
    rule_for,
)
from mamori.rights.service import core, delivery, forget, letters, sealing

_CATEGORY = re.compile(r"[a-z0-9_.-]{1,32}:[a-z0-9_.-]{1,32}")
STOPPING = frozenset({"stop_use", "stop_provision", "restriction", "objection"})
DISCLOSING_KINDS = frozenset({"disclosure", "provision_records", "portability"})


def _recipient(r: Recipient) -> dict[str, Any]:
    return {
        "counterparty_id": r.counterparty_id,
        "name": r.name,
        "kind": r.kind,
        "country": r.country,
        "last_provided_at": r.last_provided_at.isoformat() if r.last_provided_at else None,
    }


def _recipients(ctx: Context, ids: Sequence[str]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for sid in ids:
        for source in registry.sources():
            for r in source.recipients(ctx, sid):
                seen.setdefault(f"{r.kind}:{r.counterparty_id}", _recipient(r))
    return list(seen.values())


def _unverified_targets(ctx: Context, req: RightsRequest, ids: Sequence[str]) -> int:
    """Identifiers that reach nobody because they were never verified. A claimed customer id that no verified
    identifier reaches is refused (R-37-1: seed 001 case 2 — asking for another customer's data); naming one's
    own customer id, reached by a verified identifier, is not."""
    reached = {sealing.identifier_digest(ctx, "customer", sid) for sid in ids}
    refused = 0
    for ident in core._identifiers(ctx, req.id):
        if ident.verified_at is not None:
            continue
        if ident.kind == "customer" and bytes(ident.digest) in reached:
            continue
        refused += 1
    return refused


def _in_scope(req: RightsRequest, record: SubjectRecord) -> bool:
    if req.kind == "provision_records":
        return record.category == "provision_record"  # R-33-3
    if not req.categories:
        return True
    wanted = set(req.categories.split(","))
    return f"{record.source}:{record.category}" in wanted


def _purposes(ctx: Context, ids: Sequence[str]) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    seen: set[str] = set()
    for _cid, code, version, method in core.notified_purposes(ctx, ids):
        if code in seen:
            continue
        seen.add(code)
        try:
            p = purposes_service.show(ctx, code)
            title, text = p.title_ja, p.text_ja
        except NotFound:
            title, text = code, ""
        out.append({"code": code, "version": str(version), "method": method, "title": title, "text": text})
    return out


def _disclose(
    ctx: Context, req: RightsRequest, ids: Sequence[str], partial: Mapping[str, str]
) -> tuple[DisclosurePackage, int, int]:
    records: list[RecordOut] = []
    withheld = 0
    refused = 0
    for sid in ids:
        for source in registry.sources():
            for rec in source.export(ctx, sid):
                if rec.excluded is not None:
                    withheld += 1  # R-16-4: not 保有個人データ; left out, counted, never shown
                    continue
                if not _in_scope(req, rec):
                    continue
                if f"{rec.source}:{rec.category}" in partial:
                    refused += 1  # R-33-2: partial refusal with its ground, recorded on the request
                    continue
                records.append(
                    RecordOut(
                        source=rec.source,
                        category=rec.category,
                        record_id=rec.record_id,
                        data=dict(rec.data),
                        acquired_from=rec.acquired_from,
                        purposes=list(rec.purposes),
                        occurred_at=rec.occurred_at,
                    )
                )
    rules = [rule_for(req.kind, req.regime)]
    if req.kind == "provision_records":
        rules.append(R_33_3.id)
    if req.kind == "portability":
        rules.append(G_20.id)
    package = DisclosurePackage(
        request_id=req.id,
        kind=req.kind,
        regime=req.regime,
        rule_ids=rules,
        generated_at=ctx.clock.now(),
        subject_ids=list(ids),
        purposes=_purposes(ctx, ids) if req.kind != "provision_records" else [],
        records=records,
        recipients=_recipients(ctx, ids) if req.regime == "gdpr" or req.kind != "portability" else [],
        refused_categories=dict(partial),
        refusal_explanation=(
            sealing.open_reason(ctx, req.id, "refusal_explanation_enc", req.refusal_explanation_enc)
            if partial
            else None
        ),
        receipt_no=req.receipt_no,
        received_at=req.received_at,
        fee_yen=req.fee_yen,
        lang=req.lang or "ja",
        no_data=not records,
    )
    # The sources audit their own reads (record_read); the request's "rights.fulfilled" write entry names the
    # subjects and the rule in the same transaction, so no separate read entry (one fsync less) is written here.
    return package, withheld, refused


def _check_partial(req: RightsRequest, partial: Mapping[str, str], explanation: str | None) -> str | None:
    """Partial refusals (``source:category`` → ground): grounds of the request's regime that may refuse part of
    a disclosure (法第33条第2項; GDPR 15(4), 20(4)), with the concrete reason the person is told (法第36条).
    Returns the explanation to seal, or None when nothing is refused."""
    too_long = len(",".join(f"{k}={v}" for k, v in partial.items())) > 400
    allowed = sorted(
        g for g in PARTIAL_GROUNDS if GROUNDS[g].applies_to(req.kind, req.regime) or req.kind == "portability"
    )
    for category, ground in partial.items():
        spec = GROUNDS.get(ground)
        fits = spec is not None and ground in PARTIAL_GROUNDS and spec.regime in (req.regime, "both")
        if not fits or not _CATEGORY.fullmatch(category) or too_long:
            raise ValidationFailed(
                "一部不開示は「データ源:区分=事由」の形で、この請求に使える事由は "
                f"{labels.choices('refusal_ground', allowed)} です。",
                f"Partial refusal: source:category=ground, with a ground of this request's regime: {', '.join(allowed)}.",
                rule_id=G_15.id if req.regime == "gdpr" else R_33_2.id,
                code="bad_partial_refusal",
            )
    if partial and req.kind not in ("disclosure", "provision_records", "portability"):
        raise ValidationFailed(
            "一部不開示は開示の請求にだけ使えます。",
            "Partial refusal applies to disclosure only.",
            rule_id=R_33_2.id,
            code="bad_partial_refusal",
        )
    if not partial:
        return None
    return core.require_explanation(GROUNDS[next(iter(partial.values()))], explanation)


def _correct(
    ctx: Context, ids: Sequence[str], corrections: Sequence[tuple[str, str, Mapping[str, str | None]]]
) -> list[CorrectionOut]:
    if not corrections:
        raise ValidationFailed(
            "訂正する記録と値を指定してください（データ源, 記録ID, 項目=値）。",
            "Give the corrections (source, record id, field=value).",
            rule_id=R_34_1.id,
            code="corrections_required",
        )
    by_name = {s.name: s for s in registry.sources()}
    out: list[CorrectionOut] = []
    for source_name, record_id, changes in corrections:
        source = by_name.get(source_name)
        if source is None:
            raise ValidationFailed(
                "不明なデータ源です。",
                "Unknown data source.",
                code="unknown_source",
                details={"source": source_name},
            )
        done = False
        for sid in ids:  # only the verified subjects' own records can be reached
            try:
                applied = source.correct(ctx, sid, record_id, changes)
            except NotFound:
                continue
            out.extend(
                CorrectionOut(
                    source=c.source,
                    category=c.category,
                    record_id=c.record_id,
                    field=c.field,
                    before=c.before,
                    after=c.after,
                )
                for c in applied
            )
            done = True
            break
        if not done:
            raise NotFound(
                "この本人の記録が見つかりません。",
                "No such record for the verified person.",
                rule_id=R_37_1.id,
                code="record_not_found",
            )
    return out


def _stop(ctx: Context, req: RightsRequest, ids: Sequence[str]) -> list[str]:
    scope = req.stop_scope or "all"
    if req.kind == "stop_provision":
        scope = "provision"
    out: list[str] = []
    for sid in ids:
        consent_service.suppress(
            ctx, sid, scope, req.purpose if scope == "purpose" else None, f"rights:{req.id}"
        )
        out.append(f"{sid}:{scope}:{req.purpose or '*'}" if scope == "purpose" else f"{sid}:{scope}")
    return out


_ERASURE_ANSWER = ("rights", "erasure_answer")  # the erasure's result notice, queued before the values go


def _erase(
    ctx: Context, req: RightsRequest, ids: Sequence[str]
) -> tuple[dict[str, int], list[dict[str, Any]], dict[str, int]]:
    recipients = _recipients(ctx, ids)  # before erasing: who received the data must be told (G-19)
    # Before anything is erased: what the rights slice holds under the person's identifiers (it needs their
    # registered contacts and the values typed into their requests, which are unreadable afterwards).
    trace = forget.trace_person(ctx, ids)
    erased: dict[str, int] = {}
    for sid in ids:
        for source in registry.sources():
            erased[source.name] = erased.get(source.name, 0) + int(source.erase(ctx, sid))
    done = Outcome(
        request_id=req.id, kind=req.kind, outcome="fulfilled", rule_ids=[], recipients_to_notify=recipients
    )
    # The result notice is queued now, while the person's address can still be read, and kept through the
    # erasure: it must still reach them (sealed in the queue, its content erased once sent).
    answer_id = delivery.send(ctx, req, letters.result_notice(ctx, req, done), delivery.TOPIC_ANSWER)
    # Nothing else of the person may remain outside a destroyed key: every other queued message about them and
    # the copies the mail backend kept (one-time codes, notices — whatever address they went to, an old one
    # included), the claimed values and keyed digests of their identifiers in every request, the throttle counts
    # kept under them, and the keys of the requests that reached them. The edge then checkpoints the SQLite
    # files (SCRUB_PENDING).
    purged = mail.forget(
        ctx, subject_ids=ids, request_ids=trace.requests, keep=[answer_id] if answer_id else []
    )
    purged += purge_concerning(notifier_for(ctx.runtime.settings.home_path), recipients=trace.emails)
    scrubbed, throttles, keys = forget.forget_person(ctx, trace)
    ctx.memo[SCRUB_PENDING] = True
    ctx.memo[_ERASURE_ANSWER] = answer_id
    counts = {
        "messages_purged": purged,
        "identifiers_scrubbed": scrubbed,
        "throttle_rows_dropped": throttles,
        "request_keys_destroyed": keys,
    }
    return erased, recipients, counts


def _require_subjects(ids: Sequence[str]) -> None:
    if not ids:
        raise PolicyDenied(
            "確認された本人の記録がありません。",
            "No records of the verified person.",
            rule_id=R_37_1.id,
            code="no_subject",
        )


def fulfil(
    ctx: Context,
    request_id: str,
    *,
    partial_refusals: Mapping[str, str] | None = None,
    corrections: Sequence[tuple[str, str, Mapping[str, str | None]]] = (),
    refusal_explanation: str | None = None,
) -> tuple[Outcome, DisclosurePackage | None]:
    """Carry out a verified request through every registered source and close it.

    - purpose_notice (R-32-2): the purposes notified to the person.
    - disclosure / provision_records / portability (R-33-1, R-33-3, G-15, G-20): a package; 政令5 records are
      left out and counted (R-16-4); ``partial_refusals`` (``source:category`` → ground) are refused (R-33-2)
      with ``refusal_explanation``, the concrete reason the person is told (法第36条), sealed on the request.
    - correction (R-34-1, G-16): ``corrections`` applied via source.correct(); before/after notice.
    - stop_use / stop_provision / restriction / objection (R-35-1, G-18, G-21): a suppression, in force at once.
    - erasure (R-35-1, G-17): every source's erase(); the recipients to notify are listed (G-19).
    """
    authorise(ctx, Action.RIGHTS_MANAGE, Resource(kind="rights_request"))
    req = core._open_request(ctx, request_id)
    ids = core._require_verified(ctx, req)
    partial = dict(partial_refusals or {})
    explanation = _check_partial(req, partial, refusal_explanation)
    if explanation is not None:
        req.refusal_explanation_enc = sealing.seal_reason(ctx, req.id, "refusal_explanation_enc", explanation)
    unverified = _unverified_targets(ctx, req, ids)
    rule = rule_for(req.kind, req.regime)
    outcome = Outcome(request_id=req.id, kind=req.kind, outcome="fulfilled", rule_ids=[rule])
    package: DisclosurePackage | None = None
    details: dict[str, str | int | bool | None] = {
        "subject_count": len(ids),
        "unverified_identifiers": unverified,
    }

    if req.kind == "purpose_notice":
        package = DisclosurePackage(
            request_id=req.id,
            kind=req.kind,
            regime=req.regime,
            rule_ids=[rule],
            generated_at=ctx.clock.now(),
            subject_ids=list(ids),
            purposes=_purposes(ctx, ids),
            records=[],
            recipients=[],
            receipt_no=req.receipt_no,
            received_at=req.received_at,
            fee_yen=req.fee_yen,
            lang=req.lang or "ja",
            no_data=not ids,
        )
        details["purposes"] = len(package.purposes)
    elif req.kind in ("disclosure", "provision_records", "portability"):
        package, withheld, refused = _disclose(ctx, req, ids, partial)
        req.withheld_count = withheld
        details.update(records=len(package.records), withheld=withheld, refused_records=refused)
        if withheld:
            outcome.rule_ids.append(R_16_4.id)
        if partial:
            outcome.outcome = "partial"
            outcome.rule_ids.append(R_33_2.id)
            refused_parts = ",".join(f"{k}={v}" for k, v in sorted(partial.items()))
            details["refused_categories"] = refused_parts
            req.refused_parts = refused_parts
        if req.kind == "disclosure" and req.regime == "appi" and R_33_1.id not in outcome.rule_ids:
            outcome.rule_ids.append(R_33_1.id)
        if req.regime == "gdpr" and G_15.id not in outcome.rule_ids:
            outcome.rule_ids.append(G_15.id)
    elif req.kind == "correction":
        _require_subjects(ids)
        outcome.corrections = _correct(ctx, ids, corrections)
        outcome.recipients_to_notify = _recipients(ctx, ids)
        outcome.rule_ids = [R_34_1.id, G_16.id, G_19.id] if req.regime == "gdpr" else [R_34_1.id]
        details.update(
            corrected=len(outcome.corrections),
            fields=",".join(sorted({c.field for c in outcome.corrections})),
        )
    elif req.kind in STOPPING:
        _require_subjects(ids)
        outcome.suppressions = _stop(ctx, req, ids)
        outcome.rule_ids = sorted({R_35_1.id, rule} | ({G_21.id} if req.kind == "objection" else set()))
        details.update(scope=req.stop_scope, purpose=req.purpose)
    elif req.kind == "erasure":
        _require_subjects(ids)
        outcome.erased, outcome.recipients_to_notify, forgotten = _erase(ctx, req, ids)
        outcome.rule_ids = sorted({R_35_1.id, rule} | ({G_17.id, G_19.id} if req.regime == "gdpr" else set()))
        details.update(
            erased_records=sum(outcome.erased.values()),
            recipients_to_notify=len(outcome.recipients_to_notify),
            **forgotten,
        )
    else:  # pragma: no cover - KINDS is closed
        raise ValidationFailed("不明な請求種別です。", "Unknown request kind.", code="bad_kind")

    if unverified and outcome.outcome == "fulfilled":
        outcome.outcome = "partial"  # what unverified identifiers asked for is refused (R-37-1)
        outcome.rule_ids.append(R_37_1.id)
    # The answer (R-34-1, R-35-1: the result notified without delay). The request stays open until it reaches the
    # person (delivery): by e-mail when it can go by e-mail — a result notice; a disclosure filed in the privacy
    # center, where the person downloads the package — else posted by staff (the package or the purpose notice
    # handed over, or no e-mail on file) and recorded by the privacy officer.
    req.answered_at = ctx.clock.now()
    notice = letters.result_notice(
        ctx,
        req,
        outcome,
        download_until=delivery.download_until(req) if req.kind in DISCLOSING_KINDS else None,
    )
    outcome.notice_ja = notice.text
    by_email = (req.kind not in DISCLOSING_KINDS and req.kind != "purpose_notice") or (
        req.kind in DISCLOSING_KINDS and req.channel == "web" and bool(req.token_hash)
    )
    if req.kind == "erasure":  # queued before the values were dropped (see _erase)
        queued = ctx.memo.pop(_ERASURE_ANSWER, None)
        answer_id = queued if isinstance(queued, str) else None
        state = delivery.answer(
            ctx,
            req,
            outcome.outcome,
            None,
            delivery.TOPIC_ANSWER,
            message_id=answer_id,
        )
    else:
        state = delivery.answer(
            ctx, req, outcome.outcome, notice if by_email else None, delivery.TOPIC_ANSWER
        )
    details["notified"] = state == delivery.SENDING
    details["answer_state"] = state
    core.event(ctx, req, "fulfilled", outcome.rule_ids, subjects=ids, outcome=outcome.outcome, **details)
    if unverified:
        core.event(
            ctx, req, "identifier_refused", (R_37_1.id,), subjects=ids, unverified_identifiers=unverified
        )
    return outcome, package


DOWNLOAD_DAYS = 30


def public_package(ctx: Context, request_id: str, token: str) -> DisclosurePackage:
    """The person downloads the answer to their fulfilled disclosure request (token holder, verified subjects
    only), until DOWNLOAD_DAYS after the answer (the day in JST), whether or not the notice e-mail has arrived. Built again from the sources — never stored — with the partial
    refusals recorded at fulfilment; each download is recorded."""
    req = core._by_token(ctx, request_id, token)
    answered = req.answered_at is not None or req.status == "closed"  # closed before answer_state existed
    if req.kind not in DISCLOSING_KINDS or not answered or req.outcome not in ("fulfilled", "partial"):
        raise PolicyDenied(
            "この請求には、お渡しできる開示の回答がありません。",
            "There is no disclosure answer to download for this request.",
            rule_id=R_33_1.id,
            code="no_package",
        )
    # The window runs from the answer, not from the e-mail's delivery: the package is on the request's page, the
    # e-mail only says it is there (and may arrive late, or not at all — then the person is written to).
    until = delivery.download_until(req)
    if until is None or today_jst(ctx.clock) > until:
        raise PolicyDenied(
            "ダウンロードの期限が過ぎました。改めてご請求ください。",
            "The download period has ended; please file a new request.",
            rule_id=R_33_1.id,
            code="package_expired",
        )
    ids = core.subject_ids(ctx, req.id)
    partial = dict(p.split("=", 1) for p in req.refused_parts.split(",")) if req.refused_parts else {}
    package, _, _ = _disclose(ctx, req, ids, partial)
    core.event(ctx, req, "package_downloaded", package.rule_ids, subjects=ids, records=len(package.records))
    return package
