"""Benchmark: mamori's free-text PII detectors vs Microsoft Presidio on corpus/pii/docs.jsonl.

    .venv/bin/python bench/text_pii.py                # ours + Presidio (if bench/.venv-presidio exists)
    .venv/bin/python bench/text_pii.py --no-presidio  # ours only
    bash bench/setup_presidio.sh                      # once: Presidio + ja_ginza in their own virtualenv

Presidio runs in a subprocess of its own virtualenv (this same file with --presidio-worker) and returns its
spans and timings as JSON. Modes: ``pattern`` (Presidio's predefined pattern recognizers only, no NLP model:
the "without NER" comparison) and ``ner`` (AnalyzerEngine with a spaCy NlpEngine on ja_ginza for both
languages, GiNZA labels mapped to Presidio entities). en_core_web_* cannot be installed here, so English text
also goes through ja_ginza in ``ner`` mode (its NER is trained on Japanese, so English names are mostly
missed) and through the pattern recognizers only in ``pattern`` mode. tldextract is kept offline.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus" / "pii" / "docs.jsonl"
PRESIDIO_PY = ROOT / "bench" / ".venv-presidio" / "bin" / "python"

# Presidio entity → our type. DATE_TIME is mapped to date_of_birth (Presidio has no birth-date entity; every
# date it finds is counted, which is what a user of Presidio would get).
PRESIDIO_MAP = {
    "EMAIL_ADDRESS": "email",
    "PHONE_NUMBER": "phone",
    "CREDIT_CARD": "credit_card",
    "IP_ADDRESS": "ip_address",
    "PERSON": "person",
    "LOCATION": "address",
    "DATE_TIME": "date_of_birth",
    "US_BANK_NUMBER": "bank_account",
}
# GiNZA (ENE / OntoNotes-like) labels → Presidio entities.
GINZA_MAP = {
    "Person": "PERSON",
    "PERSON": "PERSON",
    "Province": "LOCATION",
    "City": "LOCATION",
    "County": "LOCATION",
    "Country": "LOCATION",
    "GPE": "LOCATION",
    "LOC": "LOCATION",
    "Location": "LOCATION",
    "Address_Other": "LOCATION",
    "Postal_Address": "LOCATION",
    "Date": "DATE_TIME",
    "DATE": "DATE_TIME",
}


# --------------------------------------------------------------------------- Presidio worker (other venv)
def presidio_worker(mode: str) -> None:
    os.environ.setdefault("TLDEXTRACT_CACHE", str(ROOT / "bench" / ".venv-presidio" / "tldcache"))
    import tldextract  # noqa: F401  # imported first so the offline patch below applies

    try:  # offline: never fetch the public suffix list
        import tldextract.tldextract as _t

        _t.TLD_EXTRACTOR = _t.TLDExtract(suffix_list_urls=(), fallback_to_snapshot=True)
    except Exception:  # noqa: BLE001
        pass
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NlpEngineProvider
    from presidio_analyzer.predefined_recognizers import (
        CreditCardRecognizer,
        DateRecognizer,
        EmailRecognizer,
        IpRecognizer,
        PhoneRecognizer,
        UsBankRecognizer,
    )

    docs = [json.loads(line) for line in sys.stdin if line.strip()]

    def recognizers(lang: str) -> list:
        regions = ("JP", "US") if lang == "ja" else ("US", "JP")
        return [
            EmailRecognizer(supported_language=lang),
            PhoneRecognizer(supported_language=lang, supported_regions=regions),
            CreditCardRecognizer(supported_language=lang),
            IpRecognizer(supported_language=lang),
            DateRecognizer(supported_language=lang),
            UsBankRecognizer(supported_language=lang),
        ]

    out: list[list[list[object]]] = []
    if mode == "pattern":
        recs = {lang: recognizers(lang) for lang in ("ja", "en")}
        entities = {lang: [e for r in recs[lang] for e in r.supported_entities] for lang in recs}
        seconds = float("inf")
        for _ in range(int(os.environ.get("BENCH_REPEAT", "3"))):  # best of N, like ours
            out = []
            t0 = time.process_time()
            for d in docs:
                spans = []
                for r in recs[d["lang"]]:
                    for res in r.analyze(d["text"], entities[d["lang"]], None):
                        spans.append([res.start, res.end, res.entity_type, res.score])
                out.append(spans)
            seconds = min(seconds, time.process_time() - t0)
    else:
        conf = {
            "nlp_engine_name": "spacy",
            "models": [
                {"lang_code": "ja", "model_name": "ja_ginza"},
                {"lang_code": "en", "model_name": "ja_ginza"},
            ],
            "ner_model_configuration": {
                "model_to_presidio_entity_mapping": GINZA_MAP,
                "labels_to_ignore": [],
                "low_confidence_score_multiplier": 1.0,
                "low_score_entity_names": [],
            },
        }
        nlp = NlpEngineProvider(nlp_configuration=conf).create_engine()
        reg = RecognizerRegistry(supported_languages=["ja", "en"])
        from presidio_analyzer.predefined_recognizers import SpacyRecognizer

        for lang in ("ja", "en"):
            for r in recognizers(lang):
                reg.add_recognizer(r)
            reg.add_recognizer(
                SpacyRecognizer(
                    supported_language=lang, supported_entities=["PERSON", "LOCATION", "DATE_TIME"]
                )
            )
        engine = AnalyzerEngine(registry=reg, nlp_engine=nlp, supported_languages=["ja", "en"])
        engine.analyze(text="ウォームアップ 山田太郎", language="ja")
        t0 = time.process_time()
        for d in docs:
            res = engine.analyze(text=d["text"], language=d["lang"])
            out.append([[x.start, x.end, x.entity_type, x.score] for x in res])
        seconds = time.process_time() - t0
    json.dump({"mode": mode, "seconds": seconds, "spans": out}, sys.stdout)


# --------------------------------------------------------------------------- ours + GiNZA (Presidio venv)
def ours_ner_worker() -> None:
    """Our detector with the GiNZA NER hook, run in bench/.venv-presidio (spaCy + ja_ginza) with
    PYTHONPATH=src; same JSON shape as the Presidio worker, spans already in our types."""
    from mamori.deid.text import detect
    from mamori.deid.text.ner import ginza_ner

    docs = [json.loads(line) for line in sys.stdin if line.strip()]
    ner = ginza_ner()
    detect("ウォームアップ 山田太郎様 03-1234-5678", ner=ner)
    out: list[list[list[object]]] = []
    t0 = time.process_time()
    for d in docs:
        out.append([[f.start, f.end, f.type] for f in detect(d["text"], sensitive=False, ner=ner)])
    seconds = time.process_time() - t0
    json.dump({"mode": "ours_ner", "seconds": seconds, "spans": out}, sys.stdout)


# --------------------------------------------------------------------------- main (mamori venv)
def _dedupe(spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Presidio may return overlapping results of one type; keep the longest of each overlapping group."""
    spans = sorted(set(spans), key=lambda s: (s[2], s[0], -(s[1] - s[0])))
    kept: list[tuple[int, int, str]] = []
    for s in spans:
        if kept and kept[-1][2] == s[2] and s[0] < kept[-1][1]:
            continue
        kept.append(s)
    return kept


