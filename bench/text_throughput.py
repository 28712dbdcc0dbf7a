"""Throughput of `mamori text` for real jobs (issue 23 item 5 and its Targets).

    .venv/bin/python bench/text_throughput.py [--json out.json] [--docs 1000] [--sample 100] [--no-presidio]
    bash bench/setup_presidio.sh      # once: Presidio + ja_ginza in bench/.venv-presidio

(a) in-process: MB/s of ``detect()`` (CPU time, ``time.process_time``, best of 3) on corpus/pii/docs.jsonl,
    MB = 10^6 bytes of UTF-8 text.
(b) a directory of N short documents generated here (deterministic: Faker ja_JP / en_US with a fixed seed and
    templates written for this benchmark, not the detector's code or the corpus generator), scanned
      - by ONE CLI process: ``mamori text scan DIR --json`` (wall time, start-up included);
      - the old way: one ``mamori text scan FILE`` process per file, on a sample of --sample files, the wall
        time extrapolated to N (reported as extrapolated);
      - by Presidio with GiNZA (AnalyzerEngine + spaCy NlpEngine on ja_ginza, Presidio's pattern recognizers
        for e-mail/phone/card/IP/date) in ONE process of bench/.venv-presidio reading the same N files: wall time
        of the process (interpreter, imports and model load included) and of the analysis alone (excluded).
Everything runs in the same invocation so the ratios compare like with like on this machine.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus" / "pii" / "docs.jsonl"
MAMORI = ROOT / ".venv" / "bin" / "mamori"
PRESIDIO_PY = ROOT / "bench" / ".venv-presidio" / "bin" / "python"
SEED = 20261207

# GiNZA labels → Presidio entities (as bench/text_pii.py).
GINZA_MAP = {
    "Person": "PERSON",
    "PERSON": "PERSON",
    "Province": "LOCATION",
    "City": "LOCATION",
    "Country": "LOCATION",
    "GPE": "LOCATION",
    "LOC": "LOCATION",
    "Location": "LOCATION",
    "Postal_Address": "LOCATION",
    "Date": "DATE_TIME",
    "DATE": "DATE_TIME",
}


# --------------------------------------------------------------------------- the synthetic directory
def _ja_doc(fake, rng: random.Random, i: int) -> str:
    name = fake.name()
    other = fake.last_name()
    kind = i % 5
    if kind == 0:
        return (
            f"{fake.date(pattern='%Y年%m月%d日')} 対応メモ\n"
            f"{fake.company()}の{name}様より入電。住所変更のご依頼。\n"
            f"新住所：〒{fake.postcode()} {fake.address()}\n"
            f"連絡先：{fake.phone_number()}\n担当：{other}\n"
        )
    if kind == 1:
        return (
            f"件名：お問い合わせの件\n\n{name}様\n\nいつもお世話になっております。{fake.company()}の{other}です。\n"
            f"ご依頼の資料を{fake.date(pattern='%m月%d日')}までにお送りします。\n"
            f"ご不明点は {fake.email()} までご連絡ください。\n\n--\n{fake.company()}\n"
            f"TEL {fake.phone_number()}\n"
        )
    if kind == 2:
        return (
            f"[{fake.time(pattern='%H:%M')}] {other}: {name}さんの件、折り返しお願いします\n"
            f"[{fake.time(pattern='%H:%M')}] {fake.last_name()}: 了解です。携帯 {fake.phone_number()} ですね\n"
            f"[{fake.time(pattern='%H:%M')}] {other}: はい。{fake.prefecture()}在住の方です\n"
        )
    if kind == 3:
        return (
            f"お名前：{name}\nフリガナ：{fake.kana_name()}\n生年月日：{fake.date_of_birth(minimum_age=20, maximum_age=80)}\n"
            f"ご住所：{fake.address()}\nメール：{fake.email()}\nご要望：{rng.choice(['資料請求', '解約', '配送先変更'])}\n"
        )
    return (
        f"本日の打合せ（{fake.date()}）\n出席：{name}、{fake.name()}、{other}\n"
        f"議題：{rng.choice(['新商品の案内', '請求書の再発行', '契約更新'])}について。\n"
        f"次回は{fake.city()}の事務所にて。\n"
    )


def _en_doc(fake, i: int) -> str:
    if i % 2:
        return (
            f"Hi {fake.first_name()},\n\nThanks for calling. Your order ships to {fake.address()}.\n"
            f"Reach me at {fake.email()} or {fake.phone_number()}.\n\nBest,\n{fake.name()}\n"
        )
    return (
        f"Ticket {1000 + i}: customer {fake.name()} (DOB {fake.date_of_birth(minimum_age=20)}) reports a billing issue;"
        f" card ending {fake.credit_card_number()[-4:]}. Callback {fake.phone_number()}.\n"
    )


def make_directory(root: Path, n: int) -> tuple[list[Path], int]:
    """N short documents (about 1 in 8 English), deterministic for a seed; (paths, total bytes)."""
    from faker import Faker

    ja = Faker("ja_JP")
    en = Faker("en_US")
    ja.seed_instance(SEED)
    en.seed_instance(SEED + 1)
    rng = random.Random(SEED)
    paths: list[Path] = []
    total = 0
    for i in range(n):
        english = i % 8 == 7
        text = _en_doc(en, i) if english else _ja_doc(ja, rng, i)
        sub = root / f"batch{i // 100:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        path = sub / f"{'en' if english else 'ja'}-{i:04d}.txt"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
        total += len(text.encode("utf-8"))
    return paths, total


# --------------------------------------------------------------------------- (a) in-process detect()
def in_process(repeat: int = 3) -> dict[str, object]:
    sys.path.insert(0, str(ROOT / "src"))
    from mamori.deid.text.detect import detect

    texts = [
        json.loads(line)["text"] for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    size = sum(len(t.encode("utf-8")) for t in texts)
    detect(texts[0])  # dictionaries loaded once, not timed
    best = float("inf")
    for _ in range(repeat):
        t0 = time.process_time()
        for t in texts:
            detect(t)
        best = min(best, time.process_time() - t0)
    return {
        "documents": len(texts),
        "bytes": size,
        "cpu_seconds": round(best, 3),
        "mb_per_s": round(size / 1e6 / best, 3),
    }


# --------------------------------------------------------------------------- (b) CLI and Presidio
def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAMORI_")}
    env.update({"MAMORI_LANG": "ja", "PYTHONIOENCODING": "utf-8"})
    return env


def one_process(directory: Path) -> dict[str, object]:
    t0 = time.perf_counter()
    proc = subprocess.run(
        [str(MAMORI), "text", "scan", str(directory), "--json"], capture_output=True, text=True, env=_env()
    )
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"mamori text scan DIR failed ({proc.returncode}): {proc.stderr[-500:]}")
    doc = json.loads(proc.stdout)
    findings = sum(len(f.get("findings", [])) for f in doc["files"])
    return {"wall_seconds": round(wall, 3), "files": doc["scanned"], "findings": findings}


def one_process_per_file(paths: list[Path], n: int) -> dict[str, object]:
    walls = []
    for path in paths:
        t0 = time.perf_counter()
        subprocess.run(
            [str(MAMORI), "text", "scan", str(path), "--json"], capture_output=True, env=_env(), check=True
        )
        walls.append(time.perf_counter() - t0)
    sample = sum(walls)
    return {
        "sample_files": len(paths),
        "sample_wall_seconds": round(sample, 3),
        "median_per_file_seconds": round(statistics.median(walls), 3),
        "extrapolated_wall_seconds": round(sample / len(paths) * n, 1),
        "extrapolated": True,
    }


def presidio(directory: Path) -> dict[str, object] | None:
    if not PRESIDIO_PY.exists():
        return None
    env = dict(os.environ, TLDEXTRACT_CACHE=str(ROOT / "bench" / ".venv-presidio" / "tldcache"))
    t0 = time.perf_counter()
    proc = subprocess.run(
        [str(PRESIDIO_PY), __file__, "--presidio-worker", str(directory)],
        capture_output=True,
        text=True,
        env=env,
    )
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"Presidio worker failed: {proc.stderr[-1500:]}")
    doc = json.loads(proc.stdout.strip().splitlines()[-1])
    doc["wall_seconds_with_model_load"] = round(wall, 3)
    return doc


def presidio_worker(directory: Path) -> None:
    """Runs in bench/.venv-presidio: load Presidio + ja_ginza, then analyse every file of ``directory``."""
    t_start = time.perf_counter()
    import tldextract  # noqa: F401  # offline: never fetch the public suffix list

    try:
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
        SpacyRecognizer,
    )

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
    for lang in ("ja", "en"):
        regions = ("JP", "US") if lang == "ja" else ("US", "JP")
        for r in (
            EmailRecognizer(supported_language=lang),
            PhoneRecognizer(supported_language=lang, supported_regions=regions),
            CreditCardRecognizer(supported_language=lang),
            IpRecognizer(supported_language=lang),
            DateRecognizer(supported_language=lang),
            SpacyRecognizer(supported_language=lang, supported_entities=["PERSON", "LOCATION", "DATE_TIME"]),
        ):
            reg.add_recognizer(r)
    engine = AnalyzerEngine(registry=reg, nlp_engine=nlp, supported_languages=["ja", "en"])
    engine.analyze(text="ウォームアップ 山田太郎", language="ja")
    t_loaded = time.perf_counter()
    files = sorted(p for p in directory.rglob("*.txt"))
    findings = 0
    for path in files:
        lang = "en" if path.name.startswith("en-") else "ja"
        findings += len(engine.analyze(text=path.read_text(encoding="utf-8"), language=lang))
    t_end = time.perf_counter()
    print(
        json.dumps(
            {
                "files": len(files),
                "findings": findings,
                "load_seconds_in_process": round(t_loaded - t_start, 3),
                "analysis_wall_seconds": round(t_end - t_loaded, 3),
            }
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", type=Path, help="write the figures to this file")
    ap.add_argument("--docs", type=int, default=1000)
    ap.add_argument("--sample", type=int, default=100, help="files run one process each (extrapolated)")
    ap.add_argument("--no-presidio", action="store_true")
    ap.add_argument("--keep-dir", type=Path, help="generate the documents here and keep them")
    ap.add_argument("--presidio-worker", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.presidio_worker:
        presidio_worker(args.presidio_worker)
        return

    work = args.keep_dir or Path(tempfile.mkdtemp(prefix="mamori-text-bench-"))
    try:
        paths, size = make_directory(work / "docs", args.docs)
        report: dict[str, object] = {"documents": args.docs, "bytes": size}
        print(f"(a) in-process detect() on {CORPUS.relative_to(ROOT)} ...", file=sys.stderr)
        report["in_process"] = in_process()
        print(f"(b) {args.docs} documents ({size / 1e6:.2f} MB): one CLI process ...", file=sys.stderr)
        report["cli_one_process"] = one_process(work / "docs")
        print(f"    one process per file on {args.sample} files ...", file=sys.stderr)
        step = max(1, len(paths) // args.sample)
        report["cli_process_per_file"] = one_process_per_file(paths[::step][: args.sample], args.docs)
        pres = None if args.no_presidio else presidio(work / "docs")
        if pres is None and not args.no_presidio:
            print("    (no bench/.venv-presidio: run bash bench/setup_presidio.sh)", file=sys.stderr)
        if pres is not None:
            print("    Presidio + GiNZA ...", file=sys.stderr)
            report["presidio_ginza"] = pres
        ours = report["cli_one_process"]["wall_seconds"]  # type: ignore[index]
        ratios = {
            "process_per_file_over_one_process": round(
                report["cli_process_per_file"]["extrapolated_wall_seconds"] / ours,
                1,  # type: ignore[index]
            )
        }
        if pres is not None:
            ratios["presidio_with_load_over_ours"] = round(pres["wall_seconds_with_model_load"] / ours, 1)
            ratios["presidio_analysis_only_over_ours"] = round(pres["analysis_wall_seconds"] / ours, 1)
        report["ratios"] = ratios
    finally:
        if args.keep_dir is None:
            shutil.rmtree(work, ignore_errors=True)

    ip = report["in_process"]
    one = report["cli_one_process"]
    per = report["cli_process_per_file"]
    print(
        f"in-process detect(): {ip['mb_per_s']} MB/s ({ip['bytes']} bytes, {ip['cpu_seconds']} s CPU, best of 3)"
    )  # type: ignore[index]
    print(f"mamori text scan DIR ({args.docs} files, one process): {one['wall_seconds']} s wall")  # type: ignore[index]
    print(
        f"one process per file: {per['median_per_file_seconds']} s median per file; "  # type: ignore[index]
        f"{per['extrapolated_wall_seconds']} s for {args.docs} files (extrapolated from {per['sample_files']})"  # type: ignore[index]
    )
    if pres is not None:
        print(
            f"Presidio + GiNZA (one process): {pres['wall_seconds_with_model_load']} s wall with model load "
            f"({pres['load_seconds_in_process']} s load in process), {pres['analysis_wall_seconds']} s analysis only"
        )
    print("ratios: " + ", ".join(f"{k} {v}x" for k, v in ratios.items()))
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
