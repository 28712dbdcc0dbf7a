"""The public unsubscribe link (/u/{token}) and how the campaign headers travel through the mail queue: guesses are
throttled but a real unsubscribe never is; the headers are sealed with the text and checked when enqueued."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from mamori.consent import service as consent_service
from mamori.contact.web.unsubscribe import GUESSES_PER_IP
from mamori.kernel.context import SYSTEM_ACTOR
from mamori.kernel.errors import ValidationFailed
from mamori.kernel.mail import Mail, enqueue
from mamori.kernel.mail.models import MailMessage
from mamori.kernel.notify import FileOutbox, Message
from tests.contact import test_campaigns as _campaigns
from tests.contact.test_campaigns import (
    Story,
    _create,
    _email_list,
    _send,
    _web,
)

story = _campaigns.story  # the fixtures of the campaign tests
make_story = _campaigns.make_story


def test_guesses_are_throttled_but_a_real_unsubscribe_still_works(story: Story):
    s = story
    _send(s, _create(s))
    path = urlsplit(s.handler.wait(1)[0].message["List-Unsubscribe"].strip().strip("<>")).path
    client = _web(s)
    codes = [client.post(f"/u/{n:043d}").status_code for n in range(GUESSES_PER_IP + 1)]
    assert codes[:GUESSES_PER_IP] == [200] * GUESSES_PER_IP and codes[-1] == 429
    done = client.post(path, data={"List-Unsubscribe": "One-Click"})  # same IP, over the limit
    assert done.status_code == 200
    assert _email_list(s) == set()
    with s.rt.transaction(s.actors["po"]) as ctx:
        assert "email" in consent_service.show(ctx, s.ids["in"]).do_not_contact


def test_malformed_and_overlong_tokens_get_the_neutral_page(story: Story):
    client = _web(story)
    for token in ("x", "a" * 150, "%00" * 40):
        r = client.post(f"/u/{token}")
        assert r.status_code in (200, 422, 404) and "Traceback" not in r.text
    assert client.get("/u/short").status_code == 200


def test_headers_are_sealed_with_the_text_and_written_by_the_file_outbox(runtime, tmp_path):
    token = "tok-" + "x" * 40
    headers = (("List-Unsubscribe", f"<https://e.example/u/{token}>"), ("List-Unsubscribe-Post", "x=y"))
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        mid = enqueue(ctx, Mail(to="a@example.jp", subject="s", text="本文", topic="t.h", headers=headers))
        ctx.session.flush()
        row = ctx.session.execute(select(MailMessage).where(MailMessage.id == mid)).scalar_one_or_none()
        raw = b"".join(bytes(getattr(row, c) or b"") for c in ("to_enc", "subject_enc", "text_enc"))
        assert token.encode() not in raw and b"List-Unsubscribe" not in raw
    outbox = FileOutbox(tmp_path / "outbox")
    outbox.send(
        Message(channel="email", to="a@example.jp", subject="s", body="b", headers=headers),
        at=runtime.clock.now(),
    )
    (stored,) = (tmp_path / "outbox").glob("*.json")
    assert json.loads(stored.read_text())["headers"] == [list(h) for h in headers]


@pytest.mark.parametrize(
    "headers",
    [
        (("From", "x@example.jp"),),
        (("List-Unsubscribe", "<https://e.example/u/x>\r\nBcc: y@example.jp"),),
        (("Bad Name", "v"),),
        tuple(("X-H", "v") for _ in range(9)),
    ],
)
def test_unsafe_headers_are_refused_when_enqueued(runtime, headers):
    with pytest.raises(ValidationFailed), runtime.transaction(SYSTEM_ACTOR) as ctx:
        enqueue(ctx, Mail(to="a@example.jp", subject="s", text="t", headers=headers))


def test_a_text_cannot_pose_as_headers(runtime):
    with pytest.raises(ValidationFailed), runtime.transaction(SYSTEM_ACTOR) as ctx:
        enqueue(ctx, Mail(to="a@example.jp", subject="s", text="\0mamori-headers\0[]\nx"))


def test_a_multipart_one_click_post_is_honoured_too(story: Story):
    """RFC 8058 §3.1: the POST body may be multipart/form-data as well as urlencoded."""
    s = story
    _send(s, _create(s))
    path = urlsplit(s.handler.wait(1)[0].message["List-Unsubscribe"].strip().strip("<>")).path
    r = _web(s).post(path, files={"List-Unsubscribe": (None, "One-Click")})
    assert r.status_code == 200
    with s.rt.transaction(s.actors["po"]) as ctx:
        line = consent_service.show(ctx, s.ids["in"]).events[-1]
    assert (line.target, line.action, line.method) == ("email", "opt_out", "email")