def run_presidio(mode: str, corpus: Path) -> dict | None:
    """Run a worker in bench/.venv-presidio: Presidio ``pattern``/``ner``, or ``ours_ner`` (our detector with
    the GiNZA hook; our package comes from PYTHONPATH=src, it is not installed there)."""
    if not PRESIDIO_PY.exists():
        return None
    env = dict(os.environ, TLDEXTRACT_CACHE=str(ROOT / "bench" / ".venv-presidio" / "tldcache"))
    if mode == "ours_ner":
        env["PYTHONPATH"] = str(ROOT / "src")
    with corpus.open("rb") as fh:
        proc = subprocess.run(
            [str(PRESIDIO_PY), __file__, "--presidio-worker", mode],
            stdin=fh,
            capture_output=True,
            env=env,
            timeout=3600,
        )
    if proc.returncode != 0:
        print(f"presidio {mode} failed:\n{proc.stderr.decode()[-3000:]}", file=sys.stderr)
        return None
    return json.loads(proc.stdout)


def main() -> None:
    sys.path.insert(0, str(ROOT / "src"))
    from mamori.deid.text import detect
    from mamori.deid.text.corpus import load
    from mamori.deid.text.detect import PII_TYPES
    from mamori.deid.text.evaluate import score

    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--no-presidio", action="store_true")
    ap.add_argument(
        "--presidio-modes",
        default="pattern,ner,ours_ner",
        help="comma list: pattern, ner (Presidio + ja_ginza), ours_ner (ours + the GiNZA hook)",
    )
    ap.add_argument(
        "--limit", type=int, help="use N evenly spaced documents of the corpus (same for every mode)"
    )
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", type=Path, help="also write the results here")
    ap.add_argument("--errors", type=str, help="print our misses/false positives for this type")
    args = ap.parse_args()

    docs = load(args.corpus)
    if args.limit and args.limit < len(docs):
        step = len(docs) / args.limit
        docs = [docs[int(i * step)] for i in range(args.limit)]
        subset = Path(tempfile.mkdtemp()) / "subset.jsonl"
        subset.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs), encoding="utf-8")
        args.corpus = subset
    total_bytes = sum(len(str(d["text"]).encode()) for d in docs)
    gold = [[tuple(s) for s in d["spans"]] for d in docs]  # type: ignore[attr-defined]

    detect("warm up 山田太郎様 03-1234-5678")
    best = float("inf")
    ours: list[list[tuple[int, int, str]]] = []

    def time_ours() -> None:
        nonlocal best, ours
        for _ in range(args.repeat):
            t0 = time.process_time()
            ours = [[(f.start, f.end, f.type) for f in detect(str(d["text"]), sensitive=False)] for d in docs]
            best = min(best, time.process_time() - t0)

    time_ours()
    results: dict[str, dict] = {}
    preds: dict[str, list[list[tuple[int, int, str]]]] = {}
    if not args.no_presidio:
        for mode in [m for m in args.presidio_modes.split(",") if m]:
            r = run_presidio(mode, args.corpus)
            if r is None:
                continue
            if mode == "ours_ner":
                key = "ours+ginza"
                preds[key] = [[(s[0], s[1], s[2]) for s in spans] for spans in r["spans"]]
            else:
                key = "presidio+ginza" if mode == "ner" else f"presidio_{mode}"
                preds[key] = [
                    _dedupe([(s[0], s[1], PRESIDIO_MAP[s[2]]) for s in spans if s[2] in PRESIDIO_MAP])
                    for spans in r["spans"]
                ]
            results[key] = {"seconds": r["seconds"], "mb_s": total_bytes / r["seconds"] / 1e6}
        time_ours()  # again after Presidio: the machine is shared, so take ours' best of both sides too
    results = {"ours": {"seconds": best, "mb_s": total_bytes / best / 1e6}, **results}
    preds = {"ours": ours, **preds}

    print(
        f"corpus: {len(docs)} documents, {total_bytes / 1e6:.2f} MB, {sum(len(g) for g in gold)} labelled spans"
    )
    for name, p in preds.items():
        exact = score(zip(gold, p, strict=True))
        over = score(zip(gold, p, strict=True), overlap=True)
        results[name]["per_type"] = {
            t: {
                "precision": round(exact.get(t).precision, 4) if t in exact else 0.0,
                "recall": round(exact.get(t).recall, 4) if t in exact else 0.0,
                "f1": round(exact[t].f1, 4) if t in exact else 0.0,
                "f1_overlap": round(over[t].f1, 4) if t in over else 0.0,
            }
            for t in PII_TYPES
        }
    header = f"{'type':18}" + "".join(f"{n:>30}" for n in preds)
    print("\nF1 exact / overlap (precision, recall exact)")
    print(header)
    for t in PII_TYPES:
        row = f"{t:18}"
        for n in preds:
            s = results[n]["per_type"][t]
            row += f"{s['f1']:>8.3f}/{s['f1_overlap']:.3f} (P{s['precision']:.2f} R{s['recall']:.2f})"
        print(row)
    print("\nthroughput")
    for n in preds:
        print(f"  {n:18} {results[n]['mb_s']:8.3f} MB/s  ({results[n]['seconds']:.3f} s)")
    if "presidio_pattern" in results:
        print(
            f"  ratio ours / presidio pattern-only: {results['ours']['mb_s'] / results['presidio_pattern']['mb_s']:.1f}x"
        )
    if "presidio+ginza" in results:
        print(
            f"  ratio ours (no NER) / presidio with ja_ginza NER: {results['ours']['mb_s'] / results['presidio+ginza']['mb_s']:.1f}x"
        )
    if "presidio+ginza" in results and "ours+ginza" in results:
        print(
            f"  ratio ours+ginza / presidio+ginza (same NER model, same run): {results['ours+ginza']['mb_s'] / results['presidio+ginza']['mb_s']:.2f}x"
        )
    if args.errors:
        t = args.errors
        for d, g, p in zip(docs, gold, ours, strict=True):
            gs = {s for s in g if s[2] == t}
            ps = {s for s in p if s[2] == t}
            text = str(d["text"])
            for s in sorted(gs - ps):
                print("MISS", d["id"], repr(text[s[0] : s[1]]), repr(text[max(0, s[0] - 15) : s[1] + 10]))
            for s in sorted(ps - gs):
                print("FP  ", d["id"], repr(text[s[0] : s[1]]), repr(text[max(0, s[0] - 15) : s[1] + 10]))
    if args.json:
        ratios = {}  # the same ratios as printed above
        if "presidio_pattern" in results:
            ratios["ours_to_presidio_pattern"] = round(
                results["ours"]["mb_s"] / results["presidio_pattern"]["mb_s"], 2
            )
        if "presidio+ginza" in results:
            ratios["ours_to_presidio_ginza"] = round(
                results["ours"]["mb_s"] / results["presidio+ginza"]["mb_s"], 2
            )
        if "presidio+ginza" in results and "ours+ginza" in results:
            ratios["ours_ginza_to_presidio_ginza"] = round(
                results["ours+ginza"]["mb_s"] / results["presidio+ginza"]["mb_s"], 3
            )
        corpus = {
            "documents": len(docs),
            "mb": round(total_bytes / 1e6, 3),
            "spans": sum(len(g) for g in gold),
        }
        out = {"bench": "text_pii", "corpus": corpus, **results, "ratios": ratios}
        args.json.write_text(json.dumps(out, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "--presidio-worker" and sys.argv[2] == "ours_ner":
        ours_ner_worker()
    elif len(sys.argv) >= 3 and sys.argv[1] == "--presidio-worker":
        presidio_worker(sys.argv[2])
    else:
        main()
