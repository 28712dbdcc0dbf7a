"""kernel/notify.py: the file outbox (one 0600 file per message) and a pluggable notifier."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from mamori.kernel import notify
from mamori.kernel.errors import ValidationFailed

AT = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def test_file_outbox_writes_one_private_file_per_message(tmp_path):
    box = notify.FileOutbox(tmp_path / "outbox")
    ref1 = box.send(
        notify.Message("email", "a@example.jp", "件名", "本文 123456", subject_ids=("c1",), request_id="r1"),
        at=AT,
    )
    ref2 = box.send(notify.Message("sms", "+819012345678", "s", "b"), at=AT)
    files = sorted((tmp_path / "outbox").iterdir())
    assert len(files) == 2 and ref1 != ref2
    assert oct((tmp_path / "outbox").stat().st_mode & 0o777) == "0o700"
    for f in files:
        assert oct(f.stat().st_mode & 0o777) == "0o600"
    first = json.loads((tmp_path / "outbox" / f"{ref1}.json").read_text(encoding="utf-8"))
    assert first == {
        "channel": "email",
        "to": "a@example.jp",
        "subject": "件名",
        "body": "本文 123456",
        "html": None,  # the HTML part (issue 18), none here
        "at": AT.isoformat(),
        "subject_ids": ["c1"],
        "request_id": "r1",
    }
    assert "a@example.jp" not in ref1  # the reference carries no personal data
    with pytest.raises(ValidationFailed):
        box.send(notify.Message("pigeon", "x", "s", "b"), at=AT)


def test_a_production_notifier_plugs_in(tmp_path):
    sent: list[notify.Message] = []

    class Smtp:
        def send(self, message: notify.Message, *, at: datetime) -> str:
            sent.append(message)
            return "smtp-1"

    notify.set_notifier(Smtp())
    try:
        n = notify.notifier_for(tmp_path)
        assert n.send(notify.Message("email", "a@example.jp", "s", "b"), at=AT) == "smtp-1"
    finally:
        notify.set_notifier(None)
    assert len(sent) == 1 and not (tmp_path / "outbox").exists()
    assert isinstance(notify.notifier_for(tmp_path), notify.FileOutbox)


def test_purge_recipient_removes_only_that_persons_messages(tmp_path):
    box = notify.FileOutbox(tmp_path / "outbox")
    box.send(notify.Message("email", "a@example.jp", "s", "1"), at=AT)
    box.send(notify.Message("email", "a@example.jp", "s", "2"), at=AT)
    box.send(notify.Message("email", "b@example.jp", "s", "3"), at=AT)
    assert notify.purge_recipient(box, "a@example.jp") == 2
    left = [json.loads(p.read_text(encoding="utf-8"))["to"] for p in (tmp_path / "outbox").iterdir()]
    assert left == ["b@example.jp"]
    assert notify.purge_recipient(notify.FileOutbox(tmp_path / "missing"), "a@example.jp") == 0

    class NoStore:
        def send(self, message: notify.Message, *, at: datetime) -> str:
            return "x"

    assert notify.purge_recipient(NoStore(), "a@example.jp") == 0


def test_purge_concerning_forgets_every_message_about_the_person_whatever_the_address(tmp_path):
    box = notify.FileOutbox(tmp_path / "outbox")
    send = box.send
    # a code sent to the address the person had before correcting it
    send(notify.Message("email", "old@example.jp", "code", "1", request_id="r-old"), at=AT)
    send(
        notify.Message("email", "new@example.jp", "notice", "2", subject_ids=("c1",), request_id="r-new"),
        at=AT,
    )
    send(notify.Message("email", "shared@example.jp", "notice", "3", subject_ids=("c1", "c2")), at=AT)
    send(notify.Message("email", " Legacy@Example.jp", "untagged", "4"), at=AT)  # written before tags existed
    send(
        notify.Message("email", "other@example.jp", "notice", "5", subject_ids=("c2",), request_id="r2"),
        at=AT,
    )
    assert notify.purge_concerning(box, subject_ids=(), request_ids=(), recipients=()) == 0
    purged = notify.purge_concerning(
        box, subject_ids=["c1"], request_ids=["r-old"], recipients=["legacy@example.jp"]
    )
    assert purged == 4
    left = [json.loads(p.read_text(encoding="utf-8")) for p in (tmp_path / "outbox").iterdir()]
    assert [m["body"] for m in left] == ["5"]

    class AddressOnly:
        purged: list[str] = []

        def send(self, message: notify.Message, *, at: datetime) -> str:
            return "x"

        def purge_recipient(self, to: str) -> int:
            self.purged.append(to)
            return 1

    other = AddressOnly()
    assert (
        notify.purge_concerning(other, subject_ids=["c1"], recipients=["a@example.jp", "b@example.jp"]) == 2
    )
    assert other.purged == ["a@example.jp", "b@example.jp"]


def test_purged_files_are_overwritten_before_unlink(tmp_path, monkeypatch):
    box = notify.FileOutbox(tmp_path / "outbox")
    box.send(notify.Message("email", "a@example.jp", "s", "secret 123456", subject_ids=("c1",)), at=AT)
    path = next((tmp_path / "outbox").iterdir())
    seen: list[bytes] = []
    real_unlink = type(path).unlink

    def spy(self, missing_ok=False):
        seen.append(self.read_bytes())
        return real_unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(type(path), "unlink", spy)
    assert box.purge(subject_ids=["c1"]) == 1
    assert seen and set(seen[0]) == {0} and not path.exists()
