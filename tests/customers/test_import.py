"""CSV import: every bad line reported, nothing half-written, duplicates by blind index, resume."""

from __future__ import annotations

import csv

import pytest
from sqlalchemy import func, select

from mamori.customers import service
from mamori.customers.jobs import run_import
from mamori.customers.models import BlindIndex, Customer, ImportJob
from mamori.customers.schemas import ProvenanceIn
from mamori.customers.service.importing import parse_mapping
from mamori.kernel.errors import PolicyDenied, ValidationFailed
from tests.factories import make_customer, seed_basics

HEADER = ["name", "kana", "birth_date", "gender", "postal_code", "address", "phone", "email"]
PROV = ProvenanceIn(method="direct", channel="event", notice_version="n-2026")


def good_row(i: int) -> list[str]:
    return [
        f"試験 太郎{i}",
        "シケン タロウ",
        "1980-04-01",
        "男",
        "100-0001",
        f"東京都千代田区千代田{i}-1",
        f"090-{1000 + i:04d}-{2000 + i:04d}",
        f"user{i}@example.jp",
    ]


def write_csv(path, rows, header=HEADER, encoding="utf-8"):
    with path.open("w", newline="", encoding=encoding) as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def count(rt, model=Customer):
    with rt.sessions() as s:
        return s.scalar(select(func.count()).select_from(model))


@pytest.fixture
def actors(runtime):
    return seed_basics(runtime)


def test_import_creates_encrypted_findable_customers(runtime, actors, tmp_path):
    f = write_csv(tmp_path / "c.csv", [good_row(i) for i in range(25)])
    report = run_import(
        runtime, actors["po"], f, source="展示会", purposes=["contract"], provenance=PROV, batch_size=10
    )
    assert report.created == 25 and report.errors == [] and report.written
    assert count(runtime) == 25
    with runtime.transaction(actors["po"], "contract") as ctx:
        found = service.find(ctx, email="USER7@example.jp")
        assert len(found) == 1 and found[0].name == "試験 太郎7"
        view = service.get(ctx, found[0].id)
    assert view.provenance[0].source == "展示会" and view.gender == "male"


def test_file_with_bad_rows_is_rejected_line_by_line_and_writes_nothing(runtime, actors, tmp_path):
    rows = [good_row(i) for i in range(6)]
    rows[1][7] = "not-an-email"
    rows[2][6] = "12345"
    rows[3][4] = "1000001x"
    rows[4][2] = "昭和99年13月1日"
    rows[5][5] = "千代田区のどこか"  # no 都道府県 and no postal code to take it from
    rows[5][4] = ""
    rows.append(
        ["", "", "", "", "", "", "", ""]
    )  # a blank line (Excel's trailing ones) is skipped, not refused
    rows.append(["", "", "", "", "100-0001", "", "", ""])
    f = write_csv(tmp_path / "bad.csv", rows)
    report = run_import(runtime, actors["po"], f, source="s", purposes=["contract"], provenance=PROV)
    assert not report.written
    assert {(e.line, e.field) for e in report.errors} == {
        (3, "email"),
        (4, "phone"),
        (5, "postal_code"),
        (6, "birth_date"),
        (7, "address"),
        (9, "name"),
    }
    assert all("not-an-email" not in e.reason and "12345" not in e.reason for e in report.errors)
    assert count(runtime) == 0 and count(runtime, ImportJob) == 0


def test_skip_bad_rows_imports_the_rest(runtime, actors, tmp_path):
    rows = [good_row(i) for i in range(4)]
    rows[2][7] = "broken@"
    f = write_csv(tmp_path / "bad.csv", rows)
    report = run_import(
        runtime, actors["po"], f, source="s", purposes=["contract"], provenance=PROV, skip_bad_rows=True
    )
    assert report.written and report.created == 3 and report.skipped_bad == 1
    assert count(runtime) == 3


