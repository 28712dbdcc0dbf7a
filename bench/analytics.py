"""Benchmark of the analytics compute layer (issue 24, "Measure"): RFM and the CLV fit over 1,000,000 customers and
10,000,000 purchases against a plain Polars group-by of the same aggregates, in the same run.

The data are synthetic (NumPy, seeded): customers whose purchases follow a BG/NBD process (a Gamma-distributed
purchase rate, a Beta-distributed chance of leaving after each repeat purchase) over two years before ``AS_OF``,
with Gamma-Gamma amounts in yen, timestamps as aware UTC datetimes. The rate is scaled until there are at least
``--purchases`` rows and random repeat purchases are then dropped to hit the count exactly. They are written once
to a Parquet file; each part then runs in a fresh Python process that reads it, so each part's peak memory
(``ru_maxrss``) is its own (data included).

Parts:
1. ``ratio`` — the times: the baseline ``group_by(subject).agg(last occurred_at, count, sum amount)``,
   ``mamori.analytics.compute.rfm.rfm(transactions, as_of=…)`` (scores and segments) and ``clv.rfm_summary``
   take turns for ``--repeat`` rounds in one process (a change of load on the shared machine hits all three
   alike); medians of wall and CPU seconds (CPU = all threads of the process), and their ratios to the group-by.
2. ``groupby``, ``rfm`` — one run each in its own process, for its peak memory.
3. ``clv`` — ``clv.rfm_summary``, ``import pymc_marketing.clv``, then ``clv.fit`` (MAP) cold (the first fit in the
   process: pytensor builds its graphs and compiles them, or finds them in its disk cache ``~/.pytensor``) and warm
   (a second fit of the same data), then ``clv.predict`` (one-year horizon, 8 % a year).
4. ``clv-fresh-cache`` — part 3's cold fit in a process whose pytensor cache directory is empty (a first run on a
   new machine), unless ``--no-fresh-cache``.

Targets (issue 24): RFM ≤ 2× the group-by, CLV fit ≤ 60 s, peak memory ≤ 4 GiB.

Run:  .venv/bin/python bench/analytics.py [--customers 1000000] [--purchases 10000000] [--repeat 5] [--seed 24]
      [--json] [--no-fresh-cache]
``--json`` prints one JSON document on stdout (the table goes to stderr).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

AS_OF = date(2026, 3, 31)
WINDOW_DAYS = 730  # first purchases spread over two years before AS_OF
# BG/NBD (days) and Gamma-Gamma (yen) parameters of the synthetic population; the purchase rate is then scaled to
# reach the requested number of purchases (alpha is divided by the scale).
TRUE_R, TRUE_ALPHA, TRUE_A, TRUE_B = 0.9, 20.0, 0.6, 6.0
TRUE_P, TRUE_Q, TRUE_V = 6.0, 4.0, 3000.0
GIB = 1024**3
TARGET_RFM_RATIO = 2.0
TARGET_FIT_SECONDS = 60.0
TARGET_PEAK_BYTES = 4 * GIB


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def peak_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB


# -- data -----------------------------------------------------------------------------------------------------------


def generate(customers: int, purchases: int, seed: int) -> tuple[pl.DataFrame, dict[str, float]]:
    """``purchases`` rows (subject, occurred_at UTC, amount yen) of ``customers`` customers; and the true parameters."""
    if purchases < customers:
        raise SystemExit("--purchases must be at least --customers (every customer has a first purchase)")
    rng = np.random.default_rng(seed)
    n = customers
    rate = rng.gamma(TRUE_R, 1.0 / TRUE_ALPHA, n)  # purchases per day while active
    leave = rng.beta(TRUE_A, TRUE_B, n)  # chance of leaving after each repeat purchase
    age = rng.integers(1, WINDOW_DAYS + 1, n)  # T: days from the first purchase day to AS_OF
    lifetime_purchases = rng.geometric(leave)  # repeat purchases made before leaving
    wanted = purchases - n
    scale = 1.0
    for _ in range(20):
        made = rng.poisson(
            rate * scale * age
        )  # repeat purchases a never-leaving customer would make by AS_OF
        repeat = np.minimum(made, lifetime_purchases)
        if repeat.sum() >= wanted:
            break
        scale *= max(1.05, 1.1 * wanted / max(1, int(repeat.sum())))
    else:
        raise SystemExit("could not reach the requested number of purchases")
    if repeat.sum() > wanted:  # drop random repeat purchases to hit the count exactly
        repeat = rng.multivariate_hypergeometric(repeat, wanted, method="marginals")
    # A customer who left made their purchases before their last one; the last comes at T · Beta(K, N - K + 1).
    left = made > lifetime_purchases
    span = age.astype(np.float64)
    span[left] *= rng.beta(lifetime_purchases[left], made[left] - lifetime_purchases[left] + 1)

    us_per_day = 86_400_000_000
    start_of_as_of = (
        int((datetime(AS_OF.year, AS_OF.month, AS_OF.day) - datetime(1970, 1, 1)).total_seconds()) * 10**6
    )
    first_us = start_of_as_of - age.astype(np.int64) * us_per_day + rng.integers(0, us_per_day, n)
    who = np.repeat(np.arange(n, dtype=np.int64), repeat)
    when = first_us[who] + (rng.random(who.size) * span[who] * us_per_day).astype(np.int64)
    end_of_as_of = start_of_as_of + us_per_day - 1
    subject = np.concatenate([np.arange(n, dtype=np.int64), who])
    occurred = np.minimum(
        np.concatenate([first_us, when]), end_of_as_of
    )  # local (JST) wall-clock microseconds
    del who, when
    nu = rng.gamma(TRUE_Q, 1.0 / TRUE_V, n)
    amount = np.maximum(1, np.rint(rng.gamma(TRUE_P, 1.0 / nu[subject]))).astype(np.int64)
    frame = (
        pl.DataFrame({"i": subject, "t": occurred, "amount": amount})
        .sort("t")
        .select(
            pl.format("C{}", pl.col("i").cast(pl.String).str.zfill(7)).alias("subject"),
            pl.col("t")
            .cast(pl.Datetime("us"))
            .dt.replace_time_zone("Asia/Tokyo")
            .dt.convert_time_zone("UTC")
            .alias("occurred_at"),
            "amount",
        )
    )
    truth = {
        "r": TRUE_R,
        "alpha": TRUE_ALPHA / scale,
        "a": TRUE_A,
        "b": TRUE_B,
        "p": TRUE_P,
        "q": TRUE_Q,
        "v": TRUE_V,
    }
    return frame, truth


# -- parts (each in its own process) -------------------------------------------------------------------------------


def measure(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """Wall and CPU seconds (CPU: all threads of the process) of one call, and its result."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def groupby_baseline(data: pl.DataFrame) -> pl.DataFrame:
    return data.group_by("subject").agg(
        pl.col("occurred_at").max().alias("last"), pl.len().alias("count"), pl.col("amount").sum()
    )


