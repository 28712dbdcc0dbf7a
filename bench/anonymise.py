"""Benchmark of the `deid` tabular anonymiser, with its peers measured in the same run (figures as ratios).

1. Adult (data/adult: 30,162 records, the 8 attributes other than salary-class as QIs), k = 5, suppression limit
   0 % and 100 %, in-process: read the CSV and hierarchies, encode, search, generalise, shuffle and the risk report
   before and after (``anonymise`` + ``risk_before``/``risk_after``), median of ``--repeat`` runs. Baseline in
   the same run: the same risk figures computed the straightforward way (polars group-bys on the string values);
   the figures are checked equal.
2. ARX (Java, if ``ARX_CLASSPATH`` is set: a Java classpath with ARX's classes and its libraries): the same
   Adult runs in one JVM (first run cold, the rest warm), ARX's own loss of its optimum, and our ``arx-loss`` of
   the same transformation.
3. Adult ×``--scale`` (default 33: 995,346 records), k = 5 × scale, cold: a fresh Python process (imports, read,
   anonymise, risk report, write the CSV) against a fresh JVM running ARX (read, anonymise, write the CSV), and
   our run without the risk report.
4. anjana / pycanon (bench/.venv-peers, bench/setup_peers.sh): anjana's time and loss on Adult, pycanon's check of
   our output.
5. A synthetic table of ``--rows`` rows (numpy, no Faker), k = 5, suppression 1 %.

Run:  .venv/bin/python bench/anonymise.py [--repeat 7] [--scale 33] [--rows 1000000] [--json] [--json-out F]
      [--no-peers] [--skip-scale] [--skip-synthetic]
``--json`` prints one JSON document on stdout (the human summary goes to stderr).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from mamori.deid.tabular.anonymise import anonymise  # noqa: E402
from mamori.deid.tabular.engine import Evaluator, PrivacyModel, encode  # noqa: E402
from mamori.deid.tabular.hierarchy import (  # noqa: E402
    Hierarchy,
    age_hierarchy,
    prefecture_hierarchy,
    read_csv_hierarchy,
)
from mamori.deid.tabular.pseudonymise import InMemoryKeySource  # noqa: E402
from mamori.deid.tabular.regions import PREFECTURES  # noqa: E402
from mamori.deid.tabular.risk import HISTOGRAM_EDGES  # noqa: E402

ADULT = ROOT / "data" / "adult"
PEERS = ROOT / "bench" / ".venv-peers" / "bin" / "python"
QIS = ["sex", "age", "race", "marital-status", "education", "native-country", "workclass", "occupation"]
SENSITIVE = "salary-class"

TARGET_ADULT_S = 0.100  # Adult k=5 in-process, risk report included
TARGET_RISK_1M_S = 1.0  # the risk report at about a million rows
TARGET_COLD_VS_ARX = 1.0  # Adult ×33 cold ≤ ARX's cold run

_log: Callable[[str], None] = print


def say(line: str) -> None:
    _log(line)


# --- ours, in-process -------------------------------------------------------------------------------------


def hierarchies() -> dict[str, Hierarchy]:
    return {c: read_csv_hierarchy(ADULT / f"adult_hierarchy_{c}.csv", name=c) for c in [*QIS, SENSITIVE]}


def run_adult(k: int, suppression: float, metric: str = "loss") -> dict[str, Any]:
    c0 = time.process_time()
    t0 = time.perf_counter()
    df = pl.read_csv(ADULT / "adult.csv", separator=";", infer_schema=False)
    hs = hierarchies()
    r = anonymise(
        df,
        QIS,
        hs,
        PrivacyModel(k=k, suppression=suppression),
        keys=InMemoryKeySource(),
        sensitive=SENSITIVE,
        metric=metric,  # type: ignore[arg-type]
    )
    before, after = r.risk_before, r.risk_after
    t1 = time.perf_counter()
    return {
        "total_s": t1 - t0,
        "cpu_s": time.process_time() - c0,
        "read_s": t1 - t0 - r.seconds["total"],
        **{f"{k}_s": v for k, v in r.seconds.items() if k != "total"},
        "node": r.node,
        "loss": r.search.best.loss,
        "suppressed": r.suppressed,
        "nodes_checked": r.search.nodes_checked,
        "lattice_size": r.search.lattice_size,
        "rows_out": r.data.height,
        "_df": df,
        "_out": r.data,
        "_before": before.to_dict(),
        "_after": after.to_dict(),
    }


def risk_by_values(df: pl.DataFrame, qis: list[str]) -> dict[str, Any]:
    """The risk figures the straightforward way (string values, polars group-bys): the baseline and the check."""
    s = df.select([pl.col(c).cast(pl.String).fill_null("\x00") for c in qis])
    n = s.height
    f = s.select(pl.len().over(qis).alias("f"))["f"].to_numpy().astype(np.int64)
    rec = 1.0 / f
    classes = s.unique().height
    hist, _ = np.histogram(rec, bins=np.array(HISTOGRAM_EDGES))
    subsets = [list(c) for r in range(1, min(3, len(qis)) + 1) for c in combinations(qis, r)]
    if len(qis) > 3:
        subsets.append(list(qis))
    uniques = int(np.sum(f == 1))
    return {
        "records": n,
        "classes": classes,
        "prosecutor_max": float(rec.max()),
        "prosecutor_avg": float(rec.mean()),
        "journalist_max": float(rec.max()),
        "journalist_avg": float(rec.mean()),
        "journalist_basis": "prosecutor_upper_bound",
        "marketer": classes / n,
        "sample_uniques": uniques,
        "sample_uniques_share": uniques / n,
        "threshold": 0.2,
        "records_at_risk_share": float(np.mean(rec > 0.2)),
        "histogram_edges": list(HISTOGRAM_EDGES),
        "histogram_counts": [int(c) for c in hist],
        "highest_risk_rows": [int(i) for i in np.argsort(-rec, kind="stable")[:20]],
        "unique_combinations": [
            {"qis": sub, "unique_records": s.group_by(sub).len().filter(pl.col("len") == 1).height}
            for sub in subsets
        ],
    }


def adult_in_process(k: int, suppression: float, repeat: int) -> dict[str, Any]:
    runs = [run_adult(k, suppression) for _ in range(repeat)]
    totals = [float(r["total_s"]) for r in runs]
    best = runs[-1]
    t0 = time.perf_counter()
    ref_before = risk_by_values(best["_df"], QIS)
    ref_after = risk_by_values(best["_out"], QIS)
    t_ref = time.perf_counter() - t0
    risk_s = statistics.median(float(r["risk_s"]) for r in runs)
    arx_metric = run_adult(k, suppression, "arx-loss")
    entry = {
        **{key: v for key, v in best.items() if not key.startswith("_")},
        "total_s_median": statistics.median(totals),
        "total_s_min": min(totals),
        "total_s_first": totals[0],
        "cpu_s_median": statistics.median(float(r["cpu_s"]) for r in runs),
        "search_s_median": statistics.median(float(r["search_s"]) for r in runs),
        "risk_s_median": risk_s,
        "risk_by_values_s": t_ref,
        "risk_ratio_vs_by_values": risk_s / t_ref,
        "risk_equal_to_by_values": best["_before"] == ref_before and best["_after"] == ref_after,
        "arx_loss_node": arx_metric["node"],
        "arx_loss": arx_metric["loss"],
    }
    say(
        f"[ours] Adult k={k} supp={suppression:.0%}: median {entry['total_s_median'] * 1000:.1f} ms "
        f"(min {entry['total_s_min'] * 1000:.1f}, first {totals[0] * 1000:.1f}, CPU {entry['cpu_s_median'] * 1000:.1f}) "
        f"incl. risk {risk_s * 1000:.1f} ms (by values {t_ref * 1000:.1f} ms, "
        f"{entry['risk_ratio_vs_by_values']:.2f}×, equal: {entry['risk_equal_to_by_values']}), "
        f"node {tuple(best['node'].values())}, loss {best['loss']:.4f}, ARX-style loss {arx_metric['loss']:.10f} "
        f"at {tuple(arx_metric['node'].values())}, suppressed {best['suppressed']}"
    )
    return entry


# --- ARX (Java) --------------------------------------------------------------------------------------------

ARX_JAVA = r"""
import java.nio.charset.StandardCharsets;
import org.deidentifier.arx.*;
import org.deidentifier.arx.AttributeType.Hierarchy;
import org.deidentifier.arx.criteria.KAnonymity;
import org.deidentifier.arx.metric.Metric;