def test_duplicates_are_reported_not_imported_unless_merge(runtime, actors, tmp_path):
    existing = make_customer(
        runtime, actors["po"], email="user1@example.jp", phone=None, purposes=("contract",)
    )
    rows = [
        good_row(0),
        good_row(1),
        good_row(2),
        good_row(0),
    ]  # line 3 matches existing, line 5 repeats line 2
    f = write_csv(tmp_path / "d.csv", rows)
    report = run_import(
        runtime, actors["po"], f, source="s", purposes=["contract", "marketing-email"], provenance=PROV
    )
    assert report.created == 2
    dups = {(d.line, d.customer_id, d.action) for d in report.duplicates}
    assert (3, existing, "reported") in dups and (5, None, "reported") in dups
    # merge adds the new phone and the new purpose to the existing customer
    f2 = write_csv(tmp_path / "m.csv", [good_row(1)])
    report = run_import(
        runtime,
        actors["po"],
        f2,
        source="s2",
        purposes=["contract", "marketing-email"],
        provenance=PROV,
        on_duplicate="merge",
    )
    assert report.merged == 1 and report.created == 0
    with runtime.transaction(actors["po"], "contract") as ctx:
        view = service.get(ctx, existing)
    assert "+819010012001" in view.phones and "marketing-email" in view.notified_purposes
    assert [p.source for p in view.provenance][-1] == "s2"


def test_column_mapping_and_shift_jis(runtime, actors, tmp_path):
    header = ["氏名", "フリガナ", "電話番号", "メール", "住所"]
    rows = [["架空 一郎", "カクウ イチロウ", "03-1234-5678", "ichiro@example.jp", "大阪府大阪市北区1-1"]]
    f = write_csv(tmp_path / "sjis.csv", rows, header=header, encoding="cp932")
    mapping = parse_mapping(["氏名=name", "フリガナ=kana", "電話番号=phone", "メール=email", "住所=address"])
    report = run_import(
        runtime, actors["po"], f, source="s", purposes=["contract"], provenance=PROV, mapping=mapping
    )
    assert report.created == 1
    with pytest.raises(ValidationFailed):
        parse_mapping(["氏名=nickname"])
    # without a mapping, the usual Japanese headings are mapped as suggested (氏名 → name …): the same person again
    again = run_import(runtime, actors["po"], f, source="s", purposes=["contract"], provenance=PROV)
    assert again.created == 0 and len(again.duplicates) == 1
    odd = write_csv(tmp_path / "odd.csv", [["x", "y"]], header=["列A", "列B"])
    with pytest.raises(ValidationFailed):
        run_import(
            runtime, actors["po"], odd, source="s", purposes=["contract"], provenance=PROV
        )  # no column maps to name


@pytest.mark.parametrize("source", ["", "   "])
def test_import_needs_its_source_a_blank_one_is_refused_R_20_1(runtime, actors, tmp_path, source):
    f = write_csv(tmp_path / "blank.csv", [good_row(0)])
    with pytest.raises(PolicyDenied) as exc:
        run_import(runtime, actors["po"], f, source=source, purposes=["contract"], provenance=PROV)
    assert exc.value.rule_id == "R-20-1" and exc.value.code == "source_required"
    assert count(runtime) == 0 and count(runtime, ImportJob) == 0


def test_third_party_import_with_only_a_free_text_source_is_refused_R_30_1(runtime, actors, tmp_path):
    f = write_csv(tmp_path / "tp.csv", [good_row(0)])
    with pytest.raises(PolicyDenied) as exc:
        run_import(
            runtime,
            actors["po"],
            f,
            source="架空名簿株式会社",
            purposes=["contract"],
            provenance=ProvenanceIn(method="third_party", channel="import", source="架空名簿株式会社"),
        )
    assert exc.value.rule_id == "R-30-1" and exc.value.code == "provider_required"
    assert count(runtime) == 0 and count(runtime, ImportJob) == 0


def test_import_needs_permission(runtime, actors, tmp_path):
    f = write_csv(tmp_path / "c.csv", [good_row(0)])
    for who in ("analyst", "support"):
        with pytest.raises(PolicyDenied) as exc:
            run_import(runtime, actors[who], f, source="s", purposes=["contract"], provenance=PROV)
        assert exc.value.rule_id == "R-23-2"
    assert count(runtime) == 0


