"""The demo's training and pledges (R-23-3, issue 21): two courses, completions, pledge version 1, the policy on.

Every demo staff member has completed 個人情報保護基礎研修 and signed the pledge EXCEPT the sales rep ``suzuki``,
who stays untrained: with the policy on (sales, support, analyst, privacy officer), ``mamori --as suzuki customers
list -p marketing-email`` is refused with R-23-3 until the officer records the training
(``mamori --as hoshino staff training record suzuki privacy-basics``) and suzuki signs
(``mamori --as suzuki staff pledge sign``). ``ito``'s basic course expires within 30 days (the expiring list).
Called from ``mamori.cli.demo.generate`` after the staff exist; running it twice changes nothing.
"""

from __future__ import annotations

from datetime import timedelta

from mamori.kernel.clock import today_jst
from mamori.kernel.context import SYSTEM_ACTOR, Role
from mamori.kernel.runtime import Runtime
from mamori.staff import service as staff_service
from mamori.staff.schemas import CompletionCreate, CourseCreate, PledgePublish, PledgeSign

UNTRAINED = "suzuki"  # the one sales rep without training or pledge
BASIC = CourseCreate(code="privacy-basics", title="個人情報保護基礎研修", validity_days=365, required=True)
PHISHING = CourseCreate(code="phishing-drill", title="標的型メール訓練", validity_days=180, required=False)
PLEDGE_TITLE = "個人情報の取扱いに関する誓約書"
PLEDGE_BODY = """私は、貴社の業務に従事するにあたり、次の事項を遵守することを誓約します。

1. 業務上知り得た個人情報を、業務の目的の範囲内でのみ取り扱い、目的外に利用しないこと。
2. 個人情報を第三者に漏えいし、または提供しないこと（在職中および退職後も同様）。
3. 個人情報の持ち出し・複製は、定められた手続に従う場合に限ること。
4. 漏えい等のおそれを知ったときは、直ちに個人情報保護管理者に報告すること。
5. 定められた研修を受講し、社内規程を遵守すること。
"""
# days before "today" each staff member completed the basic course (the rest: 120 days)
BASIC_DAYS_AGO = {"ito": 350, "takahashi": 200}
POLICY_ROLES = (Role.SALES, Role.SUPPORT, Role.ANALYST, Role.PRIVACY_OFFICER)


def seed(runtime: Runtime, *, untrained: str = UNTRAINED) -> dict[str, object]:
    """Courses, completions, pledge version 1 and the policy (on); ``untrained`` (a sales rep's user name) gets no
    completion and no signature. Returns what it made (user names and counts)."""
    today = today_jst(runtime.clock)
    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        have = {c.code for c in staff_service.list_courses(ctx, include_retired=True)}
        if BASIC.code in have:  # seeded before
            return {"untrained": untrained, "seeded": False}
        for course in (BASIC, PHISHING):
            staff_service.add_course(ctx, course)
        if staff_service.latest_pledge(ctx) is None:
            staff_service.publish_pledge(ctx, PledgePublish(title=PLEDGE_TITLE, body=PLEDGE_BODY))
        users = [u for u in staff_service.list_staff(ctx) if u.active and u.kind == "person"]
        trained = 0
        for user in users:
            if user.username == untrained:
                continue
            days = BASIC_DAYS_AGO.get(user.username, 120)
            staff_service.record_completion(
                ctx,
                CompletionCreate(
                    username=user.username,
                    course=BASIC.code,
                    completed_on=today - timedelta(days=days),
                    reference=f"PB-2026-{trained + 1:03d}",
                ),
            )
            staff_service.record_completion(
                ctx,
                CompletionCreate(
                    username=user.username, course=PHISHING.code, completed_on=today - timedelta(days=60)
                ),
            )
            staff_service.sign_pledge(ctx, PledgeSign(username=user.username))
            trained += 1
        staff_service.set_policy(ctx, True, list(POLICY_ROLES))
    return {
        "courses": 2,
        "trained": trained,
        "untrained": untrained,
        "pledge_version": 1,
        "policy_roles": [r.value for r in POLICY_ROLES],
        "seeded": True,
    }
