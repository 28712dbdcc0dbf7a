"""Issue 23: how much personal data the text detector catches on hand-written text it was not built from.

    .venv/bin/python bench/text_quality.py                       # ours, on both corpora
    .venv/bin/python bench/text_quality.py --baseline 911d07d    # + the detector as it was at a git commit
    .venv/bin/python bench/text_quality.py --presidio            # + Presidio with GiNZA (bench/setup_presidio.sh)
    .venv/bin/python bench/text_quality.py --ner                 # + ours with --ner ginza (spaCy + ja_ginza needed)
    .venv/bin/python bench/text_quality.py --json out.json

Corpora: ``corpus/pii-dev/`` (hand-written the same way, a development set the detector engineers read and tested
against), ``corpus/pii-independent/`` (hand-written with inline markup by writers who did not see the detectors;
its names are in no list a detector uses: ``scripts/eval_names_check.py --corpus``) and the generated
``corpus/pii/docs.jsonl`` (made from the same kind of templates and lists the detectors know), scored the same
way and printed side by side: span recall (any finding overlaps the span), strict recall (every character but
spaces and punctuation is inside a finding), and look-alikes kept (no finding overlaps them; the generated corpus
marks none). A baseline runs in a subprocess with ``PYTHONPATH`` set to a ``git worktree`` of the commit.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INDEPENDENT = ROOT / "corpus" / "pii-independent"
DEV = ROOT / "corpus" / "pii-dev"
GENERATED = ROOT / "corpus" / "pii" / "docs.jsonl"
PRESIDIO_PY = ROOT / "bench" / ".venv-presidio" / "bin" / "python"
_JA = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def spans_worker(ner: bool) -> None:
    """Read {"text"} lines on stdin, print one JSON list of [start, end, type] per line (the mamori on sys.path)."""
    from mamori.deid.text import detect

    provider = None
    if ner:
        from mamori.deid.text.ner import ginza_ner

        provider = ginza_ner()
    for line in sys.stdin:
        if line.strip():
            text = json.loads(line)["text"]
            found = detect(text, sensitive=False, ner=provider) if provider else detect(text, sensitive=False)
            print(json.dumps([[f.start, f.end, f.type] for f in found]))


def _subprocess_spans(docs: list, python: str, env: dict[str, str], args: list[str]) -> list[list[tuple]]:
    payload = "".join(
        json.dumps({"text": d.text, "lang": "ja" if _JA.search(d.text) else "en"}) + "\n" for d in docs
    )
    proc = subprocess.run([python, *args], input=payload.encode(), capture_output=True, env=env, timeout=7200)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.decode()[-2000:])
    out = proc.stdout.decode()
    if args[1:2] == ["--presidio-worker"]:
        return [[(s, e, t) for s, e, t, *_ in doc] for doc in json.loads(out)["spans"]]
    return [[tuple(x) for x in json.loads(line)] for line in out.splitlines() if line.strip()]


def show_dev(what: str, detect, docs) -> None:  # noqa: ANN001
    """The development corpus's misses (never the independent corpus's: nobody who tunes may see those)."""
    for d in docs:
        found = [(f.start, f.end, f.type) for f in detect(d.text, sensitive=False)]
        covered = bytearray(len(d.text) + 1)
        for s, e, _t in found:
            covered[s:e] = b"\x01" * (e - s)

        def ctx(s: int, e: int, text: str = d.text) -> str:
            return (text[max(0, s - 25) : s] + "【" + text[s:e] + "】" + text[e : e + 25]).replace("\n", "⏎")

        for s, e, t in d.spans:
            if what in (t, "all") and not all(covered[i] or d.text[i].isspace() for i in range(s, e)):
                hits = [f"{t2}:{d.text[a:b]!r}" for a, b, t2 in found if a < e and s < b]
                print(f"MISS {t:14} {d.id:24} {ctx(s, e)}  found={hits}")
        if what in ("keep", "all"):
            for s, e, k in d.keeps:
                hits = [f"{t2}:{d.text[a:b]!r}" for a, b, t2 in found if a < e and s < b]
                if hits:
                    print(f"LOST keep:{k:9} {d.id:24} {ctx(s, e)}  found={hits}")


def main() -> None:
    sys.path.insert(0, str(ROOT / "src"))
    from mamori.deid.text import detect
    from mamori.deid.text.evaluate import docs_from_jsonl, evaluate_marked, load_marked

    ap = argparse.ArgumentParser()
    ap.add_argument("--baseline", help="a git commit whose detector is scored too")
    ap.add_argument("--presidio", action="store_true", help="Presidio + GiNZA (bench/.venv-presidio)")
    ap.add_argument("--ner", action="store_true", help="ours with the GiNZA NER hook")
    ap.add_argument("--misses", action="store_true", help="list missed spans (ids and types only)")
    ap.add_argument("--json", type=Path)
    ap.add_argument(
        "--show",
        metavar="TYPE|keep|all",
        help="dev corpus only: print the missed spans of TYPE (or the look-alikes removed) with their context",
    )
    ap.add_argument(
        "--corpora", default="dev,generated", help="comma-separated: dev, generated, independent (lead only)"
    )
    args = ap.parse_args()

    loaders = {
        "independent": lambda: load_marked(INDEPENDENT),
        "dev": lambda: load_marked(DEV),
        "generated": lambda: docs_from_jsonl(GENERATED),
    }
    if args.show:
        show_dev(args.show, detect, load_marked(DEV))
        return
    corpora = {name: loaders[name]() for name in args.corpora.split(",")}
    results: dict[str, dict[str, object]] = {}
    for cname, docs in corpora.items():
        row: dict[str, object] = {}
        t0 = time.process_time()
        preds = [[(f.start, f.end, f.type) for f in detect(d.text, sensitive=False)] for d in docs]
        secs = time.process_time() - t0
        rep = evaluate_marked(docs, lambda text, _t=iter(preds): next(_t), misses=args.misses)
        rep["mb_s"] = round(sum(len(d.text.encode()) for d in docs) / secs / 1e6, 3) if secs else None
        row["ours"] = rep
        modes: list[tuple[str, str, dict[str, str], list[str]]] = []
        if args.baseline:
            wt = Path(tempfile.gettempdir()) / f"mamori-baseline-{args.baseline}"
            if not wt.exists():
                subprocess.run(
                    ["git", "-C", str(ROOT), "worktree", "add", "-f", str(wt), args.baseline],
                    check=True,
                    capture_output=True,
                )
            env = dict(os.environ, PYTHONPATH=str(wt / "src"))
            modes.append((f"baseline@{args.baseline}", sys.executable, env, [__file__, "--spans-worker"]))
        if args.ner:
            modes.append(
                (
                    "ours+ginza",
                    # spaCy + ja_ginza are not mamori dependencies: they live in bench/.venv-presidio
                    str(PRESIDIO_PY) if PRESIDIO_PY.exists() else sys.executable,
                    dict(os.environ, PYTHONPATH=str(ROOT / "src")),
                    [__file__, "--spans-worker-ner"],
                )
            )
        if args.presidio and PRESIDIO_PY.exists():
            env = dict(os.environ, TLDEXTRACT_CACHE=str(ROOT / "bench" / ".venv-presidio" / "tldcache"))
            modes.append(
                (
                    "presidio+ginza",
                    str(PRESIDIO_PY),
                    env,
                    [str(ROOT / "bench" / "text_pii.py"), "--presidio-worker", "ner"],
                )
            )
        for name, python, env, wargs in modes:
            try:
                got = _subprocess_spans(docs, python, env, wargs)
            except RuntimeError as exc:
                print(f"{name} failed: {exc}", file=sys.stderr)
                continue
            row[name] = evaluate_marked(docs, lambda text, _g=iter(got): next(_g))
        results[cname] = row

    for cname, row in results.items():
        print(f"\n== {cname} corpus ==")
        first = next(iter(row.values()))
        print(f"documents {first['documents']}, characters {first['characters']}")
        types = sorted({t for rep in row.values() for t in rep["by_type"]})  # type: ignore[union-attr]
        head = f"{'':28}" + "".join(f"{m[:22]:>24}" for m in row)
        print(head)

        def line(label: str, get, row=row) -> None:  # noqa: ANN001
            cells = []
            for rep in row.values():
                try:
                    cells.append(get(rep))
                except (KeyError, TypeError):
                    cells.append("-")
            print(f"{label:28}" + "".join(f"{c:>24}" for c in cells))

        line(
            "overall span / strict",
            lambda r: f"{r['overall']['span_recall']:.3f} / {r['overall']['strict_recall']:.3f}",
        )
        for t in types:
            line(
                f"  {t} (n)",
                lambda r, t=t: (
                    f"{r['by_type'][t]['span_recall']:.3f} / {r['by_type'][t]['strict_recall']:.3f} ({r['by_type'][t]['total']})"
                ),
            )
        line(
            "look-alikes kept",
            lambda r: (
                f"{r['keep']['keep_rate']:.3f} ({r['keep']['kept']}/{r['keep']['total']})"
                if r["keep"]["total"]
                else "-"
            ),
        )
        kinds = sorted({k for rep in row.values() for k in rep["keep"]["by_kind"]})  # type: ignore[union-attr]
        for k in kinds:
            line(
                f"  keep {k}",
                lambda r, k=k: (
                    f"{r['keep']['by_kind'][k]['keep_rate']:.3f} ({r['keep']['by_kind'][k]['total']})"
                ),
            )
        if "mb_s" in row["ours"]:
            print(f"ours in-process: {row['ours']['mb_s']} MB/s (CPU time)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--spans-worker"]:
        spans_worker(False)
    elif sys.argv[1:2] == ["--spans-worker-ner"]:
        spans_worker(True)
    else:
        main()