def rfm_function() -> Callable[..., Any] | None:
    try:
        from mamori.analytics.compute.rfm import rfm
    except ImportError:
        return None
    return rfm


def part_ratio(data: pl.DataFrame, repeat: int) -> dict[str, Any]:
    """Group-by, rfm and rfm_summary taking turns, ``repeat`` rounds: a change of load on the shared machine hits
    all three alike. Medians of wall and CPU seconds."""
    from mamori.analytics.compute import clv

    rfm = rfm_function()
    contenders: dict[str, Callable[[], Any]] = {"groupby": lambda: groupby_baseline(data)}
    if rfm is not None:
        contenders["rfm"] = lambda: rfm(data, as_of=AS_OF)
    contenders["rfm_summary"] = lambda: clv.rfm_summary(data, as_of=AS_OF)
    walls: dict[str, list[float]] = {name: [] for name in contenders}
    cpus: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(repeat):
        for name, fn in contenders.items():
            wall, cpu, _result = measure(fn)
            walls[name].append(wall)
            cpus[name].append(cpu)
    return {
        "rfm_available": rfm is not None,
        "wall": {name: statistics.median(v) for name, v in walls.items()},
        "cpu": {name: statistics.median(v) for name, v in cpus.items()},
        "wall_runs": walls,
        "cpu_runs": cpus,
    }


