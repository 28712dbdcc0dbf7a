"""``mamori incidents report …`` and ``mamori incidents entrustor-notice`` (issue 22, R-26-4 / R-26-5)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from mamori.kernel.settings import reset_settings_cache
from tests.factories import point_env_at
from tests.incidents.report_support import add_scope, set_fields, story
from tests.incidents.support import new_incident


@pytest.fixture
def s(runtime) -> dict[str, Any]:
    return {"rt": runtime, **story(runtime)}


@pytest.fixture
def cli(s: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from mamori.cli.main import app

    point_env_at(monkeypatch, s["rt"].settings)
    runner = CliRunner()

    def run(user: str, *args: str) -> Any:
        return runner.invoke(app, ["--as", user, "incidents", *args])

    yield run
    reset_settings_cache()


def test_draft_show_export(cli: Any, s: dict[str, Any], tmp_path: Path) -> None:
    ref, rt = s["incident"].ref, s["rt"]
    r = cli("po", "report", "draft", ref, "--stage", "prelim", "--json")
    assert r.exit_code == 0, r.output
    body = json.loads(r.stdout)
    assert body["version"] == 1 and body["stored"] and len(body["body"]["items"]) == 9
    r = cli("po", "report", "draft", ref, "--stage", "prelim")
    assert r.exit_code == 0 and "変わっていません" in r.stdout and "(5) 二次被害" in r.stdout
    set_fields(rt, s["incident"].id, secondary_damage="二次被害は確認されていない。")
    r = cli("po", "report", "draft", ref, "--stage", "final")
    assert r.exit_code == 0 and "確報 第1版を作成しました" in r.stdout
    shown = cli("po", "report", "show", ref)
    assert shown.exit_code == 0 and "変更あり" in shown.stdout and "速報 第1版" in shown.stdout
    both = json.loads(cli("po", "report", "show", ref, "--json").stdout)
    changed = {d["number"] for d in both["diff"] if d["changed"]}
    assert 5 in changed and 2 not in changed
    out = tmp_path / "prelim.pdf"
    r = cli(
        "po",
        "report",
        "export",
        ref,
        "--stage",
        "prelim",
        "--version",
        "1",
        "--format",
        "pdf",
        "--out",
        str(out),
    )
    assert r.exit_code == 0, r.output
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(out.read_bytes())).pages)
    assert "(1) 概要" in text and "(8) 再発防止のための措置" in text
    html = tmp_path / "final.html"
    r = cli("po", "report", "export", ref, "--stage", "final", "--format", "html", "--out", str(html))
    assert r.exit_code == 0 and "二次被害は確認されていない。" in html.read_text(encoding="utf-8")
    assert "試験" not in html.read_text(encoding="utf-8")


def test_bad_input_is_one_line(cli: Any, s: dict[str, Any], tmp_path: Path) -> None:
    ref = s["incident"].ref
    r = cli("po", "report", "draft", ref, "--stage", "draft")
    assert r.exit_code != 0 and "bad_stage" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    cli("po", "report", "draft", ref, "--stage", "prelim")
    r = cli(
        "po", "report", "export", ref, "--stage", "prelim", "--format", "docx", "--out", str(tmp_path / "x")
    )
    assert r.exit_code != 0 and "bad_format" in r.stderr and not (tmp_path / "x").exists()
    r = cli(
        "po", "report", "export", ref, "--stage", "final", "--format", "json", "--out", str(tmp_path / "y")
    )
    assert r.exit_code != 0 and "report_not_found" in r.stderr
    r = cli("po", "report", "show", "INC-0999")
    assert r.exit_code != 0 and "incident_not_found" in r.stderr


def test_unauthorised_roles_are_refused(cli: Any, s: dict[str, Any]) -> None:
    ref = s["incident"].ref
    r = cli("sato", "report", "draft", ref, "--stage", "prelim")
    assert r.exit_code != 0 and "role_not_permitted" in r.stderr
    r = cli("analyst", "report", "show", ref)
    assert r.exit_code != 0 and "role_not_permitted" in r.stderr
    denied = [e for e in s["rt"].audit.tail(200) if e.decision == "deny"]
    assert {e.action for e in denied} >= {"incident.manage", "incident.read"}


def test_an_outsourcees_incident_produces_the_entrustor_notice_R_26_5(
    cli: Any, s: dict[str, Any], tmp_path: Path
) -> None:
    rt = s["rt"]
    refused = cli("po", "entrustor-notice", s["incident"].ref)
    assert refused.exit_code != 0 and "R-26-5" in refused.stderr and "not_outsourcee" in refused.stderr
    inc = new_incident(
        rt, s["actors"]["sato"], role="outsourcee", entrustor_name="架空百貨店株式会社", cause="misdelivery"
    )
    add_scope(rt, inc.id, {s["customers"][0]: ["name", "address"]})
    out = tmp_path / "notice.pdf"
    r = cli("po", "entrustor-notice", inc.ref, "--out", str(out), "--format", "pdf")
    assert r.exit_code == 0, r.output
    assert "委託元への通知 第1版" in r.stdout and "委託元: 架空百貨店株式会社" in r.stdout
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(out.read_bytes())).pages)
    assert "架空百貨店株式会社 御中" in text and "(3)" in text and "1人" in text
    again = cli("po", "entrustor-notice", inc.ref, "--json")
    assert again.exit_code == 0 and json.loads(again.stdout)["stored"] is False
    shown = json.loads(cli("po", "report", "show", inc.ref, "--json").stdout)
    assert shown["entrustor"]["version"] == 1 and shown["role"] == "outsourcee"
    r = cli("po", "entrustor-notice", inc.ref, "--out", str(tmp_path / "z"), "--format", "docx")
    assert r.exit_code != 0 and not (tmp_path / "z").exists()
