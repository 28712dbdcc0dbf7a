"""要配慮 flags (R-2.3-1) and the registry scanner used on customer notes."""

from __future__ import annotations

from mamori.deid.text import SENSITIVE_RULE_ID, detect, register, scan
from mamori.deid.text.sensitive import find_sensitive
from mamori.kernel import registry


def test_rule_id_is_named():
    assert SENSITIVE_RULE_ID == "R-2.3-1"


def test_each_category_is_flagged():
    cases = {
        "持病の治療で通院中": "sensitive:medical",
        "健康診断の結果": "sensitive:medical",
        "前科があると本人が話した": "sensitive:criminal",
        "過去に逮捕された": "sensitive:criminal",
        "犯罪被害に遭った": "sensitive:crime_victim",
        "信仰している宗教": "sensitive:creed",
        "人種による": "sensitive:race",
        "障害者手帳を提示": "sensitive:disability",
        "本籍地を記載": "sensitive:social_status",
        "He was diagnosed with diabetes": "sensitive:medical",
        "has a criminal record": "sensitive:criminal",
    }
    for text, category in cases.items():
        assert category in {t for t, _s, _e in find_sensitive(text)}, text


def test_flags_are_marked_sensitive_and_not_for_plain_text():
    fs = detect("糖尿病で通院中")
    assert fs and all(f.sensitive and f.type.startswith("sensitive:") for f in fs)
    assert detect("新製品の打ち合わせ") == []


def test_bare_nationality_is_not_a_race_flag():
    assert find_sensitive("国籍：日本、アメリカ国籍") == []


def test_english_terms_need_word_boundaries():
    assert find_sensitive("The racetrack and a disabledness") == []
    assert [t for t, _s, _e in find_sensitive("Race: unknown")] == ["sensitive:race"]


def test_longest_term_wins_when_terms_overlap():
    hits = find_sensitive("障害者手帳")
    assert [(t, s, e) for t, s, e in hits] == [("sensitive:disability", 0, 5)]


def test_register_adds_a_scanner_returning_text_findings():
    saved = list(registry._text_scanners)
    try:
        register()
        register()  # idempotent
        assert registry.text_scanning_available()
        assert registry._text_scanners.count(scan) == 1
        found = registry.scan_text("田中太郎様は持病で通院中。090-1234-5678")
    finally:
        registry._text_scanners[:] = saved  # leave the process-wide registry as other tests expect it
    kinds = {(f.type, f.sensitive) for f in found}
    assert ("person", False) in kinds and ("phone", False) in kinds
    assert ("sensitive:medical", True) in kinds
    assert all(isinstance(f, registry.TextFinding) for f in found)


def test_career_history_is_a_non_sensitive_review_flag_and_is_kept():
    from mamori.deid.text import redact

    text = "前職は山田商事で営業部長だった"
    flags = [f for f in detect(text) if f.type == "flag:career"]
    assert len(flags) == 1 and not flags[0].sensitive
    assert text[flags[0].start : flags[0].end] == "前職"
    assert redact(text).startswith("前職は")
    assert detect("新製品の見積もり") == []