def test_a_sales_rep_imports_into_their_own_book_only_R_23_2(runtime, actors, tmp_path):
    f = write_csv(tmp_path / "cards.csv", [good_row(0)])
    with pytest.raises(PolicyDenied) as exc:
        run_import(
            runtime,
            actors["sato"],
            f,
            source="名刺",
            purposes=["contract"],
            provenance=PROV,
            owner_id=actors["suzuki"].id,
        )
    assert exc.value.rule_id == "R-23-2" and exc.value.code == "import_own_book_only"
    assert count(runtime) == 0
    report = run_import(runtime, actors["sato"], f, source="名刺", purposes=["contract"], provenance=PROV)
    assert report.created == 1
    with runtime.sessions() as s:
        assert s.scalars(select(Customer.owner_id)).all() == [actors["sato"].id]
    # a line naming another owner in the file is refused with its line number
    g = write_csv(tmp_path / "cards2.csv", [good_row(1) + ["suzuki"]], header=[*HEADER, "担当営業"])
    bad = run_import(
        runtime,
        actors["sato"],
        g,
        source="名刺",
        purposes=["contract"],
        provenance=PROV,
        mapping=parse_mapping([f"{h}={h}" for h in HEADER] + ["担当営業=owner"]),
    )
    assert not bad.written and [(e.line, e.field) for e in bad.errors] == [(2, "owner")]
    assert "R-23-2" in bad.errors[0].reason and count(runtime) == 1


def test_rerun_of_a_finished_file_starts_a_new_job_and_reports_duplicates(runtime, actors, tmp_path):
    f = write_csv(tmp_path / "c.csv", [good_row(i) for i in range(3)])
    run_import(runtime, actors["po"], f, source="s", purposes=["contract"], provenance=PROV)
    again = run_import(runtime, actors["po"], f, source="s", purposes=["contract"], provenance=PROV)
    assert again.created == 0 and len(again.duplicates) == 3
    assert count(runtime) == 3
    # name, kana, email, phone and the identity key (name + kana + birth date + postal code)
    assert count(runtime, BlindIndex) == 3 * 5


def test_third_party_intake_without_the_receipt_path_is_refused_fail_closed_R_30_1(
    runtime, actors, tmp_path, monkeypatch
):
    from mamori.customers.schemas import CustomerCreate, ReceiptIn
    from mamori.kernel import registry

    monkeypatch.setattr(registry, "_receipt_intakes", [])  # provision not registered
    receipt = ReceiptIn(
        counterparty_id="0" * 32,
        variant="consent",
        identity_confirmed_by="申告書",
        acquisition="会員登録時",
        acquisition_lawful=True,
        consent_confirmed=True,
    )
    prov = ProvenanceIn(method="third_party", channel="import", receipt=receipt)
    f = write_csv(tmp_path / "tp.csv", [good_row(0)])
    with pytest.raises(PolicyDenied) as exc:
        run_import(runtime, actors["po"], f, source="", purposes=["contract"], provenance=prov)
    assert exc.value.rule_id == "R-30-1" and exc.value.code == "receipt_path_unavailable"
    with runtime.transaction(actors["po"]) as ctx, pytest.raises(PolicyDenied) as exc:
        service.create(ctx, CustomerCreate(name="受領 一郎"), provenance=prov, purposes=["contract"])
    assert exc.value.code == "receipt_path_unavailable"
    assert count(runtime) == 0 and count(runtime, ImportJob) == 0


def test_a_third_party_batch_without_its_receipt_is_refused_R_30_1(runtime, actors, tmp_path):
    from mamori.customers.service import importing

    f = write_csv(tmp_path / "tp.csv", [good_row(0)])
    vf = importing.validate_file(f)
    with runtime.transaction(actors["po"]) as ctx:
        prov = PROV.model_copy(update={"source": "s"})
        job, _ = importing.start_job(ctx, vf, source="s", purposes=["contract"], provenance=prov, options={})
    with runtime.transaction(actors["po"]) as ctx, pytest.raises(PolicyDenied) as exc:
        importing.import_batch(
            ctx,
            job.id,
            vf.rows,
            importing.BatchOptions(
                provenance=ProvenanceIn(method="third_party", channel="import", source="架空名簿株式会社"),
                purposes=["contract"],
            ),
            last_line=2,
            seen={},
        )
    assert exc.value.rule_id == "R-30-1" and exc.value.code == "provider_required"
    assert count(runtime) == 0


