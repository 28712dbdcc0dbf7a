"""After an erasure no copy of the person remains in any file mamori controls (SECURITY.md §7 tests 5 and 6).

The attacker here holds the files: every file under MAMORI_HOME, the data store, the keystore and the audit log
(with their -wal / -shm), and the current keys. After the erasure, plain Python reads of the raw bytes must find
none of the person's values (UTF-8, UTF-16-LE, JSON-escaped), none of their blind-index tokens or keyed digests,
none of the ciphertexts that held them and none of their wrapped data keys. A copy of the data store taken
before the erasure stays unreadable for the person with the current keystore, and readable for everyone else.

SQLite only: this is about files. The services' paths are covered on both backends by test_service.py.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import select

from mamori.customers import service as customers_service
from mamori.customers.models import Activity, ContactPoint, Customer, CustomerAttribute
from mamori.customers.schemas import ActivityIn, AttributeIn
from mamori.kernel.context import SYSTEM_ACTOR
from mamori.kernel.crypto import KeyDestroyed
from mamori.kernel.errors import NotFound
from mamori.rights import service
from mamori.rights.models import RightsIdentifier
from mamori.rights.service import sealing
from mamori.staff import service as staff_service
from tests.api.conftest import Api
from tests.factories import make_customer
from tests.rights.helpers import last_code

API = "/api/v1"

# Canary values: distinctive, synthetic, found nowhere else.
OLD_EMAIL = "kanari.old.q7x@example.jp"
NEW_EMAIL = "kanari.new.z9w@example.jp"
PHONE = "090-5173-0429"
PHONE_E164 = "+819051730429"
NAME = "金成 守子"
KANA = "カナリ モリコ"
ADDRESS = "東京都架空区カナリア町7-3-9"
EMPLOYER = "株式会社カナリア試験"
ATTRIBUTE = "カナリア色の万年筆XQ7"
NOTE = "カナリア・メモ ZK42 配送先の変更"
CANARIES = {
    "old email": OLD_EMAIL,
    "new email": NEW_EMAIL,
    "phone": PHONE,
    "phone E.164": PHONE_E164,
    "name": NAME,
    "name without space": NAME.replace(" ", ""),
    "kana": KANA,
    "address": ADDRESS,
    "employer": EMPLOYER,
    "attribute": ATTRIBUTE,
    "note": NOTE,
}
OTHER_EMAIL = "tanin.control.k3@example.com"
OTHER_NAME = "他人 太郎"


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    """Files are the point of these tests: always SQLite, whatever MAMORI_TEST_BACKENDS says."""
    return str(request.param)


def _db_path(engine) -> Path:
    return Path(str(engine.url.database)).resolve()


def _store_files(rt) -> list[Path]:
    """Every file under MAMORI_HOME and every file beside the three SQLite databases (db, -wal, -shm, …)."""
    files: set[Path] = set()
    roots = [Path(rt.settings.home_path)]
    roots += [_db_path(e).parent for e in (rt.data_engine, rt.keystore_engine, rt.audit_engine)]
    key_dir = getattr(rt.settings, "key_dir", None)  # the store's key directory (journal, anchors), if any
    if key_dir is not None:
        roots.append(Path(key_dir))
    for root in roots:
        if root.exists():
            files.update(p.resolve() for p in root.rglob("*") if p.is_file())
    return sorted(files)


def _text_forms(value: str) -> dict[str, bytes]:
    return {
        "utf-8": value.encode("utf-8"),
        "utf-16-le": value.encode("utf-16-le"),
        "json-escaped": json.dumps(value, ensure_ascii=True)[1:-1].encode("ascii"),
    }


def _scan(files: list[Path], needles: dict[str, bytes]) -> list[tuple[str, str]]:
    """(file name, needle label) for every needle found in the raw bytes of every file (plain reads only)."""
    hits: list[tuple[str, str]] = []
    for path in files:
        data = path.read_bytes()
        for label, needle in needles.items():
            if needle and needle in data:
                hits.append((path.name, label))
    return hits


def _wrapped_keys(keystore_db: Path, ids: tuple[str, ...]) -> dict[str, bytes]:
    """Wrapped data keys of these keystore subjects (a customer id, or any subject ending in a request id)."""
    con = sqlite3.connect(keystore_db)
    try:
        rows = con.execute("SELECT subject_id, wrapped FROM data_keys").fetchall()
    finally:
        con.close()
    return {str(sid): bytes(blob) for sid, blob in rows if any(str(sid).endswith(i) for i in ids)}


def _backup(src: Path, dest: Path) -> None:
    """A copy of the data store through SQLite's backup API (what an operator's backup job does)."""
    source = sqlite3.connect(src)
    target = sqlite3.connect(dest)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()


def test_sqlite_connections_of_every_store_have_secure_delete_and_wal(runtime):
    for engine in (
        runtime.data_engine,
        runtime.read_engine,
        runtime.keystore_engine,
        runtime.keystore_read_engine,
        runtime.audit_engine,
    ):
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA secure_delete").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_after_erasure_no_file_holds_the_person_R_35_1_G_17(runtime, tmp_path_factory, published_notice):
    api = Api(runtime)
    with runtime.transaction(SYSTEM_ACTOR, readonly=True) as s:
        po = staff_service.actor_for(s, "po")
    public, _ = api.client()

    # given a person with distinctive values in every kind of field, and someone else
    person = make_customer(
        runtime, po, name=NAME, kana=KANA, email=OLD_EMAIL, phone=PHONE, address=ADDRESS, employer=EMPLOYER
    )
    other = make_customer(runtime, po, name=OTHER_NAME, kana="タニン タロウ", email=OTHER_EMAIL, phone=None)
    with runtime.transaction(po, "contract") as ctx:
        customers_service.add_attribute(ctx, person, AttributeIn(key="favourite_pen", value=ATTRIBUTE))
        customers_service.add_activity(ctx, person, ActivityIn(kind="note", body=NOTE))

    def file(kind: str, email: str) -> tuple[str, dict[str, str]]:
        r = public.post(
            f"{API}/privacy-requests", json={"kind": kind, "email": email, "notice_version": published_notice}
        )
        assert r.status_code == 202, r.text
        return r.json()["request_id"], {"Mamori-Request-Token": r.json()["token"]}

    def verify(rid: str, hdr: dict[str, str], email: str) -> None:
        code = last_code(runtime, email)
        r = public.post(f"{API}/privacy-requests/{rid}/verify", headers=hdr, json={"code": code})
        assert r.status_code == 200, r.text

    # the person types their email into a request (a one-time code goes to the outbox) and corrects it, so
    # the old address is in the outbox (code, correction notice with before → after) and in the request
    correction, hdr = file("correction", OLD_EMAIL)
    verify(correction, hdr, OLD_EMAIL)
    with runtime.sessions() as s:
        contact = s.execute(
            select(ContactPoint.id).where(ContactPoint.customer_id == person, ContactPoint.kind == "email")
        ).scalar_one()
    with runtime.transaction(po) as ctx:
        service.fulfil(ctx, correction, corrections=[("customers", contact, {"value": NEW_EMAIL})])
    # a request typed with the old address that is never verified (it reaches nobody), and one of the other
    # customer's, which must survive the erasure
    abandoned, _ = file("disclosure", OLD_EMAIL)
    file("disclosure", OTHER_EMAIL)
    # then the erasure request with the current address, verified by the code
    erasure, hdr = file("erasure", NEW_EMAIL)
    verify(erasure, hdr, NEW_EMAIL)

    # what the attacker looks for, computed BEFORE the erasure
    idx = runtime.indexer
    needles: dict[str, bytes] = {}
    for label, value in CANARIES.items():
        for form, data in _text_forms(value).items():
            needles[f"{label} ({form})"] = data
    for kind, value in (
        ("email", OLD_EMAIL),
        ("email", NEW_EMAIL),
        ("phone", PHONE),
        ("name", NAME),
        ("kana", KANA),
    ):
        needles[f"blind index {kind} {value[:6]}…"] = idx.digest(kind, value)
    with runtime.transaction(po) as ctx:
        for kind, value in (("email", OLD_EMAIL), ("email", NEW_EMAIL), ("phone", PHONE)):
            needles[f"rights digest {kind} {value[:6]}…"] = sealing.identifier_digest(ctx, kind, value)
    keystore_db = _db_path(runtime.keystore_engine)
    wrapped = _wrapped_keys(keystore_db, (person, correction, abandoned, erasure))
    assert person in wrapped
    for sid, blob in wrapped.items():
        needles[f"wrapped key of {sid[:14]}…"] = blob
    with runtime.sessions() as s:
        row = s.execute(select(Customer).where(Customer.id == person)).scalar_one()
        blobs = [row.name_enc, row.kana_enc, row.address_enc, row.employer_enc]
        blobs += list(
            s.execute(select(ContactPoint.value_enc).where(ContactPoint.customer_id == person)).scalars()
        )
        blobs += list(
            s.execute(
                select(CustomerAttribute.value_enc).where(CustomerAttribute.customer_id == person)
            ).scalars()
        )
        blobs += list(s.execute(select(Activity.body_enc).where(Activity.customer_id == person)).scalars())
        idents = list(
            s.execute(
                select(RightsIdentifier).where(
                    RightsIdentifier.request_id.in_([correction, abandoned, erasure])
                )
            ).scalars()
        )
        blobs += [i.value_enc for i in idents]
    for n, blob in enumerate(b for b in blobs if b):
        needles[f"ciphertext #{n}"] = bytes(blob)
    controls = {
        "other's email token": idx.digest("email", OTHER_EMAIL),
        "other's email (outbox)": OTHER_EMAIL.encode(),
        "other's wrapped key": _wrapped_keys(keystore_db, (other,))[other],
    }
    # the scanner finds what is there: before the erasure the person is everywhere
    before = _scan(_store_files(runtime), needles)
    assert {label for _, label in before} >= {"old email (utf-8)", "new email (utf-8)"}
    # a backup of the data store taken before the erasure
    backup = tmp_path_factory.mktemp("backup") / "before-erasure.db"
    _backup(_db_path(runtime.data_engine), backup)

    # when the privacy officer fulfils the erasure through the normal path
    with runtime.transaction(po) as ctx:
        outcome, _ = service.fulfil(ctx, erasure)
    assert outcome.outcome == "fulfilled" and outcome.erased["customers"] >= 4

    # then no file holds anything of the person
    files = _store_files(runtime)
    assert {_db_path(e) for e in (runtime.data_engine, runtime.keystore_engine, runtime.audit_engine)} <= set(
        files
    )
    hits = _scan(files, needles)
    assert hits == [], f"found after erasure: {hits}"
    # while the other customer is still there (the scan would see it)
    assert {label for _, label in _scan(files, controls)} == set(controls)

    # and the backup taken before, opened with the current keystore, cannot decrypt the person; others can
    runtime.keystore.clear_cache()
    con = sqlite3.connect(backup)
    try:
        old_name = con.execute("SELECT name_enc FROM customers WHERE id = ?", (person,)).fetchone()[0]
        other_name = con.execute("SELECT name_enc FROM customers WHERE id = ?", (other,)).fetchone()[0]
        old_idents = con.execute(
            "SELECT id, request_id, kind, value_enc FROM rights_identifiers WHERE request_id IN (?, ?, ?)",
            (correction, abandoned, erasure),
        ).fetchall()
    finally:
        con.close()
    assert old_name is not None
    with pytest.raises(KeyDestroyed):
        runtime.cipher.decrypt(person, "customers", "name", person, old_name)
    assert runtime.cipher.decrypt(other, "customers", "name", other, other_name) == OTHER_NAME
    sealed = [r for r in old_idents if r[3] is not None]
    assert sealed, "the backup holds the claimed values as they were"
    with runtime.transaction(po) as ctx:
        for ident_id, request_id, kind, blob in sealed:
            detached = RightsIdentifier(id=ident_id, request_id=request_id, kind=kind, value_enc=blob)
            assert sealing.open_value(ctx, detached) is None  # no current key opens what the person typed

    # and the person is gone for staff: show / find answer "not found"
    with runtime.transaction(po, "contract") as ctx:
        with pytest.raises(NotFound):
            customers_service.get(ctx, person)
        assert customers_service.find(ctx, email=NEW_EMAIL) == []
        assert customers_service.find(ctx, email=OLD_EMAIL) == []
        assert customers_service.find(ctx, name=NAME) == []
        assert [c.id for c in customers_service.find(ctx, email=OTHER_EMAIL)] == [other]


def test_the_edge_checkpoints_after_an_erasure_commits_and_only_then(runtime, monkeypatch):
    from mamori.kernel.runtime import Runtime
    from tests.factories import seed_basics
    from tests.rights.helpers import open_and_verify

    actors = seed_basics(runtime)
    person = make_customer(runtime, actors["po"], name=NAME, kana=KANA, email=NEW_EMAIL, phone=PHONE)
    token = runtime.indexer.digest("email", NEW_EMAIL)
    wal = Path(str(_db_path(runtime.data_engine)) + "-wal")
    rid = open_and_verify(runtime, actors["support"], "erasure", NEW_EMAIL)
    assert wal.exists() and wal.stat().st_size > 0  # ordinary units of work leave the WAL as it is
    calls: list[int] = []
    real = Runtime.scrub
    monkeypatch.setattr(Runtime, "scrub", lambda self, **kw: calls.append(1) or True)
    with runtime.transaction(actors["po"]) as ctx:
        service.fulfil(ctx, rid)
    assert calls == [1]  # asked for once, after the commit
    # without the checkpoint the WAL still holds the pages as they were: the person's token is there
    assert _scan([wal], {"token": token}) == [(wal.name, "token")]
    monkeypatch.setattr(Runtime, "scrub", real)
    assert runtime.scrub() is True
    assert wal.stat().st_size == 0 if wal.exists() else True
    assert _scan(_store_files(runtime), {"token": token}) == []
    with runtime.transaction(actors["po"], "contract") as ctx, pytest.raises(NotFound):
        customers_service.get(ctx, person)