def part_groupby(data: pl.DataFrame, repeat: int) -> dict[str, Any]:
    wall, cpu, out = measure(lambda: groupby_baseline(data))
    return {"wall": wall, "cpu": cpu, "rows_out": out.height}


def part_rfm(data: pl.DataFrame, repeat: int) -> dict[str, Any]:
    rfm = rfm_function()
    if rfm is None:
        return {"available": False}
    wall, cpu, out = measure(lambda: rfm(data, as_of=AS_OF))
    return {"available": True, "wall": wall, "cpu": cpu, "rows_out": out.table.height}


def part_clv(data: pl.DataFrame, repeat: int) -> dict[str, Any]:
    from mamori.analytics.compute import clv

    summary_wall, _, summary = measure(lambda: clv.rfm_summary(data, as_of=AS_OF))
    with clv._quiet():
        import_wall, _, _ = measure(lambda: __import__("pymc_marketing.clv"))
    cold = clv.fit(summary, seed=0)
    warm = clv.fit(summary, seed=0)
    predict_wall, predict_cpu, predicted = measure(lambda: clv.predict(cold, summary))
    return {
        "rfm_summary_wall": summary_wall,
        "import_wall": import_wall,
        "fit_cold_wall": cold.seconds,
        "fit_warm_wall": warm.seconds,
        "predict_wall": predict_wall,
        "customers": cold.customers,
        "repeat_customers": cold.repeat_customers,
        "spend_customers": cold.spend_customers,
        "bgnbd": cold.bgnbd,
        "gamma_gamma": cold.gamma_gamma,
        "same_parameters_warm": cold.bgnbd == warm.bgnbd and cold.gamma_gamma == warm.gamma_gamma,
        "mean_p_alive": float(predicted["p_alive"].mean()),  # type: ignore[arg-type]
        "mean_expected_purchases": float(predicted["expected_purchases"].mean()),  # type: ignore[arg-type]
        "mean_clv": float(predicted["clv"].mean()),  # type: ignore[arg-type]
    }


def part_clv_fresh_cache(data: pl.DataFrame, repeat: int) -> dict[str, Any]:
    from mamori.analytics.compute import clv

    summary = clv.rfm_summary(data, as_of=AS_OF)
    with clv._quiet():
        import_wall, _, _ = measure(lambda: __import__("pymc_marketing.clv"))
    cold = clv.fit(summary, seed=0)
    return {"import_wall": import_wall, "fit_cold_wall": cold.seconds}


PARTS: dict[str, Callable[[pl.DataFrame, int], dict[str, Any]]] = {
    "ratio": part_ratio,
    "groupby": part_groupby,
    "rfm": part_rfm,
    "clv": part_clv,
    "clv-fresh-cache": part_clv_fresh_cache,
}


def run_part_here(name: str, path: Path, repeat: int) -> None:
    started = time.perf_counter()
    data = pl.read_parquet(path)
    load_wall = time.perf_counter() - started
    loaded_peak = peak_bytes()
    result = PARTS[name](data, repeat)
    result |= {"part": name, "load_wall": load_wall, "peak_after_load_bytes": loaded_peak}
    result["peak_bytes"] = peak_bytes()
    print(json.dumps(result))


