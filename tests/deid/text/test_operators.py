"""Operators (mask, label, pseudonym, remove, keep) and policies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mamori.deid.text import Policy, detect, pseudonym, redact
from mamori.deid.text.errors import PolicyInvalid
from mamori.deid.text.operators import apply, masked_preview

KEY = b"k" * 32
TEXT = "田中太郎様の電話は090-1234-5678です。"


def test_label_is_the_default_operator():
    assert redact(TEXT) == "<人名>様の電話は<電話番号>です。"
    assert redact(TEXT, lang="en") == "<PERSON>様の電話は<PHONE>です。"


def test_mask_keeps_length_and_hides_every_character():
    out = redact(TEXT, Policy(default="mask"))
    assert out == "●●●●様の電話は●●●●●●●●●●●●●です。"
    assert "090" not in out


def test_remove_drops_the_value():
    assert redact(TEXT, Policy(default="remove")) == "様の電話はです。"


def test_keep_leaves_a_type_untouched():
    out = redact(TEXT, Policy(default="label", by_type={"phone": "keep"}))
    assert out == "<人名>様の電話は090-1234-5678です。"


def test_pseudonym_is_consistent_within_a_key_and_differs_across_keys():
    text = "田中太郎様と田中太郎様、そして山田花子様"
    out = redact(text, Policy(default="pseudonym"), key=KEY)
    labels = [p for p in out.split("様") if p.startswith(("<", "と<", "、そして<"))]
    first, second, third = (lab[lab.index("<") :] for lab in labels)
    assert first == second != third
    assert first.startswith("<人名_") and len(first) == len("<人名_") + 7
    other = redact(text, Policy(default="pseudonym"), key=b"x" * 32)
    assert other != out


def test_pseudonym_ignores_width_differences():
    assert pseudonym("０９０-１２３４-５６７８", "phone", KEY) == pseudonym("090-1234-5678", "phone", KEY)
    assert pseudonym("090-1234-5678", "phone", KEY) != pseudonym("090-1234-5678", "email", KEY)


def test_pseudonym_without_key_is_an_error():
    with pytest.raises(PolicyInvalid):
        apply(TEXT, detect(TEXT), Policy(default="pseudonym"))


def test_unknown_operator_is_rejected():
    with pytest.raises(PolicyInvalid):
        Policy(default="shred")
    with pytest.raises(PolicyInvalid):
        Policy.from_pairs(["phone=shred"])
    with pytest.raises(PolicyInvalid):
        Policy.from_pairs(["phone"])


def test_policy_from_pairs_and_json(tmp_path: Path):
    p = Policy.from_pairs(["default=mask", "person=pseudonym"])
    assert p.operator_for("phone") == "mask" and p.operator_for("person") == "pseudonym"
    f = tmp_path / "policy.json"
    f.write_text(json.dumps({"default": "remove", "types": {"email": "label"}}), encoding="utf-8")
    q = Policy.from_json(f)
    assert q.operator_for("email") == "label" and q.operator_for("phone") == "remove"
    flat = tmp_path / "flat.json"
    flat.write_text(json.dumps({"phone": "mask"}), encoding="utf-8")
    assert Policy.from_json(flat).operator_for("phone") == "mask"


def test_bad_policy_files(tmp_path: Path):
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    with pytest.raises(PolicyInvalid):
        Policy.from_json(broken)
    arr = tmp_path / "arr.json"
    arr.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(PolicyInvalid):
        Policy.from_json(arr)
    with pytest.raises(PolicyInvalid):
        Policy.from_json(tmp_path / "missing.json")


def test_sensitive_flags_are_kept_by_default_but_can_be_redacted():
    text = "糖尿病で通院中の田中様"
    assert redact(text) == "糖尿病で通院中の<人名>様"
    assert redact(text, Policy(by_type={"sensitive": "label"})) == "<要配慮>で<要配慮>中の<人名>様"


def test_masked_preview_never_shows_letters_or_digits():
    assert masked_preview("090-1234-5678") == "●●●-●●●●-●●●●"
    assert masked_preview("taro@example.jp") == "●●●●@●●●●●●●.●●"
    assert masked_preview("田中 太郎") == "●● ●●"
