"""JSON and HTML reports (charts as inline SVG, no network) for risk, anonymisation and pseudonymisation runs."""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mamori.deid.tabular.anonymise import AnonymisationResult
from mamori.deid.tabular.risk import RiskReport
from mamori.kernel.files import check_output, write_output


def anonymisation_report(
    result: AnonymisationResult, *, model: dict[str, Any], risk: bool = True
) -> dict[str, Any]:
    """The report of a run; with ``risk=False`` the risk before and after are not computed (null)."""
    s = result.search
    before, after = (result.risk_before.to_dict(), result.risk_after.to_dict()) if risk else (None, None)
    return {
        "kind": "匿名加工情報",
        "rule_ids": ["R-43-1", "R-43-2", "R-43-3", "R-43-4", "R-43-5"],
        "created_at": result.created_at,
        "privacy_model": model,
        "transformation": result.node,
        "metrics": result.metrics,
        "suppressed_records": result.suppressed,
        "search": {
            "algorithm": "branch-and-bound over the full-domain lattice with predictive tagging (exact)",
            "lattice_size": s.lattice_size,
            "nodes_checked": s.nodes_checked,
            "seconds": s.search_seconds,
            "candidates": [
                {"node": list(e.node), "anonymous": e.anonymous, "loss": e.loss, "suppressed": e.suppressed}
                for e in s.candidates
                if e.anonymous
            ][:200],
        },
        "seconds": result.seconds,
        "risk_before": before,
        "risk_after": after,
        "standards_R-43-1": result.standards,
        "published_items_R-43-3": result.published_items,
        "provision_statement_R-43-4": {
            "ja": result.provision_statement_ja,
            "en": result.provision_statement_en,
        },
        "destroyed_processing_keys_R-43-2": result.destroyed_keys,
    }


def risk_report(report: RiskReport) -> dict[str, Any]:
    return {"kind": "risk", "risk": report.to_dict()}


def _bars(title: str, labels: Sequence[str], values: Sequence[float], *, color: str = "#3b6ea5") -> str:
    width, height, pad = 520, 220, 40
    n = max(len(values), 1)
    top = max(max(values, default=0.0), 1e-12)
    bw = (width - 2 * pad) / n
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 40}" role="img" '
        f'aria-label="{html.escape(title)}">',
        f'<text x="{pad}" y="16" font-size="13">{html.escape(title)}</text>',
        f'<line x1="{pad}" y1="{height}" x2="{width - pad}" y2="{height}" stroke="#333"/>',
    ]
    for i, (lab, v) in enumerate(zip(labels, values, strict=True)):
        h = (height - 40) * (v / top)
        x = pad + i * bw
        parts.append(
            f'<rect x="{x + 2:.1f}" y="{height - h:.1f}" width="{bw - 4:.1f}" height="{h:.1f}" fill="{color}">'
            f"<title>{html.escape(lab)}: {v:g}</title></rect>"
        )
        parts.append(f'<text x="{x + 2:.1f}" y="{height - h - 3:.1f}" font-size="10">{v:g}</text>')
        parts.append(
            f'<text x="{x + 2:.1f}" y="{height + 14}" font-size="9" '
            f'transform="rotate(20 {x + 2:.1f} {height + 14})">{html.escape(lab)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _histogram(title: str, risk: dict[str, Any]) -> str:
    edges = risk["histogram_edges"]
    labels = [f"{edges[i]:g}–{edges[i + 1]:g}" for i in range(len(edges) - 1)]
    return _bars(title, labels, [float(c) for c in risk["histogram_counts"]])


def _table(rows: dict[str, Any]) -> str:
    body = "".join(
        f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else str(v))}</td></tr>"
        for k, v in rows.items()
    )
    return f"<table>{body}</table>"


_RISK_KEYS = (
    "records",
    "classes",
    "prosecutor_max",
    "prosecutor_avg",
    "journalist_max",
    "journalist_avg",
    "journalist_basis",
    "marketer",
    "sample_uniques",
    "sample_uniques_share",
    "records_at_risk_share",
)


def render_html(report: dict[str, Any]) -> str:
    parts = [
        "<!doctype html><html lang='ja'><head><meta charset='utf-8'><title>mamori deid report</title>",
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}table{border-collapse:collapse}"
        "th,td{border:1px solid #ccc;padding:.2em .5em;text-align:left;vertical-align:top}</style></head><body>",
        f"<h1>{html.escape(str(report.get('kind', 'report')))}</h1>",
    ]
    if "risk" in report:
        risk = report["risk"]
        parts += [
            "<h2>再識別リスク / Re-identification risk</h2>",
            _table({k: risk[k] for k in _RISK_KEYS}),
            _histogram("記録ごとのリスク分布 / record risk histogram", risk),
            "<h3>一意になる準識別子の組合せ / QI combinations making records unique</h3>",
            _table({", ".join(c["qis"]): c["unique_records"] for c in risk["unique_combinations"]}),
        ]
    if "risk_before" in report:
        before, after = report["risk_before"], report["risk_after"]
        metrics = report["metrics"]
        parts += [
            "<h2>プライバシーモデルと変換 / Privacy model and transformation</h2>",
            _table({**report["privacy_model"], **report["transformation"]}),
            "<h2>情報損失 / Information loss</h2>",
            _table(metrics),
            _bars(
                "情報損失 (0–1) / information loss",
                ["loss", "precision", "suppressed"],
                [
                    float(metrics.get("objective_value", 0.0)),
                    float(metrics.get("precision_loss", 0.0)),
                    float(metrics.get("suppressed_share", 0.0)),
                ],
                color="#a5553b",
            ),
        ]
        if before is not None and after is not None:
            parts += [
                "<h2>再識別リスク（前後） / Risk before and after</h2>",
                _table({k: f"{before[k]} → {after[k]}" for k in _RISK_KEYS}),
                _histogram("加工前 / before", before),
                _histogram("加工後 / after", after),
            ]
        parts += [
            "<h2>公表項目 (R-43-3) / Items to publish</h2>",
            _table({i["item"]: f"{i['role']}: {i['processing']}" for i in report["published_items_R-43-3"]}),
            "<h2>規則34の基準 (R-43-1)</h2>",
            _table(report["standards_R-43-1"]),
            "<h2>提供時の明示 (R-43-4)</h2>",
            f"<p>{html.escape(report['provision_statement_R-43-4']['ja'])}</p>",
            f"<p>{html.escape(report['provision_statement_R-43-4']['en'])}</p>",
        ]
    if "manifest" in report:
        parts += ["<h2>仮名加工情報 / Manifest</h2>", _table(report["manifest"])]
    parts.append("</body></html>")
    return "".join(parts)


def write_report(report: dict[str, Any], path: Path, *, force: bool = False) -> Path:
    """Write ``path`` (JSON) and the HTML next to it (same name, .html); returns the HTML path. Neither is written
    through a link, nor over an existing file without ``force`` (kernel.files)."""
    html_path = path.with_suffix(".html")
    check_output(html_path, force=force)
    write_output(path, json.dumps(report, ensure_ascii=False, indent=2, default=str), force=force)
    write_output(html_path, render_html(report), force=force)
    return html_path