def run_part(name: str, path: Path, repeat: int, env: dict[str, str] | None = None) -> dict[str, Any]:
    say(f"… {name} (load average {os.getloadavg()[0]:.1f})")
    command = [sys.executable, __file__, "--part", name, "--data", str(path), "--repeat", str(repeat)]
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        say(done.stderr[-4000:])
        return {
            "part": name,
            "failed": True,
            "returncode": done.returncode,
            "stderr_tail": done.stderr[-2000:],
        }
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# -- report ---------------------------------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def report(doc: dict[str, Any]) -> list[str]:
    parts = doc["parts"]
    ratio, c = parts["ratio"], parts["clv"]
    fresh = parts.get("clv-fresh-cache")
    machine = doc["machine"]
    lines = [
        f"analytics bench — {doc['customers']:,} customers, {doc['purchases']:,} purchases, as_of {doc['as_of']}, "
        f"{machine['cpus']} CPUs, load average {machine['load_average_at_start'][0]:.1f} at start, "
        f"{machine['load_average_at_end'][0]:.1f} at end",
        f"data generated in {doc['generate_seconds']:.1f} s",
        "",
        f"interleaved, median of {doc['repeat']} rounds      wall s   CPU s   × group-by (wall / CPU)",
    ]
    if not ratio.get("failed"):
        base_wall, base_cpu = ratio["wall"]["groupby"], ratio["cpu"]["groupby"]
        labels = {
            "groupby": "1 group-by (last, count, sum)",
            "rfm": "2 rfm.rfm (scores + segments)",
            "rfm_summary": "3 clv.rfm_summary",
        }
        for name, label in labels.items():
            if name not in ratio["wall"]:
                lines.append(f"  {label:<38}not run (mamori.analytics.compute.rfm not importable)")
                continue
            wall, cpu = ratio["wall"][name], ratio["cpu"][name]
            lines.append(
                f"  {label:<38}{wall:>7.2f}{cpu:>8.2f}   {wall / base_wall:.2f} / {cpu / base_cpu:.2f}"
            )
    lines += ["", "CLV (wall seconds)"]
    if not c.get("failed"):
        lines += [
            f"  import pymc_marketing.clv             {c['import_wall']:>7.2f}",
            f"  fit, first in the process (cold)      {c['fit_cold_wall']:>7.2f}",
            f"  fit, second (warm)                    {c['fit_warm_wall']:>7.2f}",
            f"  → graph compilation ≈ cold − warm     {c['fit_cold_wall'] - c['fit_warm_wall']:>7.2f}",
            f"  predict (365 days, 8 %/year)          {c['predict_wall']:>7.2f}",
        ]
    if fresh and not fresh.get("failed"):
        lines.append(f"  fit, empty pytensor cache             {fresh['fit_cold_wall']:>7.2f}")
    lines += ["", "peak memory (ru_maxrss of each part's process, data included)"]
    for name, part in parts.items():
        if part.get("peak_bytes"):
            lines.append(
                f"  {name:<22}{part['peak_bytes'] / GIB:>6.2f} GiB  (after loading the data "
                f"{part['peak_after_load_bytes'] / GIB:.2f})"
            )
    lines.append(f"  {'generate':<22}{doc['generate_peak_bytes'] / GIB:>6.2f} GiB")
    lines.append(f"  {'(this process)':<22}{doc['bench_process_peak_bytes'] / GIB:>6.2f} GiB")
    if not c.get("failed"):
        truth = doc["truth"]
        fitted = {**c["bgnbd"], **(c["gamma_gamma"] or {})}
        lines += [
            "",
            "parameters, true → fitted: "
            + ", ".join(f"{k} {truth[k]:.4g} → {fitted[k]:.4g}" for k in truth if k in fitted),
            f"customers {c['customers']:,}, repeat customers {c['repeat_customers']:,}, "
            f"mean p_alive {c['mean_p_alive']:.3f}, mean purchases next year {c['mean_expected_purchases']:.2f}, "
            f"mean CLV ¥{c['mean_clv']:,.0f}",
        ]
    lines += ["", "targets (issue 24):"]
    if not ratio.get("failed") and "rfm" in ratio["wall"]:
        wall_ratio = ratio["wall"]["rfm"] / ratio["wall"]["groupby"]
        cpu_ratio = ratio["cpu"]["rfm"] / ratio["cpu"]["groupby"]
        lines.append(
            f"  RFM ≤ {TARGET_RFM_RATIO:g}× group-by: {wall_ratio:.2f}× wall, {cpu_ratio:.2f}× CPU — "
            + verdict(max(wall_ratio, cpu_ratio) <= TARGET_RFM_RATIO)
        )
    else:
        lines.append("  RFM ≤ 2× group-by: not measured")
    if not c.get("failed"):
        fits = {"cold": c["fit_cold_wall"], "warm": c["fit_warm_wall"]}
        if fresh and not fresh.get("failed"):
            fits["empty cache"] = fresh["fit_cold_wall"]
        lines.append(
            f"  CLV fit ≤ {TARGET_FIT_SECONDS:g} s: "
            + ", ".join(f"{k} {v:.1f} s" for k, v in fits.items())
            + " — "
            + ", ".join(f"{k} {verdict(v <= TARGET_FIT_SECONDS)}" for k, v in fits.items())
        )
    peaks = [p["peak_bytes"] for p in parts.values() if p.get("peak_bytes")] + [doc["generate_peak_bytes"]]
    lines.append(
        f"  peak ≤ 4 GiB: largest {max(peaks) / GIB:.2f} GiB — {verdict(max(peaks) <= TARGET_PEAK_BYTES)}"
    )
    return lines


