"""``mamori text evaluate``: span recall, strict recall and look-alikes kept on a hand-marked corpus (issue 23)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from mamori.deid.cli.text_support import (
    LangOpt,
    NerOpt,
    _fail,
    _lang,
    _ner_context,
    _t,
)
from mamori.kernel.cli_support import lazy
from mamori.kernel.errors import MamoriError

# Imported by the commands that use them, not at start-up (issue 16; see kernel/cli_support.py).
if TYPE_CHECKING:
    import mamori.deid.text.detect as detect  # the module (the package re-exports a function of that name)
    from mamori.deid.text import errors as text_errors
else:
    detect = lazy("mamori.deid.text.detect")
    text_errors = lazy("mamori.deid.text.errors")


# The kinds of look-alike in the markup (⟦keep:KIND:…⟧), in words.
_KEEP_KIND_JA = {
    "phone": "会社の電話番号",
    "number": "番号（注文・会員など）",
    "date": "日付（生年月日以外）",
    "place": "場所（住所以外）",
    "org": "会社名・商品名",
    "other": "その他",
}


def evaluate_cmd(
    directory: Annotated[Path, typer.Argument(help="hand-marked .txt files: ⟦person:…⟧, ⟦keep:phone:…⟧")],
    as_json: Annotated[bool, typer.Option("--json", help="JSON output")] = False,
    lang: LangOpt = None,
    ner: NerOpt = None,
) -> None:
    """目印付きの文書で検出率（部分一致・完全一致）と似て非なるものの保持率を測る。"""
    from mamori.deid.text import evaluate

    lg = _lang(lang)
    try:
        if not directory.is_dir():
            raise text_errors.InputUnreadable("ディレクトリが見つかりません", "directory not found")
        try:
            docs = evaluate.load_marked(directory)
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise text_errors.InputUnreadable(
                "目印付きの文書を読めません（⟦種類:値⟧ の書き方を確認してください）",
                "cannot read the marked documents (check the ⟦type:value⟧ markup)",
            ) from exc
        with _ner_context(ner):
            report = evaluate.evaluate_marked(docs)
    except MamoriError as exc:
        raise _fail(exc, lg) from None
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False))
        return
    _print_evaluation(report, lg)


def _rate(value: object) -> str:
    return f"{float(value):.1%}" if isinstance(value, int | float) else "—"


def _print_evaluation(report: dict[str, Any], lang: str) -> None:
    from rich.table import Table

    labels = detect.TYPE_LABELS_EN if lang == "en" else detect.TYPE_LABELS_JA
    console = Console()
    spans = Table(
        _t(lang, "種類", "type"),
        _t(lang, "件数", "spans"),
        _t(lang, "検出率（一部でも）", "span recall"),
        _t(lang, "検出率（全体）", "strict recall"),
        title=_t(
            lang,
            f"個人情報の検出（文書 {report.get('documents', 0)} 件）",
            f"personal spans ({report.get('documents', 0)} documents)",
        ),
    )
    for kind, row in report.get("by_type", {}).items():
        spans.add_row(
            labels.get(kind, kind), str(row["total"]), _rate(row["span_recall"]), _rate(row["strict_recall"])
        )
    overall = report.get("overall", {})
    spans.add_row(
        _t(lang, "全体", "overall"),
        str(overall.get("total", 0)),
        _rate(overall.get("span_recall")),
        _rate(overall.get("strict_recall")),
        style="bold",
    )
    console.print(spans)
    keep = report.get("keep", {})
    kept = Table(
        _t(lang, "種類", "kind"),
        _t(lang, "件数", "total"),
        _t(lang, "残した", "kept"),
        _t(lang, "保持率", "keep rate"),
        title=_t(lang, "残すべきもの（似て非なるもの）", "look-alikes that must stay"),
    )
    for kind, row in keep.get("by_kind", {}).items():
        word = _KEEP_KIND_JA.get(kind, kind) if lang != "en" else kind
        kept.add_row(word, str(row["total"]), str(row["kept"]), _rate(row.get("keep_rate")))
    kept.add_row(
        _t(lang, "全体", "overall"),
        str(keep.get("total", 0)),
        str(keep.get("kept", 0)),
        _rate(keep.get("keep_rate")),
        style="bold",
    )
    console.print(kept)
