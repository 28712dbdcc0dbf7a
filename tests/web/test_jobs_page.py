"""The /jobs staff page (issue 21): the scheduled jobs with their schedules and last runs for the privacy officer
and the admin, a 今すぐ実行 button (CSRF, audited), 404 for an unknown job, 403 for the other roles."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mamori.kernel import scheduler
from mamori.kernel.errors import ValidationFailed
from tests.api.conftest import Api

BOOM = "test.boom"


def _mounted(app) -> bool:
    """Signed out, a mounted /jobs sends to the sign-in page; an unknown path is 404."""
    from fastapi.testclient import TestClient

    c = TestClient(app, base_url="https://testserver", raise_server_exceptions=False)
    return c.get("/jobs", follow_redirects=False).status_code == 303


@pytest.fixture
def api(runtime):
    from mamori.jobs import register_jobs
    from mamori.web import jobs as jobs_pages

    register_jobs()

    def boom(rt, *, job_run_id):
        raise ValidationFailed("壊れた", "broken", code="boom_code")

    scheduler.register_job(BOOM, boom, cron="0 3 * * *", label_ja="失敗する処理", label_en="A failing job")
    a = Api(runtime)
    if not _mounted(a.app):  # until api/app.py mounts it (test_the_page_is_mounted fails)
        a.app.include_router(jobs_pages.router)
    yield a
    scheduler.unregister_job(BOOM)


def test_the_page_is_mounted(runtime):
    from mamori.api.app import create_app

    assert _mounted(create_app(runtime))


def test_the_privacy_officer_sees_every_job_with_its_last_run(api):
    scheduler.run_job(
        api.rt, "scheduler.prune", slot=datetime(2026, 11, 22, 19, 15, tzinfo=UTC), worker="w:1"
    )
    scheduler.run_job(api.rt, BOOM, slot=datetime(2026, 11, 22, 18, 0, tzinfo=UTC), worker="w:1")
    po, _ = api.client("po")
    r = po.get("/jobs")
    assert r.status_code == 200
    html = r.text
    for name in ("rights-remind", "lifecycle-retention", "staff-training_expiry", "processors-overdue"):
        assert f'id="job-{name}"' in html
    assert "本人からの請求の回答期限リマインダー" in html and "cron 0 * * * * (JST)" in html
    assert "deleted=0" in html and "boom_code" in html and "壊れた" not in html
    assert 'action="/jobs/rights.remind/run"' in html and 'name="csrf"' in html
    assert "2026-11-22T18:00:00Z" in html
    admin, _ = api.client("admin")
    assert admin.get("/jobs").status_code == 200


def test_run_now_needs_the_csrf_token_runs_the_job_and_shows_the_outcome(api):
    po, csrf = api.client("po")
    refused = po.post("/jobs/scheduler.prune/run", data={"csrf": "forged"}, follow_redirects=False)
    assert refused.status_code == 403
    with api.rt.transaction() as ctx:
        assert scheduler.runs(ctx) == []
    r = po.post("/jobs/scheduler.prune/run", data={"csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/jobs?done=succeeded&job=scheduler.prune"
    page = po.get(r.headers["location"]).text
    assert 'id="jobs-done"' in page and "scheduler.prune" in page
    with api.rt.transaction() as ctx:
        (run,) = scheduler.runs(ctx)
    assert run.job == "scheduler.prune" and run.slot.startswith("manual/") and run.status == "succeeded"
    failed = po.post(f"/jobs/{BOOM}/run", data={"csrf": csrf}, follow_redirects=False)
    assert failed.headers["location"] == f"/jobs?done=failed&job={BOOM}"


@pytest.mark.parametrize("name", ["no.such.job", "BAD NAME", "x" * 80])
def test_an_unknown_job_is_404(api, name):
    po, csrf = api.client("po")
    r = po.post(f"/jobs/{name}/run", data={"csrf": csrf}, follow_redirects=False)
    assert r.status_code == 404
    with api.rt.transaction() as ctx:
        assert scheduler.runs(ctx) == []


@pytest.mark.parametrize("user", ["sato", "support", "analyst"])
def test_other_roles_get_403_and_run_nothing(api, user):
    c, csrf = api.client(user)
    r = c.get("/jobs")
    assert r.status_code == 403 and "rights.remind" not in r.text
    r = c.post("/jobs/scheduler.prune/run", data={"csrf": csrf}, follow_redirects=False)
    assert r.status_code == 403
    with api.rt.transaction() as ctx:
        assert scheduler.runs(ctx) == []


def test_signed_out_goes_to_sign_in(api):
    c, _ = api.client(None)
    assert c.get("/jobs", follow_redirects=False).headers["location"] == "/sign-in"
    assert c.post("/jobs/scheduler.prune/run", follow_redirects=False).headers["location"] == "/sign-in"