def generate_here(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    frame, truth = generate(args.customers, args.purchases, args.seed)
    seconds = time.perf_counter() - started
    frame.write_parquet(args.data)
    print(json.dumps({"seconds": seconds, "rows": frame.height, "truth": truth, "peak_bytes": peak_bytes()}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--purchases", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=24)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--no-fresh-cache", action="store_true")
    parser.add_argument("--part", choices=[*sorted(PARTS), "generate"], help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.part == "generate":
        generate_here(args)
        return
    if args.part:
        run_part_here(args.part, args.data, args.repeat)
        return

    # Everything big happens in child processes: on Linux a child's ru_maxrss starts from its parent's resident
    # size at the fork, so this process stays small for the children's peaks to be their own.
    doc: dict[str, Any] = {
        "customers": args.customers,
        "as_of": AS_OF.isoformat(),
        "repeat": args.repeat,
        "seed": args.seed,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "polars": pl.__version__,
            "numpy": np.__version__,
            "platform": platform.platform(),
            "load_average_at_start": os.getloadavg(),
        },
        "parts": {},
    }
    with tempfile.TemporaryDirectory(prefix="mamori-bench-analytics-") as tmp:
        path = Path(tmp) / "purchases.parquet"
        say(f"… generate (load average {os.getloadavg()[0]:.1f})")
        command = [
            sys.executable,
            __file__,
            "--part",
            "generate",
            "--data",
            str(path),
            "--customers",
            str(args.customers),
            "--purchases",
            str(args.purchases),
            "--seed",
            str(args.seed),
        ]
        made = json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)
        doc |= {
            "purchases": made["rows"],
            "truth": made["truth"],
            "generate_seconds": made["seconds"],
            "generate_peak_bytes": made["peak_bytes"],
        }
        for name in ("ratio", "groupby", "rfm", "clv"):
            doc["parts"][name] = run_part(name, path, args.repeat)
        if not args.no_fresh_cache:
            with tempfile.TemporaryDirectory(prefix="mamori-bench-pytensor-") as cache:
                env = dict(os.environ)
                env["PYTENSOR_FLAGS"] = ",".join(
                    flag for flag in (env.get("PYTENSOR_FLAGS", ""), f"base_compiledir={cache}") if flag
                )
                doc["parts"]["clv-fresh-cache"] = run_part("clv-fresh-cache", path, 1, env)
    doc["finished"] = datetime.now().isoformat(timespec="seconds")
    doc["machine"]["load_average_at_end"] = os.getloadavg()
    doc["bench_process_peak_bytes"] = peak_bytes()
    for line in report(doc):
        say(line)
    if args.json:
        print(json.dumps(doc, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