/** args: data.csv hierarchy-dir k suppression repeat out.csv|"" QI...; one JSON line per run. */
public class MamoriArxBench {
    public static void main(String[] a) throws Exception {
        String csv = a[0], dir = a[1];
        int k = Integer.parseInt(a[2]);
        double supp = Double.parseDouble(a[3]);
        int repeat = Integer.parseInt(a[4]);
        String out = a[5].isEmpty() ? null : a[5];
        String[] qis = java.util.Arrays.copyOfRange(a, 6, a.length);
        for (int r = 0; r < repeat; r++) {
            long t0 = System.nanoTime();
            Data data = Data.create(csv, StandardCharsets.UTF_8, ';');
            for (String q : qis) {
                data.getDefinition().setAttributeType(
                    q, Hierarchy.create(dir + "/adult_hierarchy_" + q + ".csv", StandardCharsets.UTF_8, ';'));
            }
            ARXConfiguration config = ARXConfiguration.create();
            config.addPrivacyModel(new KAnonymity(k));
            config.setSuppressionLimit(supp);
            config.setQualityModel(Metric.createLossMetric());
            long t1 = System.nanoTime();
            ARXResult result = new ARXAnonymizer().anonymize(data, config);
            long t2 = System.nanoTime();
            ARXLattice.ARXNode opt = result.getGlobalOptimum();
            if (out != null) result.getOutput().save(out, ';');
            long t3 = System.nanoTime();
            StringBuilder levels = new StringBuilder();
            for (String q : qis) {
                levels.append(levels.length() == 0 ? "" : ",").append('"').append(q).append("\":")
                      .append(opt.getGeneralization(q));
            }
            System.out.println("{\"run\":" + r + ",\"read_s\":" + (t1 - t0) / 1e9 + ",\"anonymise_s\":"
                + (t2 - t1) / 1e9 + ",\"output_s\":" + (t3 - t2) / 1e9 + ",\"total_s\":" + (t3 - t0) / 1e9
                + ",\"levels\":{" + levels + "},\"loss\":" + opt.getHighestScore().toString() + "}");
        }
    }
}
"""


class Arx:
    """ARX's driver compiled once against ``ARX_CLASSPATH``; each ``run`` is a fresh JVM."""

    def __init__(self, classpath: str, workdir: Path) -> None:
        self.classpath = classpath
        self.dir = workdir / "arx"
        self.dir.mkdir()
        (self.dir / "MamoriArxBench.java").write_text(ARX_JAVA, encoding="utf-8")
        subprocess.run(
            ["javac", "-nowarn", "-cp", classpath, "MamoriArxBench.java"],
            cwd=self.dir,
            check=True,
            capture_output=True,
        )

    def run(
        self, csv: Path, k: int, suppression: float, repeat: int, out: Path | None
    ) -> tuple[float, list[dict[str, Any]]]:
        t0 = time.perf_counter()
        res = subprocess.run(
            [
                "java",
                "-cp",
                f"{self.classpath}:{self.dir}",
                "MamoriArxBench",
                str(csv),
                str(ADULT),
                str(k),
                repr(suppression),
                str(repeat),
                str(out or ""),
                *QIS,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        wall = time.perf_counter() - t0
        return wall, [json.loads(line) for line in res.stdout.splitlines() if line.startswith("{")]


def arx_available() -> str | None:
    cp = os.environ.get("ARX_CLASSPATH")
    return cp if cp and shutil.which("java") and shutil.which("javac") else None


def our_loss_of(node: dict[str, int], suppression: float, k: int, metric: str) -> float:
    df = pl.read_csv(ADULT / "adult.csv", separator=";", infer_schema=False)
    enc = encode(df, QIS, hierarchies(), metric=metric)  # type: ignore[arg-type]
    e, _ = Evaluator(enc, PrivacyModel(k=k, suppression=suppression)).evaluate(tuple(node[q] for q in QIS))
    return e.loss


def arx_adult(arx: Arx, k: int, suppression: float, repeat: int, ours: dict[str, Any]) -> dict[str, Any]:
    wall, runs = arx.run(ADULT / "adult.csv", k, suppression, repeat + 1, None)
    warm = [float(r["total_s"]) for r in runs[1:]]
    node = {q: int(runs[0]["levels"][q]) for q in QIS}
    arx_loss = float(runs[0]["loss"])
    ours_same_node = our_loss_of(node, suppression, k, "arx-loss")
    entry = {
        "jvm_wall_s": wall,
        "cold_run_s": float(runs[0]["total_s"]),
        "warm_s_median": statistics.median(warm),
        "node": node,
        "same_node_as_ours": node == ours["node"],
        "arx_loss": arx_loss,
        "our_arx_loss_same_node": ours_same_node,
        "loss_abs_diff": abs(arx_loss - ours_same_node),
        "ratio_ours_vs_arx_warm": ours["total_s_median"] / statistics.median(warm),
    }
    say(
        f"[ARX] Adult k={k} supp={suppression:.0%}: warm median {entry['warm_s_median'] * 1000:.1f} ms, "
        f"first run in the JVM {entry['cold_run_s']:.2f} s, node {tuple(node.values())} "
        f"(same as ours: {entry['same_node_as_ours']}), ARX loss {arx_loss!r} vs our arx-loss "
        f"{ours_same_node!r} → ours/ARX warm {entry['ratio_ours_vs_arx_warm']:.2f}×"
    )
    return entry


# --- Adult × scale, cold -----------------------------------------------------------------------------------

COLD_SCRIPT = r"""
import json, sys, time
t0 = time.perf_counter()
import polars as pl
from mamori.deid.tabular.anonymise import anonymise
from mamori.deid.tabular.engine import PrivacyModel
from mamori.deid.tabular.hierarchy import read_csv_hierarchy
from mamori.deid.tabular.pseudonymise import InMemoryKeySource
csv, adult, k, supp, out, risk = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5], sys.argv[6] == "1"
qis = json.loads(sys.argv[7])
t1 = time.perf_counter()
df = pl.read_csv(csv, separator=";", infer_schema=False)
hs = {c: read_csv_hierarchy(f"{adult}/adult_hierarchy_{c}.csv", name=c) for c in [*qis, "salary-class"]}
t2 = time.perf_counter()
r = anonymise(df, qis, hs, PrivacyModel(k=k, suppression=supp), keys=InMemoryKeySource(), sensitive="salary-class")
if risk:
    before, after = r.risk_before, r.risk_after
t3 = time.perf_counter()
r.data.write_csv(out, separator=";")
t4 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "read_s": t2 - t1, "anonymise_s": t3 - t2, "write_s": t4 - t3,
                  "in_process_s": t4 - t0, "seconds": r.seconds, "node": r.node, "loss": r.search.best.loss,
                  "rows": df.height}))
"""


def ours_cold(csv: Path, k: int, out: Path, risk: bool) -> dict[str, Any]:
    t0 = time.perf_counter()
    res = subprocess.run(
        [
            sys.executable,
            "-c",
            COLD_SCRIPT,
            str(csv),
            str(ADULT),
            str(k),
            "0.0",
            str(out),
            "1" if risk else "0",
            json.dumps(QIS),
        ],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    wall = time.perf_counter() - t0
    return {"wall_s": wall, **json.loads(res.stdout.strip().splitlines()[-1])}


def adult_scaled(scale: int, arx: Arx | None, repeat: int, tmp: Path) -> dict[str, Any]:
    csv = tmp / f"adult_x{scale}.csv"
    df = pl.read_csv(ADULT / "adult.csv", separator=";", infer_schema=False)
    pl.concat([df] * scale).write_csv(csv, separator=";")
    k = 5 * scale
    entry: dict[str, Any] = {"rows": df.height * scale, "k": k, "suppression": 0.0}
    ours = [ours_cold(csv, k, tmp / "ours.csv", True) for _ in range(repeat)]
    plain = [ours_cold(csv, k, tmp / "ours_plain.csv", False) for _ in range(repeat)]
    entry["ours_cold_s"] = statistics.median(float(r["wall_s"]) for r in ours)
    entry["ours_cold_no_risk_s"] = statistics.median(float(r["wall_s"]) for r in plain)
    entry["ours_risk_s"] = statistics.median(float(r["seconds"]["risk"]) for r in ours)
    entry["ours_split"] = {key: v for key, v in ours[-1].items() if key not in ("node",)}
    entry["ours_node"] = ours[-1]["node"]
    say(
        f"[ours] Adult ×{scale} ({entry['rows']:,} rows) k={k}, cold process: {entry['ours_cold_s']:.2f} s "
        f"(without the risk report {entry['ours_cold_no_risk_s']:.2f} s; risk report {entry['ours_risk_s']:.3f} s; "
        f"imports {ours[-1]['import_s']:.2f}, read {ours[-1]['read_s']:.2f}, anonymise {ours[-1]['anonymise_s']:.2f}, "
        f"write {ours[-1]['write_s']:.2f})"
    )
    if arx is not None:
        runs = [arx.run(csv, k, 0.0, 1, tmp / "arx.csv") for _ in range(repeat)]
        entry["arx_cold_s"] = statistics.median(w for w, _ in runs)
        entry["arx_node"] = {q: int(runs[-1][1][0]["levels"][q]) for q in QIS}
        entry["arx_split"] = runs[-1][1][0]
        entry["same_node"] = entry["arx_node"] == entry["ours_node"]
        entry["ratio_ours_vs_arx_cold"] = entry["ours_cold_s"] / entry["arx_cold_s"]
        entry["ratio_ours_no_risk_vs_arx_cold"] = entry["ours_cold_no_risk_s"] / entry["arx_cold_s"]
        say(
            f"[ARX] Adult ×{scale} cold JVM: {entry['arx_cold_s']:.2f} s, node {tuple(entry['arx_node'].values())} "
            f"(same as ours: {entry['same_node']}) → ours/ARX cold {entry['ratio_ours_vs_arx_cold']:.2f}× "
            f"(without the risk report {entry['ratio_ours_no_risk_vs_arx_cold']:.2f}×)"
        )
    return entry


# --- anjana / pycanon --------------------------------------------------------------------------------------

ANJANA_SCRIPT = r"""
import json, sys, time, io, contextlib
import pandas as pd
from anjana.anonymity._k_anonymity import k_anonymity_inner
adult, qis, k, supp = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
t0 = time.perf_counter()
data = pd.read_csv(f"{adult}/adult.csv", sep=";", dtype=str)
hier = {}
for q in qis:
    h = pd.read_csv(f"{adult}/adult_hierarchy_{q}.csv", sep=";", header=None, dtype=str)
    hier[q] = {i: h[i].values for i in range(h.shape[1])}
t1 = time.perf_counter()
with contextlib.redirect_stdout(io.StringIO()):
    out, supp_records, levels = k_anonymity_inner(data, [], qis, k, supp, hier)
t2 = time.perf_counter()
print(json.dumps({"total_s": t2 - t0, "anonymise_s": t2 - t1, "levels": {q: int(v) for q, v in levels.items()},
                  "suppressed": int(supp_records), "rows_out": int(len(out))}))
"""

PYCANON_SCRIPT = r"""
import json, sys
import pandas as pd
from pycanon import anonymity
path, qis, sens = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
data = pd.read_csv(path, dtype=str)
print(json.dumps({
    "k": int(anonymity.k_anonymity(data, qis)),
    "l": int(anonymity.l_diversity(data, qis, [sens])),
    "t": float(anonymity.t_closeness(data, qis, [sens])),
}))
"""


def run_peer(script: str, *args: str) -> dict[str, Any]:
    res = subprocess.run([str(PEERS), "-c", script, *args], capture_output=True, text=True, check=True)
    return dict(json.loads(res.stdout.strip().splitlines()[-1]))


def anjana_adult(k: int, suppression: float, ours: dict[str, Any], out: pl.DataFrame) -> dict[str, Any]:
    anj = run_peer(ANJANA_SCRIPT, str(ADULT), json.dumps(QIS), str(k), str(suppression * 100))
    node = {q: int(anj["levels"][q]) for q in QIS}
    anj["loss_our_metric"] = our_loss_of(node, suppression, k, "loss")
    anj["ratio_ours_vs_anjana"] = ours["total_s_median"] / float(anj["total_s"])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "out.csv"
        out.write_csv(path)
        anj["pycanon_on_ours"] = run_peer(PYCANON_SCRIPT, str(path), json.dumps(QIS), SENSITIVE)
    say(
        f"[anjana] Adult k={k} supp={suppression:.0%}: {float(anj['total_s']):.2f} s, loss (our metric) "
        f"{anj['loss_our_metric']:.4f} → ours/anjana {anj['ratio_ours_vs_anjana']:.4f}×; "
        f"pycanon on our output {anj['pycanon_on_ours']}"
    )
    return anj


# --- synthetic ---------------------------------------------------------------------------------------------


def synthetic(rows: int, seed: int = 42) -> tuple[pl.DataFrame, dict[str, Hierarchy]]:
    rng = np.random.default_rng(seed)
    age = np.clip(rng.normal(45, 16, rows).astype(np.int64), 18, 100)
    age[rng.random(rows) < 1e-5] = 116  # peculiar values (R-43-1)
    pref_idx = rng.choice(
        len(PREFECTURES), rows, p=np.linspace(2, 1, len(PREFECTURES)) / np.linspace(2, 1, 47).sum()
    )
    gender = rng.choice(np.array(["F", "M", "X"]), rows, p=[0.49, 0.49, 0.02])
    freq = rng.choice(np.array(["毎月", "年数回", "年1回", "初回のみ", "なし"]), rows)
    postal = (pref_idx * 20 + rng.integers(0, 20, rows)).astype(np.int64)
    df = pl.DataFrame(
        {
            "age": age.astype(str),
            "prefecture": np.array(PREFECTURES)[pref_idx],
            "gender": gender,
            "purchase": freq,
            "postal3": np.char.zfill(postal.astype(str), 3),
        }
    )
    hs: dict[str, Hierarchy] = {
        "age": age_hierarchy(df["age"].unique().to_list()),
        "prefecture": prefecture_hierarchy(df["prefecture"].unique().to_list()),
        "gender": Hierarchy({"F": ("F", "*"), "M": ("M", "*"), "X": ("X", "*")}, "gender"),
        "purchase": Hierarchy(
            {
                "毎月": ("毎月", "リピーター", "*"),
                "年数回": ("年数回", "リピーター", "*"),
                "年1回": ("年1回", "たまに", "*"),
                "初回のみ": ("初回のみ", "たまに", "*"),
                "なし": ("なし", "なし", "*"),
            },
            "purchase",
        ),
        "postal3": Hierarchy(
            {p: (p, p[:1] + "**", "*") for p in df["postal3"].unique().to_list()}, "postal3"
        ),
    }
    return df, hs


def run_synthetic(rows: int) -> dict[str, Any]:
    df, hs = synthetic(rows)
    qis = ["age", "prefecture", "gender", "purchase", "postal3"]
    t0 = time.perf_counter()
    r = anonymise(df, qis, hs, PrivacyModel(k=5, suppression=0.01), keys=InMemoryKeySource())
    r.risk_before, r.risk_after  # noqa: B018 - computed on first use
    entry = {
        "rows": rows,
        "total_s": time.perf_counter() - t0,
        **{f"{k}_s": v for k, v in r.seconds.items() if k != "total"},
        "node": r.node,
        "loss": r.search.best.loss,
        "suppressed": r.suppressed,
        "nodes_checked": r.search.nodes_checked,
        "lattice_size": r.search.lattice_size,
    }
    say(
        f"[ours] synthetic {rows:,} rows k=5 supp=1%: {entry['total_s']:.2f} s (encode {entry['encode_s']:.2f}, "
        f"search {entry['search_s']:.2f}, apply {entry['apply_s']:.2f}, risk {entry['risk_s']:.3f}), "
        f"nodes {entry['nodes_checked']}/{entry['lattice_size']}, loss {entry['loss']:.4f}"
    )
    return entry


# --- main --------------------------------------------------------------------------------------------------


def targets(report: dict[str, Any]) -> dict[str, Any]:
    a0 = report["adult_k5_supp0"]
    out: dict[str, Any] = {
        "adult_k5_in_process_s": {
            "target": TARGET_ADULT_S,
            "value": a0["total_s_median"],
            "met": a0["total_s_median"] <= TARGET_ADULT_S,
        },
        "risk_equal_to_by_values": all(
            report[key]["risk_equal_to_by_values"] for key in ("adult_k5_supp0", "adult_k5_supp100")
        ),
    }
    scaled = report.get("adult_scaled")
    if scaled:
        out["risk_at_scale_s"] = {
            "target": TARGET_RISK_1M_S,
            "value": scaled["ours_risk_s"],
            "rows": scaled["rows"],
            "met": scaled["ours_risk_s"] <= TARGET_RISK_1M_S,
        }
        if "ratio_ours_vs_arx_cold" in scaled:
            out["cold_vs_arx"] = {
                "target": TARGET_COLD_VS_ARX,
                "value": scaled["ratio_ours_vs_arx_cold"],
                "met": scaled["ratio_ours_vs_arx_cold"] <= TARGET_COLD_VS_ARX,
            }
    return out


def main() -> None:
    global _log
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--cold-repeat", type=int, default=1)
    ap.add_argument("--scale", type=int, default=33)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--json", action="store_true", help="print the figures as one JSON document on stdout")
    ap.add_argument("--json-out", type=Path)
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--skip-scale", action="store_true")
    ap.add_argument("--skip-synthetic", action="store_true")
    args = ap.parse_args()
    if args.json:
        _log = lambda line: print(line, file=sys.stderr)  # noqa: E731
    cp = None if args.no_peers else arx_available()
    load = os.getloadavg()
    report: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "loadavg_start": list(load)},
        "arx": bool(cp),
        "anjana": not args.no_peers and PEERS.exists(),
    }
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        arx = Arx(cp, tmp) if cp else None
        for supp in (0.0, 1.0):
            key = f"adult_k5_supp{int(supp * 100)}"
            report[key] = adult_in_process(5, supp, args.repeat)
            if arx is not None:
                report[key]["arx"] = arx_adult(arx, 5, supp, args.repeat, report[key])
        if report["anjana"]:
            out = run_adult(5, 0.0)["_out"]
            report["adult_k5_supp0"]["anjana"] = anjana_adult(5, 0.0, report["adult_k5_supp0"], out)
        if not args.skip_scale:
            report["adult_scaled"] = adult_scaled(args.scale, arx, args.cold_repeat, tmp)
    if not args.skip_synthetic:
        report["synthetic"] = run_synthetic(args.rows)
    report["machine"]["loadavg_end"] = list(os.getloadavg())
    report["targets"] = targets(report)
    say("Targets: " + json.dumps(report["targets"]))
    if not cp:
        say("(ARX not measured: set ARX_CLASSPATH to a Java classpath with ARX's classes and libraries)")
    text = json.dumps(report, ensure_ascii=False, indent=2, default=str)
    if args.json_out:
        args.json_out.write_text(text, encoding="utf-8")
    if args.json:
        print(text)


if __name__ == "__main__":
    main()
