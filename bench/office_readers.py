"""Reading one .xlsx: python-calamine vs openpyxl (ADR 0018), each in a process of its own, on the same file.

    .venv/bin/python bench/office_readers.py [--rows 100000] [--file customers.xlsx] [--json]

Without ``--file`` it writes a customer list of ``--rows`` rows × 14 columns with openpyxl (write-only; dates as
date cells) into a temporary directory. Each reader opens the file's bytes and reads the first sheet to Python
values: ``calamine`` (``iter_rows``, what ``import_files.read_table`` uses), ``read_table`` (calamine + the cells
made text), ``openpyxl`` (``load_workbook(read_only=True, data_only=True)`` + ``iter_rows(values_only=True)``).
Printed: wall and CPU seconds, the peak resident memory the read added, and the ratio openpyxl / calamine.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

READ = r"""
import io, json, resource, sys, time
path, how = sys.argv[1], sys.argv[2]
data = open(path, "rb").read()
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t, c = time.perf_counter(), time.process_time()
if how == "calamine":
    import python_calamine as pc
    wb = pc.CalamineWorkbook.from_filelike(io.BytesIO(data))
    n = sum(1 for _ in wb.get_sheet_by_index(0).iter_rows())
elif how == "openpyxl":
    import openpyxl
    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    n = sum(1 for _ in wb.worksheets[0].iter_rows(values_only=True))
else:
    from mamori.customers.service.import_files import read_table
    n = sum(1 for _ in read_table(data, path).rows) + 1
wall, cpu = time.perf_counter() - t, time.process_time() - c
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"rows": n, "wall_s": wall, "cpu_s": cpu, "peak_rss_added_mib": (peak - base) / 1024}))
"""


def write_xlsx(path: Path, rows: int) -> None:
    import datetime as dt

    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("顧客")
    ws.append(
        [
            "顧客番号",
            "姓",
            "名",
            "セイ",
            "メイ",
            "生年月日",
            "郵便番号",
            "都道府県",
            "住所",
            "建物",
            "電話1",
            "電話2",
        ]
        + ["登録日", "備考"]
    )
    for i in range(rows):
        ws.append(
            [
                f"C{i:07d}",
                "山田",
                "太郎",
                "ヤマダ",
                "タロウ",
                dt.date(1950 + i % 50, 1 + i % 12, 1 + i % 28),
                "100-0001",
                "東京都",
                f"千代田区千代田{i % 9 + 1}-1",
                "",
                f"03-{1000 + i % 9000}-{i % 10000:04d}",
                9012345678 + i,
                dt.date(2020, 1, 1 + i % 28),
                "備考あり" if i % 7 == 0 else "",
            ]
        )
    wb.save(path)


def measure(path: Path, how: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", READ, str(path), how],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"},
    ).stdout
    return dict(json.loads(out))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--file", type=Path)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="mamori-readers-") as d:
        path = args.file or Path(d) / "customers.xlsx"
        if args.file is None:
            write_xlsx(path, args.rows)
        result = {how: measure(path, how) for how in ("calamine", "read_table", "openpyxl")}
        size = path.stat().st_size
    ratio = result["openpyxl"]["wall_s"] / result["calamine"]["wall_s"]
    cpu_ratio = result["openpyxl"]["cpu_s"] / result["calamine"]["cpu_s"]
    if args.json:
        print(json.dumps({"file_bytes": size, **result, "openpyxl_over_calamine": ratio}, indent=2))
        return
    print(f"file: {size / 1e6:.1f} MB, {result['calamine']['rows']:,} rows")
    for how, r in result.items():
        print(
            f"{how:<10} {r['wall_s']:7.2f} s wall {r['cpu_s']:7.2f} s CPU  peak RSS +{r['peak_rss_added_mib']:.0f} MiB"
        )
    print(f"openpyxl / calamine: {ratio:.1f}x wall, {cpu_ratio:.1f}x CPU")


if __name__ == "__main__":
    main()
