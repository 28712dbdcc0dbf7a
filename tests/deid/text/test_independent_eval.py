"""Issue 23: the hand-marked evaluation (span recall, strict recall, look-alikes kept), the independence of the
held-out corpus from every name list a detector uses, and seed 001 case 6 (a seminar's self-introductions)
through the command a person runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mamori.deid.cli.text import app
from mamori.deid.text.evaluate import evaluate_marked, load_marked, parse_marked

ROOT = Path(__file__).resolve().parents[3]
INDEPENDENT = ROOT / "corpus" / "pii-independent"
DEV = ROOT / "corpus" / "pii-dev"
runner = CliRunner()


def test_markup_parses_to_text_spans_and_lookalikes():
    doc = parse_marked(
        "d", "担当の⟦person:桐生⟧です。代表 ⟦keep:phone:03-1234-5678⟧ 携帯 ⟦phone:090-1234-5678⟧"
    )
    assert doc.text == "担当の桐生です。代表 03-1234-5678 携帯 090-1234-5678"
    assert doc.spans == ((3, 5, "person"), (27, 40, "phone"))
    assert [doc.text[s:e] for s, e, _ in doc.spans] == ["桐生", "090-1234-5678"]
    assert doc.keeps == ((11, 23, "phone"),)
    assert doc.text[11:23] == "03-1234-5678"


@pytest.mark.parametrize(
    "bad",
    ["⟦nonsense:x⟧", "⟦keep:x⟧", "a ⟦person:x b", "⟦person:a⟦phone:1⟧⟧"],
    ids=["type", "kind", "open", "nest"],
)
def test_bad_markup_is_refused(bad: str):
    with pytest.raises(ValueError):
        parse_marked("bad", bad)


def test_scores_count_overlap_whole_coverage_and_lookalikes():
    doc = parse_marked("d", "⟦person:桐生 朝陽⟧様、⟦phone:090-1234-5678⟧、代表⟦keep:phone:03-1234-5678⟧")

    def half(
        _text: str,
    ) -> list[tuple[int, int, str]]:  # catches half the name, the mobile and the kept number
        return [(0, 2, "person"), (7, 20, "phone"), (23, 35, "phone")]

    rep = evaluate_marked([doc], half, misses=True)
    assert rep["overall"] == {"total": 2, "span_recall": 1.0, "strict_recall": 0.5, "caught": 2, "whole": 1}
    assert rep["keep"]["kept"] == 0 and rep["keep"]["total"] == 1
    assert rep["missed"] == [{"doc": "d", "type": "person", "start": 0, "end": 5, "caught": True}]
    rep = evaluate_marked([doc], lambda _t: [])
    assert rep["overall"]["span_recall"] == 0.0 and rep["keep"]["keep_rate"] == 1.0


def test_independent_corpus_is_there_and_big_enough():
    docs = load_marked(INDEPENDENT)
    assert len(docs) >= 80
    spans = sum(len(d.spans) for d in docs)
    keeps = sum(len(d.keeps) for d in docs)
    assert spans >= 600 and keeps >= 250
    kinds = {t for d in docs for _s, _e, t in d.spans}
    assert {"person", "address", "phone", "email", "bank_account", "date_of_birth"} <= kinds


def test_dev_corpus_is_there():
    docs = load_marked(DEV)
    assert len(docs) >= 80 and sum(len(d.spans) for d in docs) >= 600


@pytest.mark.parametrize("root", [INDEPENDENT, DEV], ids=["independent", "dev"])
def test_hand_marked_corpus_names_are_in_no_detector_list(root: Path):
    """The independence rule of issue 23: a name of the held-out corpus (and of the development corpus, whose
    names nobody may add to a list either) is in no list a detector uses."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "eval_names_check.py"), "--corpus", str(root)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[:2000]


def test_the_names_check_finds_a_listed_name(tmp_path: Path):
    (tmp_path / "x.txt").write_text("⟦person:佐藤⟧様", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "eval_names_check.py"), "--corpus", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1 and "佐藤" in proc.stdout


# Floors a little under what the detector reached when issue 23 landed (docs/text-pii.md "Independent evaluation":
# held-out 0.833 overall, names 0.800, addresses 0.771, look-alikes kept 0.916; development 0.939, 0.942, 0.832,
# 0.978). They fail when recall or the look-alikes kept fall back. They are not the targets (not reached).
FLOORS = {
    "independent": {"overall": 0.81, "person": 0.77, "address": 0.74, "keep": 0.89},
    "dev": {"overall": 0.92, "person": 0.92, "address": 0.80, "keep": 0.95},
}


@pytest.mark.parametrize("name", ["independent", "dev"])
def test_hand_marked_corpus_floors(name: str):
    rep = evaluate_marked(load_marked(INDEPENDENT if name == "independent" else DEV))
    floors = FLOORS[name]
    assert rep["overall"]["span_recall"] >= floors["overall"]
    assert rep["by_type"]["person"]["span_recall"] >= floors["person"]
    assert rep["by_type"]["address"]["span_recall"] >= floors["address"]
    assert rep["keep"]["keep_rate"] >= floors["keep"]


# Seed 001 case 6: a lecturer asks each attendee's name and where they live; the recording is to be published.
# Names written for this test (checked to be in no detector list), not taken from the held-out corpus.
SEMINAR_VTT = """WEBVTT

00:00:01.000 --> 00:00:05.000
講師: では、お名前と今お住まいの場所を一言ずつお願いします。

00:00:06.000 --> 00:00:10.000
参加者: 蔀と申します。練馬区に住んでいます。

00:00:11.000 --> 00:00:15.000
参加者: はい、鍛冶屋敷です。杉並区在住です。よろしくお願いします。

00:00:16.000 --> 00:00:20.000
講師: 蔀さん、鍛冶屋敷さん、ありがとうございます。会場は品川駅前のホールです。
"""


def test_seed_001_case_6_seminar_self_introductions_are_redacted(tmp_path: Path):
    src = tmp_path / "seminar.vtt"
    src.write_text(SEMINAR_VTT, encoding="utf-8")
    out = tmp_path / "public.vtt"
    res = runner.invoke(app, ["redact", str(src), "-o", str(out)])
    assert res.exit_code == 0, res.output
    public = out.read_text(encoding="utf-8")
    for personal in ("蔀", "鍛冶屋敷", "練馬区", "杉並区"):
        assert personal not in public, personal
    # What is not personal stays: the lecturer's words, the venue, the timing lines.
    assert "お名前と今お住まいの場所" in public and "品川駅前のホール" in public
    assert "00:00:06.000 --> 00:00:10.000" in public
