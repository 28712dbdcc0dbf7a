"""The optional NER hook: label mapping, merging with rule findings, offsets, CLI when GiNZA is missing.

No spaCy here: the span provider is a small hand-written class returning fixed spans (test input).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mamori.deid.cli.text import app
from mamori.deid.text import detect, redact
from mamori.deid.text.errors import NerUnavailable
from mamori.deid.text.ner import current_ner, ginza_ner, map_label, using_ner

_SPACY = importlib.util.find_spec("spacy") is not None
runner = CliRunner()


class FixedSpans:
    """Returns the spans of the given substrings (first occurrence) with their labels."""

    def __init__(self, *items: tuple[str, str]) -> None:
        self.items = items
        self.calls: list[str] = []

    def __call__(self, text: str) -> list[tuple[int, int, str]]:
        self.calls.append(text)
        out = []
        for sub, label in self.items:
            i = text.index(sub)
            out.append((i, i + len(sub), label))
        return out


class RawSpans:
    def __init__(self, *spans: tuple[int, int, str]) -> None:
        self.spans = spans

    def __call__(self, text: str) -> list[tuple[int, int, str]]:
        return list(self.spans)


def _pii(text: str, **kw: object) -> list[tuple[str, str]]:
    return [(f.type, text[f.start : f.end]) for f in detect(text, sensitive=False, **kw)]  # type: ignore[arg-type]


def test_labels_map_to_person_place_or_nothing() -> None:
    assert map_label("Person") == "person"
    assert map_label("PERSON") == "person"
    for place in ("Province", "City", "County", "GPE_Other", "Address_Other"):
        assert map_label(place) == "place"
    assert map_label("Company") is None
    assert map_label("Date") is None


def test_ner_person_is_added_with_offsets_on_full_width_text() -> None:
    # given a name the rules do not know, after full-width letters, digits and spaces
    text = "ＡＢＣ　１２３　昨日は灰谷蒼湊と打合せ。"
    assert ("person", "灰谷蒼湊") not in _pii(text)
    # when the provider tags it
    found = _pii(text, ner=FixedSpans(("灰谷蒼湊", "Person")))
    # then it is a person finding and the offsets slice the original text
    assert found == [("person", "灰谷蒼湊")]


def test_provider_receives_the_original_text_not_the_normalised_one() -> None:
    text = "ＴＥＬ　０３－１２３４－５６７８　灰谷"
    provider = FixedSpans(("灰谷", "Person"))
    detect(text, ner=provider)
    assert provider.calls == [text]


def test_ner_person_overlapping_a_phone_loses_to_the_phone() -> None:
    text = "連絡先 090-1234-5678 まで"
    found = _pii(text, ner=FixedSpans(("先 090-12", "Person")))
    assert found == [("phone", "090-1234-5678")]


def test_ner_person_overlapping_a_rule_person_gives_one_span_the_longer() -> None:
    text = "担当の山田太郎様にご連絡ください。"
    assert _pii(text) == [("person", "山田太郎")]
    shorter = _pii(text, ner=FixedSpans(("山田", "Person")))
    longer = _pii(text, ner=FixedSpans(("山田太郎様", "Person")))
    same = _pii(text, ner=FixedSpans(("山田太郎", "Person")))
    assert shorter == [("person", "山田太郎")]
    assert longer == [("person", "山田太郎様")]
    assert same == [("person", "山田太郎")]


def test_place_alone_is_not_an_address() -> None:
    text = "来週は京都に出張します。"
    assert _pii(text, ner=FixedSpans(("京都", "City"))) == []


def test_place_overlapping_an_address_extends_it() -> None:
    # given a rule address followed by a building name the rules stop before
    text = "住所：大阪市北区梅田１－１－１グランフロント大阪です"
    assert _pii(text) == [("address", "大阪市北区梅田１－１－１")]
    ner = FixedSpans(("梅田１－１－１グランフロント大阪", "Address_Other"))
    # then the address is extended to the end of the place span, on the original text
    assert _pii(text, ner=ner) == [("address", "大阪市北区梅田１－１－１グランフロント大阪")]


def test_touching_place_chain_extends_an_address_but_a_gap_does_not() -> None:
    text = "〒530-0001 関西 大阪市北区梅田1-1-1 ビル"
    ner = FixedSpans(("関西", "Domestic_Region"), ("ビル", "Facility_Other"))
    assert _pii(text, ner=ner) == [("postal_code", "530-0001"), ("address", "大阪市北区梅田1-1-1")]
    # a chain: the second place touches the first one only, which touches the address
    text = "住所：港区芝公園4-2-8東京タワー展望台です"
    assert _pii(text) == [("address", "港区芝公園4-2-8")]
    chain = FixedSpans(("展望台", "Location_Other"), ("東京タワー", "Location_Other"))
    assert _pii(text, ner=chain) == [("address", "港区芝公園4-2-8東京タワー展望台")]


def test_bad_spans_are_ignored_and_whitespace_is_trimmed() -> None:
    text = "　灰谷　さんへ"
    ner = RawSpans((0, 3, "Person"), (5, 99, "Person"), (4, 4, "Person"), (3, 4, "Person"), (-1, 2, "City"))
    found = detect(text, sensitive=False, ner=ner)
    assert [(f.type, f.start, f.end) for f in found] == [("person", 1, 3)]


def test_unknown_labels_add_nothing() -> None:
    text = "株式会社サンプル商事の件"
    assert _pii(text, ner=FixedSpans(("サンプル商事", "Company"))) == []


def test_using_ner_applies_to_detect_and_redact_only_inside_the_block() -> None:
    text = "昨日は灰谷蒼湊と打合せ。"
    provider = FixedSpans(("灰谷蒼湊", "Person"))
    assert current_ner() is None
    with using_ner(provider):
        assert current_ner() is provider
        assert _pii(text) == [("person", "灰谷蒼湊")]
        assert "灰谷蒼湊" not in redact(text)
    assert current_ner() is None
    assert _pii(text) == []
    assert "灰谷蒼湊" in redact(text)


def test_types_filter_applies_to_ner_findings() -> None:
    text = "昨日は灰谷蒼湊と打合せ。"
    found = detect(text, types=frozenset({"email"}), ner=FixedSpans(("灰谷蒼湊", "Person")))
    assert [f for f in found if not f.type.startswith(("sensitive:", "flag:"))] == []


@pytest.mark.skipif(_SPACY, reason="spaCy is installed in this environment")
def test_ginza_ner_without_spacy_raises_a_clear_error() -> None:
    with pytest.raises(NerUnavailable) as info:
        ginza_ner()
    line = info.value.one_line("en")
    assert "deid_ner_unavailable" in line and "ja-ginza" in line and "\n" not in line
    assert "ja-ginza" in info.value.one_line("ja")


@pytest.mark.skipif(_SPACY, reason="spaCy is installed in this environment")
@pytest.mark.parametrize("command", ["scan", "redact"])
def test_cli_ner_ginza_without_spacy_fails_with_one_line(tmp_path: Path, command: str) -> None:
    f = tmp_path / "a.txt"
    f.write_text("担当の山田太郎様 090-1234-5678\n", encoding="utf-8")
    res = runner.invoke(app, [command, str(f), "--ner", "ginza", "--lang", "en"])
    assert res.exit_code != 0
    err = res.stderr.strip()
    assert "deid_ner_unavailable" in err and len(err.splitlines()) == 1
    assert "山田" not in res.stdout and "090" not in res.stdout


def test_cli_unknown_ner_model_is_rejected(tmp_path: Path) -> None:
    f = tmp_path / "a.txt"
    f.write_text("こんにちは\n", encoding="utf-8")
    res = runner.invoke(app, ["scan", str(f), "--ner", "bert"])
    assert res.exit_code != 0
    assert "deid_ner_unavailable" in res.stderr and "ginza" in res.stderr


def test_cli_without_ner_still_works(tmp_path: Path) -> None:
    f = tmp_path / "a.txt"
    f.write_text("担当の山田太郎様 090-1234-5678\n", encoding="utf-8")
    res = runner.invoke(app, ["scan", str(f), "--json"])
    assert res.exit_code == 0, res.output
    assert '"person"' in res.stdout and '"phone"' in res.stdout


def test_ner_person_inside_a_company_name_is_dropped() -> None:
    text = "訪問先：佐藤建設有限会社、株式会社青木工業。担当は灰谷蒼湊。"
    ner = FixedSpans(("佐藤建設", "Person"), ("青木", "Person"), ("灰谷蒼湊", "Person"))
    assert _pii(text, ner=ner) == [("person", "灰谷蒼湊")]
    en = "met Rand Paul of Conner Ltd."
    assert ("person", "Rand Paul") in _pii(en, ner=FixedSpans(("Rand Paul", "PERSON")))
    assert ("person", "Conner Ltd") not in _pii(en, ner=FixedSpans(("Conner Ltd", "PERSON")))
