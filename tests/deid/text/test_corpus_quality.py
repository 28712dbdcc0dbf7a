"""The committed evaluation corpus (corpus/pii/docs.jsonl) and a quality floor on a sample of it."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from mamori.deid.text import PII_TYPES, detect
from mamori.deid.text.corpus import generate, load
from mamori.deid.text.evaluate import score

CORPUS = Path(__file__).resolve().parents[3] / "corpus" / "pii" / "docs.jsonl"


@pytest.fixture(scope="module")
def docs() -> list[dict[str, object]]:
    return load(CORPUS)


def test_corpus_is_committed_loadable_and_large_enough(docs: list[dict[str, object]]):
    assert len(docs) >= 2000
    assert CORPUS.stat().st_size < 5 * 1024 * 1024
    assert {d["lang"] for d in docs} == {"ja", "en"}
    for d in docs:
        text = str(d["text"])
        for s, e, t in d["spans"]:  # type: ignore[attr-defined]
            assert 0 <= s < e <= len(text) and t in PII_TYPES


def test_corpus_covers_every_type_and_has_hard_negatives(docs: list[dict[str, object]]):
    counts = Counter(t for d in docs for _s, _e, t in d["spans"])  # type: ignore[attr-defined]
    assert set(counts) == set(PII_TYPES)
    assert min(counts.values()) >= 30
    negatives = [d for d in docs if d["kind"] == "negative"]
    assert len(negatives) >= 200 and all(d["spans"] == [] for d in negatives)


def test_generator_is_deterministic_for_a_seed():
    a = generate(seed=7, n_ja=20, n_en=10)
    b = generate(seed=7, n_ja=20, n_en=10)
    assert a == b
    assert generate(seed=8, n_ja=20, n_en=10) != a


def test_generated_spans_match_their_text():
    for d in generate(seed=3, n_ja=30, n_en=15):
        text = str(d["text"])
        for s, e, _t in d["spans"]:  # type: ignore[attr-defined]
            assert text[s:e] == text[s:e].strip() != ""


def test_quality_floor_on_a_sample(docs: list[dict[str, object]]):
    sample = docs[::6]
    pairs = [
        (
            [tuple(s) for s in d["spans"]],  # type: ignore[attr-defined]
            [(f.start, f.end, f.type) for f in detect(str(d["text"]), sensitive=False)],
        )
        for d in sample
    ]
    scores = score(pairs)
    structured = ["email", "phone", "postal_code", "my_number", "credit_card", "date_of_birth", "ip_address"]
    for t in structured:
        assert scores[t].f1 >= 0.9, (t, scores[t])
    for t in ["person", "address", "corporate_number", "bank_account"]:
        assert scores[t].f1 >= 0.85, (t, scores[t])


def test_span_scoring_exact_and_overlap():
    gold = [(0, 4, "person"), (10, 23, "phone")]
    pred = [(0, 4, "person"), (10, 20, "phone"), (30, 35, "email")]
    exact = score([(gold, pred)])
    assert (exact["person"].tp, exact["phone"].tp, exact["phone"].fp, exact["phone"].fn) == (1, 0, 1, 1)
    assert exact["email"].precision == 0.0 and exact["person"].f1 == 1.0
    over = score([(gold, pred)], overlap=True)
    assert over["phone"].f1 == 1.0