def test_sensitive_information_in_a_free_text_column_is_not_imported_R_20_2(runtime, actors, tmp_path):
    f = write_csv(tmp_path / "s.csv", [[*good_row(0), "糖尿病で通院中"]], header=[*HEADER, "occupation"])
    report = run_import(runtime, actors["po"], f, source="展示会", purposes=["contract"], provenance=PROV)
    assert not report.written and [(e.line, e.field) for e in report.errors] == [(2, "occupation")]
    assert "糖尿病" not in report.errors[0].reason
    assert count(runtime) == 0


def test_columns_left_out_of_an_explicit_mapping_are_named_as_a_hint_and_not_read(runtime, actors, tmp_path):
    header = ["氏名", "郵便番号", "住所"]
    f = write_csv(tmp_path / "hint.csv", [["架空 四郎", "100-0001", "千代田区千代田4-4"]], header=header)
    report = run_import(
        runtime,
        actors["po"],
        f,
        source="s",
        purposes=["contract"],
        provenance=PROV,
        mapping=parse_mapping(["氏名=name", "住所=address"]),
        dry_run=True,
    )
    # the address has no 都道府県 and the postal code that would give it is not mapped: refused, with the hint
    assert [(e.line, e.field) for e in report.errors] == [(2, "address")]
    assert report.unmapped == {"郵便番号": "postal_code"} and report.to_dict()["unmapped_columns"]
    mapped = run_import(
        runtime,
        actors["po"],
        f,
        source="s",
        purposes=["contract"],
        provenance=PROV,
        mapping=parse_mapping(["氏名=name", "住所=address", "郵便番号=postal_code"]),
    )
    assert mapped.created == 1 and mapped.unmapped == {}
    with runtime.sessions() as s:
        cid = s.scalar(select(Customer.id).where(Customer.import_job_id == mapped.job_id))
    with runtime.transaction(actors["po"], "contract") as ctx:
        assert service.get(ctx, cid).address == "東京都千代田区千代田4-4"  # 都道府県 from Japan Post's data


def test_the_identity_key_finds_people_without_contacts_and_follows_corrections(runtime, actors, tmp_path):
    from mamori.customers.schemas import CustomerUpdate
    from mamori.customers.sources import CustomersSource

    header = ["name", "kana", "birth_date", "postal_code"]
    person = ["識別 花子", "シキベツ ハナコ", "1990-02-03", "100-0001"]
    first = run_import(
        runtime,
        actors["po"],
        write_csv(tmp_path / "a.csv", [person], header=header),
        source="s",
        purposes=["contract"],
        provenance=PROV,
    )
    assert first.created == 1
    # another list, the same person written differently (width, era, dashes): found by the identity key
    same = ["識別　花子", "ｼｷﾍﾞﾂ ﾊﾅｺ", "平成2年2月3日", "１００ー０００１", "x"]
    again = run_import(
        runtime,
        actors["po"],
        write_csv(tmp_path / "b.csv", [same], header=[*header, "memo"]),
        source="s",
        purposes=["contract"],
        provenance=PROV,
    )
    assert again.created == 0 and [d.matched_on for d in again.duplicates] == ["identity"]
    with runtime.sessions() as s:
        cid = s.scalar(select(Customer.id).where(Customer.import_job_id == first.job_id))
    # corrected birth date (an update, then a correction through the person's request): the key follows
    with runtime.transaction(actors["po"], "contract") as ctx:
        service.update(ctx, cid, CustomerUpdate(birth_date="1990-02-04"))
    moved = ["識別 花子", "シキベツ ハナコ", "1990-02-04", "100-0001", "y"]
    found = run_import(
        runtime,
        actors["po"],
        write_csv(tmp_path / "c.csv", [moved], header=[*header, "memo"]),
        source="s",
        purposes=["contract"],
        provenance=PROV,
    )
    assert found.created == 0 and [d.customer_id for d in found.duplicates] == [cid]
    with runtime.transaction(actors["po"], "contract") as ctx:
        CustomersSource().correct(ctx, cid, cid, {"postal_code": "530-0001"})
    old = ["識別 花子", "シキベツ ハナコ", "1990-02-04", "100-0001", "z"]
    new = run_import(
        runtime,
        actors["po"],
        write_csv(tmp_path / "d.csv", [old], header=[*header, "memo"]),
        source="s",
        purposes=["contract"],
        provenance=PROV,
    )
    assert new.created == 1  # the old postal code no longer matches the corrected person
