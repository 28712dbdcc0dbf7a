"""``mamori contact find --phone … -p PURPOSE`` (issue 20, seed 003): the call center finds the caller by the
number they call from — name and kana as the purpose allows, the purposes they were notified of, where their data
came from, their do-not-contact channels and stop-use state, and the customer id for ``mamori consent dnc ID
--channel phone``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from mamori.kernel import labels
from mamori.kernel.cli_support import CliState, cli_command, console, lazy, print_json, state

# Imported by the command that uses it, not at start-up (issue 16; see kernel/cli_support.py).
if TYPE_CHECKING:
    from mamori.contact.service import inbound as service
else:
    service = lazy("mamori.contact.service.inbound")

MASK = "●●●"


def _line(text: str) -> None:
    console.print(text, markup=False, highlight=False, soft_wrap=True)


def _print_caller(st: CliState, c: service.Caller) -> None:
    lang = st.lang
    if not c.allowed:
        reason = c.refusal_en if lang == "en" else c.refusal_ja
        rules = ", ".join(c.rule_ids)
        _line(
            st.t(
                f"顧客ID: {c.customer_id}（この目的では表示できません）",
                f"customer id: {c.customer_id} (refused)",
            )
        )
        _line(f"  {reason} [{rules}]" if rules else f"  {reason}")
    else:
        name = c.name if c.name is not None else MASK
        kana = c.kana if c.kana is not None else (MASK if "kana" in c.masked else "")
        _line(st.t(f"顧客ID: {c.customer_id}", f"customer id: {c.customer_id}"))
        _line(f"  {labels.label('field.name', lang)}: {name}  {labels.label('field.kana', lang)}: {kana}")
        _line(st.t("  通知した利用目的:", "  purposes notified:"))
        for p in c.purposes:
            pending = st.t("（新しい版は未通知）", " (new version not notified)") if p.pending else ""
            title = p.title_en if lang == "en" else p.title_ja
            _line(
                f"    - {title} ({p.code}) "
                + st.t(f"第{p.version}版", f"v{p.version}")
                + f"{pending}  {labels.value('notice_method', p.method, lang)}  "
                + labels.fmt_date(p.notified_at, lang)
            )
        if not c.purposes:
            _line(st.t("    （記録なし）", "    (none recorded)"))
        _line(st.t("  取得元（どこで情報を知ったか）:", "  where the data came from:"))
        for src in c.sources:
            parts = [
                labels.value("acquisition_method", src.method, lang),
                labels.value("acquisition_channel", src.channel, lang),
                src.source or "",
                src.acquisition or "",
                labels.fmt_date(src.acquired_at, lang),
            ]
            _line("    - " + " / ".join(x for x in parts if x and x != "—"))
        if not c.sources:
            _line(st.t("    （記録なし）", "    (none recorded)"))
    _line(
        st.t("  連絡停止: ", "  do not contact: ") + labels.values("dnc_channel", c.do_not_contact, lang)
        if c.do_not_contact
        else st.t("  連絡停止: なし", "  do not contact: none")
    )
    if c.stopped:
        stopped = ", ".join(st.t("すべての目的", "all purposes") if s == "*" else s for s in c.stopped)
        _line(st.t(f"  利用停止中: {stopped}", f"  use stopped: {stopped}"))
    _line(
        st.t(
            f"  連絡停止の記録: mamori consent dnc {c.customer_id} --channel phone",
            f"  record do-not-contact: mamori consent dnc {c.customer_id} --channel phone",
        )
    )


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``mamori contact``."""

    @app.command("find")
    @cli_command
    def find(
        ctx: typer.Context,
        phone: str = typer.Option(..., "--phone", help="かけてきた電話番号（全角・ハイフンなし・+81 も可）"),
        purpose: str = typer.Option(..., "--purpose", "-p", help="今回の利用目的のコード（例: support）"),
        json_out: bool = typer.Option(False, "--json", help="JSON で出力 / output JSON"),
    ) -> None:
        """着信の相手を電話番号で探す（通知した目的・取得元・連絡停止） / find the caller by phone number."""
        st = state(ctx)
        with st.transaction(purpose) as c:
            got = service.find(c, phone)
        if json_out:
            print_json(got)
            return
        if not got.callers:
            _line(st.t("該当する顧客は見つかりませんでした。", "No customer found."))
            return
        for caller in got.callers:
            _print_caller(st, caller)
