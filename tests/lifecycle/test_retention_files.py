"""The attacker holds the files (issue 21 test: "after the run the disposed person cannot be decrypted from a copy
of the database taken before it"). SQLite only: this is about files; the services run on both backends in
test_retention.py."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from mamori.customers.models import Customer
from mamori.kernel.crypto.keystore.tables import DATA_KEYS
from mamori.kernel.db import make_engine
from mamori.kernel.errors import IntegrityFailure, MamoriError
from mamori.lifecycle.service import retention
from tests.lifecycle.retention_support import add_rule, end, person, retention_actors


@pytest.fixture
def actors(runtime):
    return retention_actors(runtime)


@pytest.fixture(params=["sqlite"])
def backend(request):
    """The attacker test is about files: always SQLite."""
    return str(request.param)


def test_disposed_person_cannot_be_decrypted_from_a_copy_taken_before_the_run(runtime, actors, tmp_path):
    """The attacker copies the data database AND the keystore database before the run. After the run the
    disposed person's ciphertext in the pre-run data copy does not open with the keystore as it is now (their
    data key is destroyed in the live keystore file); everyone else's still does. What this does not promise:
    whoever kept the pre-run keystore copy too still holds the key (keystore backups are the key-destruction
    journal's business, docs/backup.md)."""
    po = actors["po"]
    add_rule(runtime, po, purpose="*", category="*", days=30, basis="relationship_end")
    gone = person(runtime, po, 51, name="破棄 予定子")
    stays = person(runtime, po, 52, name="残存 花子")
    end(runtime, po, gone, date(2026, 1, 1))
    data = Path(runtime.data_url.split("///", 1)[1])
    keys = Path(str(runtime.keystore_engine.url.database))
    runtime.data_engine.dispose()
    runtime.keystore_engine.dispose()
    copies = {}
    for label, src in (("data", data), ("keys", keys)):
        copies[label] = tmp_path / f"before-{label}.db"
        shutil.copyfile(src, copies[label])
        for suffix in ("-wal", "-shm"):
            if Path(str(src) + suffix).exists():
                shutil.copyfile(str(src) + suffix, str(copies[label]) + suffix)
    with runtime.transaction(po) as ctx:
        assert retention.run(ctx).persons == 1

    engine = make_engine(f"sqlite:///{copies['data']}")
    with engine.connect() as conn:
        old = conn.execute(select(Customer.name_enc).where(Customer.id == gone)).scalar_one()
        other = conn.execute(select(Customer.name_enc).where(Customer.id == stays)).scalar_one()
    engine.dispose()
    assert old is not None  # the pre-run copy still holds the ciphertext …
    runtime.keystore.clear_cache()
    with pytest.raises((IntegrityFailure, MamoriError)):  # … which no current key opens
        runtime.cipher.decrypt(gone, "customers", "name", gone, old)
    assert runtime.cipher.decrypt(stays, "customers", "name", stays, other) == "残存 花子"
    # the live keystore file holds no key for the person any more (read from outside the process)
    keys_engine = make_engine(f"sqlite:///{keys}")
    with keys_engine.connect() as conn:
        assert (
            conn.execute(select(DATA_KEYS.c.subject_id).where(DATA_KEYS.c.subject_id == gone)).first() is None
        )
        assert conn.execute(select(DATA_KEYS.c.subject_id).where(DATA_KEYS.c.subject_id == stays)).first()
    keys_engine.dispose()
    # the pre-run keystore copy still has it: the guarantee is about the live keystore, not old copies of it
    old_keys = make_engine(f"sqlite:///{copies['keys']}")
    with old_keys.connect() as conn:
        wrapped = {
            r.subject_id: bytes(r.wrapped)
            for r in conn.execute(select(DATA_KEYS).where(DATA_KEYS.c.subject_id.in_([gone, stays])))
        }
    old_keys.dispose()
    assert set(wrapped) == {gone, stays}

    # an attacker searching the live files' raw bytes (WAL included) finds neither the person's wrapped key
    # nor their ciphertext; the other customer's wrapped key is there, so the search itself works
    def raw(path: Path) -> bytes:
        wal = Path(str(path) + "-wal")
        return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")

    runtime.data_engine.dispose()
    runtime.keystore_engine.dispose()
    assert wrapped[gone] not in raw(keys)
    assert wrapped[stays] in raw(keys)
    assert old not in raw(data)
    assert other in raw(data)
