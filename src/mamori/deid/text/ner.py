"""Optional NER hook for ``detect``: a span provider (e.g. GiNZA) adds names and extends addresses.

A provider is any callable ``provider(text) -> Iterable[(start, end, label)]`` with character offsets on
the text it was given (the original text; ``detect`` never hands it the normalised copy). spaCy and
ja_ginza are never dependencies of mamori: ``ginza_ner()`` imports them lazily and raises
``NerUnavailable`` when they are missing.

How NER spans are merged with the rule-based findings (``merge_ner``):

* ``Person`` (and ``PERSON``) becomes a ``person`` candidate, unless it is part of a company name (a
  company word such as 株式会社/工業/商事/LLC/Ltd inside it or right after it, or 株式会社 right before
  it). It then goes through the same overlap
  resolution as every rule-based finding (higher-priority type wins, then the longer span), so a NER name
  never cuts into a phone number, an e-mail or an address, and never duplicates a rule-based name.
* Place labels (``Province``, ``City``, ``County``, ``GPE``/``GPE_Other``, ``LOC``/``Location_Other``,
  ``Domestic_Region``, ``Address_Other``, ``Postal_Address``) are **not** findings on their own: a place
  name alone ("大阪に出張") is not someone's address. A place span only *extends* a rule-based ``address``
  finding that it overlaps or touches (no gap), e.g. a prefecture written before a 市区町村 + 番地 that the
  rules matched without it. Chains of touching place spans are followed.
* ``GinzaNer`` does not run the model on text without kana or kanji (ja_ginza is trained on Japanese).
* Every other label is ignored. Spans out of range, empty, or made of whitespace only are dropped; leading
  and trailing whitespace is trimmed, so the offsets always stay on the original text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Final

from mamori.deid.text.detect import NER_PROVIDER, Finding
from mamori.deid.text.errors import NerUnavailable

Span = tuple[int, int, str]
NerProvider = Callable[[str], Iterable[Span]]

PERSON_LABELS: Final = frozenset({"Person", "PERSON"})
PLACE_LABELS: Final = frozenset(
    {
        "Province",
        "City",
        "County",
        "GPE",
        "GPE_Other",
        "LOC",
        "Location",
        "Location_Other",
        "Domestic_Region",
        "Address_Other",
        "Postal_Address",
    }
)
# ja_ginza pipes that do not change the entities, so they are not run. The parser stays: its sentence
# boundaries constrain the NER (without it the entities differ on about a quarter of the benchmark documents;
# with these three left out they are identical on the 100 documents checked).
_GINZA_UNUSED_PIPES: Final = ("morphologizer", "compound_splitter", "bunsetu_recognizer")


# A person span that is part of a company name (佐藤建設有限会社, 株式会社青木工業) is not a person: NER models
# tag the surname inside such names. Checked on the span and on the characters around it.
_COMPANY_WORD = (
    r"(?:株式会社|有限会社|合同会社|合資会社|合名会社|\(株\)|（株）|工業|商事|商店|通信|建設|運輸|食品|水産|鉱業|"
    r"ガス|電気|電機|産業|物産|製作所|不動産|銀行|証券|保険|興業|企画|設計|印刷|電工|化学|製薬|"
    r"Inc\.?|LLC|Ltd\.?|Co\.|Corp\.?)"
)
_COMPANY_AFTER = re.compile(r"^\s?" + _COMPANY_WORD)
_COMPANY_BEFORE = re.compile(r"(?:株式会社|有限会社|合同会社|合資会社|合名会社|\(株\)|（株）)\s?$")
_COMPANY_INSIDE = re.compile(_COMPANY_WORD + r"|\b(?:and|of)\b")  # "Brown of Stevens LLC", "X and Y"
_JAPANESE = re.compile(r"[\u3041-\u3096\u30a1-\u30fa\u3400-\u9fff]")


def _company_part(text: str, start: int, end: int) -> bool:
    return bool(
        _COMPANY_INSIDE.search(text, start, end)
        or _COMPANY_AFTER.match(text[end : end + 8])
        or _COMPANY_BEFORE.search(text[max(0, start - 6) : start])
    )


def map_label(label: str) -> str | None:
    """``person`` for person labels, ``place`` for place labels, None for everything else."""
    if label in PERSON_LABELS:
        return "person"
    if label in PLACE_LABELS:
        return "place"
    return None


def _clean(text: str, spans: Iterable[Span]) -> list[tuple[int, int, str]]:
    """(start, end, kind) with kind person|place; bad spans dropped, whitespace trimmed."""
    out: list[tuple[int, int, str]] = []
    n = len(text)
    for start, end, label in spans:
        kind = map_label(label)
        if kind is None or not (0 <= start < end <= n):
            continue
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start < end:
            out.append((start, end, kind))
    return out


def merge_ner(text: str, findings: list[Finding], spans: Iterable[Span]) -> list[Finding]:
    """Rule-based ``findings`` plus the NER ``spans`` mapped as described in the module docstring.

    The result may still hold overlapping findings; ``detect`` resolves them (one span per place).
    """
    cleaned = _clean(text, spans)
    out = [f for f in findings if f.type != "address"]
    out += [
        Finding("person", s, e)
        for s, e, kind in cleaned
        if kind == "person" and not _company_part(text, s, e)
    ]
    places = sorted((s, e) for s, e, kind in cleaned if kind == "place")
    for f in findings:
        if f.type != "address":
            continue
        start, end = f.start, f.end
        changed = True
        while changed:  # follow chains of touching place spans; at most len(places) rounds
            changed = False
            for ps, pe in places:
                if ps <= end and pe >= start and (ps < start or pe > end):
                    start, end = min(start, ps), max(end, pe)
                    changed = True
        out.append(Finding("address", start, end))
    return out


def current_ner() -> NerProvider | None:
    """The provider set by ``using_ner`` in this context (used by ``detect`` when ``ner`` is not given)."""
    return NER_PROVIDER.get()


@contextmanager
def using_ner(provider: NerProvider | None) -> Iterator[None]:
    """Make ``detect`` (and so ``scan_file``/``redact_file``) use ``provider`` inside the ``with`` block."""
    token = NER_PROVIDER.set(provider)
    try:
        yield
    finally:
        NER_PROVIDER.reset(token)


class GinzaNer:
    """Span provider on a loaded spaCy pipeline (``ginza_ner()`` builds one on ja_ginza)."""

    def __init__(self, nlp: Any) -> None:
        self._nlp = nlp

    def __call__(self, text: str) -> list[Span]:
        if not _JAPANESE.search(text):  # ja_ginza is trained on Japanese: no kana/kanji, nothing to find
            return []
        doc = self._nlp(text)
        return [(e.start_char, e.end_char, str(e.label_)) for e in doc.ents]

    def pipe(self, texts: Iterable[str], batch_size: int = 32) -> Iterator[list[Span]]:
        """Spans for many texts at once (spaCy batches them; faster than one call per text)."""
        for doc in self._nlp.pipe(texts, batch_size=batch_size):
            yield [(e.start_char, e.end_char, str(e.label_)) for e in doc.ents]


def ginza_ner(model: str = "ja_ginza") -> GinzaNer:
    """Load GiNZA (spaCy + ``model``) with only the pipes NER needs. Raises ``NerUnavailable`` if missing."""
    try:
        import spacy
    except ImportError as exc:
        raise NerUnavailable(
            "GiNZA を使うには spaCy と ja-ginza のインストールが必要です（pip install ja-ginza）",
            "GiNZA NER needs spaCy and ja-ginza installed (pip install ja-ginza)",
        ) from exc
    try:
        nlp = spacy.load(model, exclude=list(_GINZA_UNUSED_PIPES))
    except (OSError, ImportError) as exc:
        raise NerUnavailable(
            "GiNZA のモデル ja_ginza が見つかりません（pip install ja-ginza）",
            "the GiNZA model ja_ginza is not installed (pip install ja-ginza)",
        ) from exc
    return GinzaNer(nlp)
