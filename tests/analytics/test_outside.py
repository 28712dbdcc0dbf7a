"""Issue 24, the guarantees read from outside the process, as someone holding the files would: after runs and a saved
segment, the analytics tables hold no name, contact point, birth date or per-person result (no pseudonym), and the
pseudonym key (``analytics.pseudonym``) is in no file of the data store or the keystore in the clear — only wrapped
by the KEK, which is kept apart."""

from __future__ import annotations

import base64
import sqlite3
from pathlib import Path
from typing import Any

from mamori.analytics.service import frames, runs, segments
from mamori.analytics.service.runs import Source
from tests.analytics.conftest import ANALYSIS, World

TABLES = ("analytics_runs", "analytics_segments", "analytics_segment_members")


def _dump(w: World) -> list[tuple[Any, ...]]:
    url = w.rt.settings.resolved_database_url()
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            return [row for t in TABLES for row in conn.execute(f"select * from {t}")]
    with w.rt.data_engine.connect() as conn:
        return [tuple(row) for t in TABLES for row in conn.exec_driver_sql(f"select * from {t}")]


def _analyse(w: World) -> list[str]:
    pseudonyms: list[str] = []
    for kind in ("rfm", "behaviour", "lifestage"):
        with w.rt.transaction(w.actors["analyst"], ANALYSIS.code) as ctx:
            out = runs.RUNNERS[kind](ctx, Source())
        pseudonyms += out.table.get_column("subject").to_list()
        if kind == "rfm":
            codes = sorted(set(out.table.get_column("segment").to_list()))
            with w.rt.transaction(w.actors["analyst"], ANALYSIS.code) as ctx:
                segments.save(ctx, out, name="外部確認", take=codes)
    return pseudonyms


def test_the_analytics_tables_hold_no_personal_value_nor_any_result_per_person(world: World) -> None:
    w = world
    pseudonyms = _analyse(w)
    assert len(set(pseudonyms)) == len(w.notified)
    dump = _dump(w)
    assert len(dump) >= 4 + len(w.notified)  # three runs, one segment, its members
    text = "\n".join(str(row) for row in dump)
    for n in range(1, 50):
        assert f"分析 花子{n}" not in text and f"analysis{n}@example.jp" not in text
        assert f"2000-{n:04d}" not in text and f"8190200{n:04d}" not in text
    assert "ブンセキ" not in text and "神宮前" not in text and "150-0001" not in text
    assert "1980-05-05" not in text  # a birth date of the store's people
    # per-person results are handed back, never stored: no pseudonym is in the tables
    assert not any(p in text for p in set(pseudonyms))
    # the members are the customers' ids (a foreign key, as in every table), not their values
    members = {row for row in dump if len(row) == 4}
    assert {row[2] for row in members} <= set(w.notified)


def _forms(key: bytes) -> list[bytes]:
    return [
        key,
        key.hex().encode(),
        key.hex().upper().encode(),
        base64.b64encode(key),
        base64.urlsafe_b64encode(key).rstrip(b"="),
    ]


def test_the_pseudonym_key_is_in_no_file_in_the_clear(world: World) -> None:
    w = world
    _analyse(w)
    key = w.rt.keystore.system_key(frames.PSEUDONYM_KEY)
    assert len(key) == 32
    settings = w.rt.settings
    files: list[Path] = [p for p in settings.home_path.rglob("*") if p.is_file()]
    for url in (
        settings.resolved_database_url(),
        settings.resolved_keystore_url(),
        settings.resolved_audit_url(),
    ):
        if url.startswith("sqlite:///"):
            db = Path(url.removeprefix("sqlite:///"))
            files += [p for p in db.parent.glob(db.name + "*") if p.is_file()]  # with its -wal / -shm
    assert any("keys" in p.name for p in files) or not settings.resolved_keystore_url().startswith("sqlite")
    forms = _forms(key)
    for path in files:  # the data file, its WAL, the audit log, the keystore and its WAL
        data = path.read_bytes()
        assert not any(f in data for f in forms), path.name
    if not settings.resolved_database_url().startswith(
        "sqlite"
    ):  # the server's rows, data store and keystore
        for engine in {w.rt.data_engine, w.rt.keystore_engine}:
            with engine.connect() as conn:
                tables = conn.exec_driver_sql(
                    "select schemaname, tablename from pg_tables where schemaname = current_schema()"
                ).all()
                for schema, t in tables:
                    rows = conn.exec_driver_sql(f'select * from "{schema}"."{t}"').all()
                    blob = b"".join(
                        bytes(v) if isinstance(v, bytes | memoryview) else str(v).encode()
                        for r in rows
                        for v in r
                    )
                    assert not any(f in blob for f in forms), t
    # a pseudonym cannot be recomputed from a customer id without the key
    someone = w.notified[0]
    expected = frames.PseudonymFn(key)(someone)
    assert frames.PseudonymFn(b"\0" * 32)(someone) != expected
