"""Rows an import held for the privacy officer (issue 19, seed 001 case 3): sealed under their own key, listed
without a value, opened for a purpose and audited, approved (written as the import writes, notice recorded,
key destroyed) or rejected (key destroyed); only the privacy officer decides, a sales rep sees their own rows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from faker import Faker
from sqlalchemy import select, text

from mamori.customers import service
from mamori.customers.models import (
    CustomerAttribute,
    CustomerPurpose,
    ImportJob,
    ImportPending,
    Provenance,
)
from mamori.customers.schemas import CustomerCreate, ProvenanceIn
from mamori.customers.service import external_ids, import_pending
from mamori.kernel.context import SYSTEM_ACTOR
from mamori.kernel.db import new_id
from mamori.kernel.errors import Conflict, NotFound, PolicyDenied, ValidationFailed
from tests.factories import make_customer, seed_basics

PROV = ProvenanceIn(method="direct", channel="event", notice_version="n-2026", source="2026年秋 展示会の名刺")
fake = Faker("ja_JP")
Faker.seed(19)


@pytest.fixture
def actors(runtime):
    return seed_basics(runtime)


def make_job(rt, actor, *, source: str = "営業の名刺リスト", purposes: str = "contract") -> str:
    job_id = new_id()
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        ctx.session.add(
            ImportJob(
                id=job_id,
                file_sha256="0" * 64,
                source=source,
                purposes=purposes,
                status="done",
                rows_total=3,
                lines_done=3,
                options="{}",
                created_at=ctx.clock.now(),
                created_by=actor.label,
            )
        )
    return job_id


def person() -> dict[str, str]:
    return {
        "name": fake.name(),
        "kana": "カクウ ハナコ",
        "phone": f"090-{fake.random_int(1000, 9999)}-{fake.random_int(1000, 9999)}",
        "email": f"{fake.user_name()}.{fake.random_int(100, 999)}@example.jp",
        "address": "東京都千代田区千代田1-1",
        "employer": "架空商事株式会社",
    }


def hold_one(
    rt,
    actor,
    job_id: str,
    p: dict[str, str],
    *,
    line: int = 2,
    owner_id: str | None = None,
    notified: tuple[str, ...] = (),
    extra: dict | None = None,
) -> str:
    data = CustomerCreate(
        name=p["name"],
        kana=p["kana"],
        birth_date="1985-01-05",
        postal_code="100-0001",
        address=p["address"],
        phones=[p["phone"]],
        emails=[p["email"]],
        employer=p["employer"],
    )
    with rt.transaction(actor) as ctx:
        return import_pending.hold(
            ctx,
            job_id=job_id,
            line=line,
            data=data,
            extra=extra if extra is not None else {},
            owner_id=owner_id,
            purposes=["contract"],
            notified=list(notified),
            reason="purpose_not_notified",
            rule_id="R-21-1",
            provenance=PROV,
        )


def pending_row(rt, pending_id: str) -> ImportPending:
    with rt.sessions() as s:
        row = s.get(ImportPending, pending_id)
        assert row is not None
        s.expunge(row)
        return row


def sqlite_bytes(url: str) -> bytes:
    path = Path(url.removeprefix("sqlite:///"))
    out = b""
    for f in (path, path.with_name(path.name + "-wal")):
        if f.exists():
            out += f.read_bytes()
    return out


def audit_text(rt, n: int = 200) -> str:
    return json.dumps(
        [
            {"a": e.action, "f": e.fields, "d": e.details, "p": e.purpose, "s": e.subject_ids}
            for e in rt.audit.tail(n)
        ],
        ensure_ascii=False,
        default=str,
    )


# -- hold and list --------------------------------------------------------------------------------------------------


def test_hold_seals_the_row_under_its_own_key_and_lists_it_without_a_value(runtime, actors):
    po = actors["po"]
    job = make_job(runtime, po)
    p = person()
    pid = hold_one(runtime, po, job, p, line=7, notified=("partner-sharing",))
    row = pending_row(runtime, pid)
    assert row.status == "pending" and row.row_enc is not None and row.line == 7
    assert runtime.keystore.has_data_key(pid) and not runtime.keystore.is_destroyed(pid)
    # sealed under the row's own key, bound to the cell: it opens with that key and nothing else
    text = runtime.cipher.decrypt(pid, "import_pending", "row", pid, bytes(row.row_enc))
    assert json.loads(text)["data"]["name"] == p["name"]
    with runtime.transaction(po) as ctx:
        assert ctx.session.get(ImportJob, job).pending == 1
        items = import_pending.list_pending(ctx)
    assert [(i.id, i.line, i.reason, i.rule_id, i.purposes, i.notified) for i in items] == [
        (pid, 7, "purpose_not_notified", "R-21-1", ["contract"], ["partner-sharing"])
    ]
    listed = json.dumps([i.model_dump(mode="json") for i in items], ensure_ascii=False)
    for value in p.values():
        assert value not in listed
    assert "customer.import_hold" in audit_text(runtime) and "customer.import_pending_list" in audit_text(
        runtime
    )


def test_the_stores_hold_no_plaintext_of_a_held_row(runtime, actors):
    po = actors["po"]
    job = make_job(runtime, po)
    p = person()
    pid = hold_one(runtime, po, job, p)
    with runtime.transaction(po, "contract") as ctx:
        import_pending.show(ctx, pid)  # opened and audited: still nothing in clear anywhere
    runtime.drain_outbox()
    digits = p["phone"].replace("-", "")
    needles = [p["name"], p["email"], p["phone"], "+81" + digits[1:], p["address"]]
    # every column of the held row and every audit entry, on either backend
    with runtime.sessions() as s:
        cells = [v for r in s.execute(text("SELECT * FROM import_pending")).all() for v in r]
    stored = b"".join(bytes(v) if isinstance(v, bytes | memoryview) else str(v).encode() for v in cells)
    stored += audit_text(runtime, 500).encode("utf-8")
    assert pid.encode() in stored  # what was searched holds the row
    for needle in needles:
        assert needle.encode("utf-8") not in stored, needle
    settings = runtime.settings
    if settings.database_url.startswith("sqlite"):  # and the SQLite files themselves (pages and WAL)
        data = sqlite_bytes(settings.database_url) + sqlite_bytes(settings.audit_url)
        assert len(data) > 10_000 and pid.encode() in data
        for needle in needles:
            assert needle.encode("utf-8") not in data, needle


def test_a_sales_rep_holds_only_for_themselves_and_lists_only_their_own_rows(runtime, actors):
    sato, suzuki, po = actors["sato"], actors["suzuki"], actors["po"]
    job_sato = make_job(runtime, sato)
    job_po = make_job(runtime, po)
    mine = hold_one(runtime, sato, job_sato, person(), owner_id=sato.id)
    theirs = hold_one(runtime, po, job_po, person())
    for owner in (suzuki.id, None):  # a rep's import makes the rep the owner (R-23-2)
        with pytest.raises(PolicyDenied) as exc:
            hold_one(runtime, sato, job_sato, person(), owner_id=owner)
        assert exc.value.rule_id == "R-23-2"
    with runtime.transaction(sato) as ctx:
        assert [i.id for i in import_pending.list_pending(ctx, status="all")] == [mine]
    with runtime.transaction(suzuki) as ctx:
        assert import_pending.list_pending(ctx) == []
    with runtime.transaction(po) as ctx:
        assert {i.id for i in import_pending.list_pending(ctx)} == {mine, theirs}
        assert [i.id for i in import_pending.list_pending(ctx, job_id=job_po)] == [theirs]
    with runtime.transaction(actors["support"]) as ctx, pytest.raises(PolicyDenied) as exc:
        import_pending.list_pending(ctx)  # may neither import nor decide
    assert exc.value.rule_id == "R-23-2"


@pytest.mark.parametrize("status,job", [("done", None), ("pending", "not-a-job-id")])
def test_list_refuses_a_bad_status_or_job_id(runtime, actors, status, job):
    with runtime.transaction(actors["po"]) as ctx, pytest.raises(ValidationFailed):
        import_pending.list_pending(ctx, status=status, job_id=job)


def test_hold_refuses_an_unknown_job_and_special_care_data(runtime, actors):
    po = actors["po"]
    with pytest.raises(NotFound):
        hold_one(runtime, po, new_id(), person())
    job = make_job(runtime, po)
    with pytest.raises(PolicyDenied) as exc:
        hold_one(runtime, po, job, person(), extra={"attributes": [["history", "sensitive", "既往歴あり"]]})
    assert exc.value.rule_id == "R-20-2"
    with pytest.raises(ValidationFailed):
        hold_one(runtime, po, job, person(), extra={"nickname": "x"})
    with runtime.transaction(po) as ctx:
        assert import_pending.list_pending(ctx, status="all") == []


# -- open one row -------------------------------------------------------------------------------------------------


def test_the_officer_opens_a_row_for_a_purpose_masked_and_audited(runtime, actors):
    po = actors["po"]
    job = make_job(runtime, po)
    p = person()
    pid = hold_one(runtime, po, job, p, notified=("partner-sharing",))
    with runtime.transaction(po, "contract") as ctx:
        row = import_pending.show(ctx, pid)
    assert row.name == p["name"] and row.employer == p["employer"] and row.masked == []
    with runtime.transaction(po, "partner-sharing") as ctx:  # identifier and contact only
        row = import_pending.show(ctx, pid)
    assert row.name == p["name"] and row.emails == [p["email"]]
    assert row.employer is None and row.birth_date is None and {"employer", "birth_date"} <= set(row.masked)
    reads = [e for e in runtime.audit.tail(50) if e.action == "customer.import_pending_read"]
    assert [e.purpose for e in reads] == ["contract", "partner-sharing"]
    assert reads[-1].details["pending_id"] == pid and "employer" in str(reads[-1].details["masked"])
    assert "name" in reads[-1].fields and "employer" not in reads[-1].fields
    assert p["name"] not in audit_text(runtime)


def test_opening_needs_a_purpose_of_the_row(runtime, actors):
    po = actors["po"]
    pid = hold_one(runtime, po, make_job(runtime, po), person())
    with runtime.transaction(po) as ctx, pytest.raises(PolicyDenied) as exc:
        import_pending.show(ctx, pid)
    assert exc.value.code == "purpose_required"
    with runtime.transaction(po, "health-service") as ctx, pytest.raises(PolicyDenied) as exc:
        import_pending.show(ctx, pid)
    assert exc.value.code == "purpose_not_of_row" and exc.value.rule_id == "R-18-1"


def test_a_sales_rep_never_opens_a_row_even_their_own(runtime, actors):
    sato = actors["sato"]
    pid = hold_one(runtime, sato, make_job(runtime, sato), person(), owner_id=sato.id)
    with runtime.transaction(sato, "contract") as ctx, pytest.raises(PolicyDenied) as exc:
        import_pending.show(ctx, pid)
    assert exc.value.rule_id == "R-23-2" and exc.value.code == "role_not_permitted"
    denied = [e for e in runtime.audit.tail(20) if e.decision == "deny"]
    assert denied and denied[-1].action == "customer.import_approve"


# -- approve ------------------------------------------------------------------------------------------------------


def test_approve_writes_the_customer_records_the_notice_and_destroys_the_key(runtime, actors):
    po, sato = actors["po"], actors["sato"]
    job = make_job(runtime, sato, source="佐藤の名刺")
    p = person()
    extra = {
        "external_id": "K-000123",
        "registered_on": "2019-04-01",
        "attributes": [["note", "attribute", "展示会で名刺交換"]],
    }
    pid = hold_one(runtime, sato, job, p, owner_id=sato.id, extra=extra)
    with runtime.transaction(po) as ctx:
        cid = import_pending.approve(ctx, pid, notified_confirmed=True)
    row = pending_row(runtime, pid)
    assert row.status == "approved" and row.row_enc is None and row.customer_id == cid
    assert row.decided_by == po.label and row.decided_at is not None
    assert runtime.keystore.is_destroyed(pid) and not runtime.keystore.has_data_key(pid)
    with runtime.transaction(sato, "contract") as ctx:  # the rep owns it: it is in their book
        view = service.get(ctx, cid)
    assert view.name == p["name"] and view.emails == [p["email"]] and view.employer == p["employer"]
    assert view.owner_id == sato.id and view.notified_purposes == ["contract"]
    assert {a.key: a.value for a in view.attributes} == {
        "registered_on": "2019-04-01",
        "note": "展示会で名刺交換",
    }
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        notice = ctx.session.execute(
            select(CustomerPurpose).where(CustomerPurpose.customer_id == cid)
        ).scalar_one()
        prov = ctx.session.execute(select(Provenance).where(Provenance.customer_id == cid)).scalar_one()
        assert (notice.purpose_code, notice.method) == ("contract", "notified")
        assert (prov.source, prov.import_job_id) == (PROV.source, job)
        assert external_ids.lookup(ctx, "佐藤の名刺", "K-000123") == [cid]
        cats = dict(
            ctx.session.execute(
                select(CustomerAttribute.key, CustomerAttribute.category).where(
                    CustomerAttribute.customer_id == cid
                )
            ).all()
        )
    assert cats == {"registered_on": "attribute", "note": "attribute"}
    entry = next(e for e in reversed(runtime.audit.tail(30)) if e.action == "customer.import_approve")
    assert entry.subject_ids == (cid,) and entry.rule_ids == ("R-21-1",)
    assert entry.details["pending_id"] == pid and entry.details["notified_confirmed"] is True
    assert p["name"] not in audit_text(runtime) and "K-000123" not in audit_text(runtime)


def test_approve_needs_the_officers_statement_that_the_purposes_were_notified(runtime, actors):
    po = actors["po"]
    pid = hold_one(runtime, po, make_job(runtime, po), person())
    with runtime.transaction(po) as ctx, pytest.raises(PolicyDenied) as exc:
        import_pending.approve(ctx, pid)
    assert exc.value.rule_id == "R-21-1" and exc.value.code == "notice_not_confirmed"
    row = pending_row(runtime, pid)
    assert row.status == "pending" and row.row_enc is not None and runtime.keystore.has_data_key(pid)
    denied = [e for e in runtime.audit.tail(10) if e.decision == "deny"]
    assert denied[-1].reason == "notice_not_confirmed"


def test_a_sales_rep_cannot_approve_or_reject(runtime, actors):
    sato = actors["sato"]
    pid = hold_one(runtime, sato, make_job(runtime, sato), person(), owner_id=sato.id)
    for decide in (
        lambda ctx: import_pending.approve(ctx, pid, notified_confirmed=True),
        lambda ctx: import_pending.reject(ctx, pid, "not_notified"),
    ):
        with runtime.transaction(sato) as ctx, pytest.raises(PolicyDenied) as exc:
            decide(ctx)
        assert exc.value.rule_id == "R-23-2"
    assert pending_row(runtime, pid).status == "pending" and runtime.keystore.has_data_key(pid)


def test_a_row_is_decided_once(runtime, actors):
    po = actors["po"]
    pid = hold_one(runtime, po, make_job(runtime, po), person())
    with runtime.transaction(po) as ctx:
        import_pending.approve(ctx, pid, notified_confirmed=True)
    for decide in (
        lambda ctx: import_pending.approve(ctx, pid, notified_confirmed=True),
        lambda ctx: import_pending.reject(ctx, pid, "duplicate"),
    ):
        with runtime.transaction(po) as ctx, pytest.raises(Conflict) as exc:
            decide(ctx)
        assert exc.value.code == "pending_decided"
    with runtime.transaction(po, "contract") as ctx, pytest.raises(Conflict):
        import_pending.show(ctx, pid)


def test_approve_refuses_a_duplicate_of_an_existing_customer(runtime, actors):
    po = actors["po"]
    p = person()
    make_customer(runtime, po, name="既存 太郎", email=p["email"], phone=None)
    pid = hold_one(runtime, po, make_job(runtime, po), p)
    with runtime.transaction(po) as ctx, pytest.raises(Conflict) as exc:
        import_pending.approve(ctx, pid, notified_confirmed=True)
    assert exc.value.code == "pending_duplicate"
    assert pending_row(runtime, pid).status == "pending"


@pytest.mark.parametrize("bad", ["not-an-id", "0" * 32, "../" + "a" * 29])
def test_unknown_or_malformed_ids_are_not_found(runtime, actors, bad):
    with runtime.transaction(actors["po"], "contract") as ctx:
        for call in (
            lambda: import_pending.show(ctx, bad),
            lambda: import_pending.approve(ctx, bad, notified_confirmed=True),
            lambda: import_pending.reject(ctx, bad, "other"),
        ):
            with pytest.raises(NotFound):
                call()


# -- reject -------------------------------------------------------------------------------------------------------


def test_reject_destroys_the_key_and_the_ciphertext(runtime, actors):
    po = actors["po"]
    job = make_job(runtime, po)
    pid = hold_one(runtime, po, job, person())
    with runtime.transaction(po) as ctx, pytest.raises(ValidationFailed):
        import_pending.reject(ctx, pid, "because I said so")
    assert pending_row(runtime, pid).status == "pending"
    with runtime.transaction(po) as ctx:
        import_pending.reject(ctx, pid, "not_notified")
    row = pending_row(runtime, pid)
    assert row.status == "rejected" and row.row_enc is None and row.customer_id is None
    assert runtime.keystore.is_destroyed(pid)
    with runtime.transaction(po) as ctx:
        assert import_pending.list_pending(ctx) == []
        assert [i.status for i in import_pending.list_pending(ctx, status="rejected")] == ["rejected"]
    entry = next(e for e in reversed(runtime.audit.tail(20)) if e.action == "customer.import_reject")
    assert entry.details["reason"] == "not_notified" and entry.details["pending_id"] == pid


def test_a_row_whose_key_is_gone_can_only_be_rejected(runtime, actors):
    po = actors["po"]
    pid = hold_one(runtime, po, make_job(runtime, po), person())
    runtime.keystore.destroy_data_keys([pid])  # e.g. a reject whose business transaction then failed
    with runtime.transaction(po) as ctx, pytest.raises(Conflict) as exc:
        import_pending.approve(ctx, pid, notified_confirmed=True)
    assert exc.value.code == "pending_data_destroyed"
    with runtime.transaction(po) as ctx:
        import_pending.reject(ctx, pid, "other")
    assert pending_row(runtime, pid).status == "rejected"


def test_a_decision_note_is_sealed_or_refused_never_stored_in_clear(runtime, actors):
    """The officer's note is sealed under a system key in ``import_pending.note_enc``; a store without that column
    refuses a note (nothing is decided) rather than dropping it silently."""
    po = actors["po"]
    pid = hold_one(runtime, po, make_job(runtime, po), person())
    note = "2026年4月の申込書で利用目的を通知済み"
    with runtime.transaction(po) as ctx, pytest.raises(ValidationFailed):
        import_pending.reject(ctx, pid, "other", note="x" * 501)
    if "note_enc" not in ImportPending.__table__.c:
        with runtime.transaction(po) as ctx, pytest.raises(ValidationFailed) as exc:
            import_pending.approve(ctx, pid, notified_confirmed=True, note=note)
        assert exc.value.code == "note_unsupported"
        assert pending_row(runtime, pid).status == "pending" and runtime.keystore.has_data_key(pid)
        return
    with runtime.transaction(po) as ctx:
        import_pending.approve(ctx, pid, notified_confirmed=True, note=note)
    with runtime.sessions() as s:
        blob = s.execute(text("SELECT note_enc FROM import_pending WHERE id = :id"), {"id": pid}).scalar_one()
    assert blob is not None and note.encode() not in bytes(blob)
    assert note not in audit_text(runtime)
