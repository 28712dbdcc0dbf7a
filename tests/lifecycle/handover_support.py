"""Helpers of the ownership and handover tests (issue 21): a required course and a published pledge, so that a
staff member is current (R-23-3) only once their completion is recorded and their pledge signed. Synthetic data."""

from __future__ import annotations

from mamori.kernel.context import Actor
from mamori.kernel.runtime import Runtime
from mamori.staff.schemas import CompletionCreate, CourseCreate, PledgePublish, PledgeSign
from mamori.staff.service import training

COURSE = "privacy-basics"


def require_training(rt: Runtime, officer: Actor) -> None:
    """A required course and a first pledge version: from now on nobody is current until trained and signed."""
    with rt.transaction(officer) as ctx:
        training.add_course(ctx, CourseCreate(code=COURSE, title="個人情報保護の基礎", validity_days=365))
        training.publish_pledge(
            ctx, PledgePublish(title="秘密保持誓約書", body="業務上知り得た個人情報を漏らしません。")
        )


def train(rt: Runtime, officer: Actor, username: str) -> None:
    """Record ``username``'s completion of the course and their signature of the latest pledge (on paper)."""
    with rt.transaction(officer) as ctx:
        training.record_completion(
            ctx, CompletionCreate(username=username, course=COURSE, reference="CERT-1")
        )
        training.sign_pledge(ctx, PledgeSign(username=username))


# -- a runtime that may send e-mail (TE-4: the sender's identity configured) and a purpose to greet under ----------

from collections.abc import Iterator  # noqa: E402

import pytest  # noqa: E402

from mamori.kernel.policy import Category  # noqa: E402
from mamori.purposes.schemas import PurposeCreate  # noqa: E402

OPERATOR = {
    "operator_name": "架空商事株式会社",
    "operator_address": "東京都千代田区丸の内1-1-1",
    "privacy_contact": "privacy@example.co.jp",
    "public_base_url": "https://privacy.example.co.jp",
    "mail_from": "info@example.co.jp",
}
ACCOUNT_CARE = PurposeCreate(
    code="account-care",
    title_ja="担当者からのご連絡",
    title_en="Messages from your account manager",
    text_ja="担当者の交代などのご連絡のため、氏名とメールアドレスを利用し、メールでご連絡します。",
    text_en="Messages such as a change of account manager, by e-mail, using name and e-mail address.",
    categories=[Category.IDENTIFIER, Category.CONTACT],
    channels=["email"],
)


@pytest.fixture
def mail_runtime(settings_factory, clock) -> Iterator[Runtime]:  # type: ignore[no-untyped-def]
    """A runtime whose settings carry the sender's identity (TE-4), mail to the file outbox under its home."""
    from mamori import composition

    composition.register_all()
    runtime = Runtime(settings_factory(**OPERATOR), clock=clock)
    runtime.init()
    yield runtime
    runtime.close()
