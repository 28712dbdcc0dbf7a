"""``mamori incidents …`` commands: the register, the classification (R-26-1), the clock (R-26-2/3, G-33) and the
board (issue 22).

- ``add``: register an incident (any member of staff; ``--known-at "2026-12-04 10:00"`` is Japan time);
- ``list``: the board, sorted by the nearest deadline, overdue first (in red);
- ``show`` / ``classify``: the register with its classification and deadlines / the triggers with reasons;
- ``edit`` / ``filed`` / ``close``: change the register, record a filing, close (privacy officer);
- ``mine``: what the caller registered (number and status).
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from mamori.kernel import labels
from mamori.kernel.cli_support import CliState, cli_command, console, lazy, print_json, state

if TYPE_CHECKING:
    from mamori.incidents import board_schemas, schemas
    from mamori.incidents.service import classify as classify_service
    from mamori.incidents.service import clock as clock_service
    from mamori.incidents.service import register as service
else:
    board_schemas = lazy("mamori.incidents.board_schemas")
    schemas = lazy("mamori.incidents.schemas")
    classify_service = lazy("mamori.incidents.service.classify")
    clock_service = lazy("mamori.incidents.service.clock")
    service = lazy("mamori.incidents.service.register")

JSON_OPT = typer.Option(False, "--json", help="JSON で出力 / output JSON")
STATUS_WORDS = {"open": ("対応中", "open"), "closed": ("終了", "closed")}


# The board's short words for the R-26-1 triggers and our role (the full sentences are classify.TRIGGER_LABELS).
_TRIGGER_SHORT = {
    "sensitive": ("①要配慮", "(1) sensitive"),
    "financial": ("②財産的被害", "(2) financial"),
    "wrongful": ("③不正の目的", "(3) wrongful"),
    "over_1000": ("④1,000人超", "(4) >1,000"),
}
_ROLE_LABELS = {
    "operator": ("個人情報取扱事業者（委託元を含む）", "operator"),
    "outsourcee": ("委託先", "outsourcee"),
}


def _word(st: CliState, table: dict[str, tuple[str, str]], key: str | None) -> str:
    if key is None:
        return "—"
    pair = table.get(key)
    return st.t(*pair) if pair else key


def parse_when(value: str | None, option: str = "--known-at") -> datetime | None:
    """``2026-12-04 10:00`` (Japan time), ``2026-12-04`` (00:00 JST) or ISO 8601 with a zone."""
    if value is None:
        return None
    from mamori.kernel.clock import JST

    text = value.strip()
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(0, 0), tzinfo=JST)
        at = datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError:
        raise typer.BadParameter(
            f"{option}: 日時は「2026-12-04 10:00」（日本時間）の形で指定してください / "
            'give the time as "2026-12-04 10:00" (Japan time)'
        ) from None
    return at if at.tzinfo is not None else at.replace(tzinfo=JST)


def _due(st: CliState, value: date | datetime | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return labels.fmt_datetime(value, st.lang)
    return labels.fmt_date(value, st.lang)


def _board_table(st: CliState, rows: list[board_schemas.BoardRow]) -> Table:
    table = Table()
    table.add_column(st.t("事案番号", "ref"), no_wrap=True)
    for header in (
        st.t("件名", "title"),
        st.t("状態", "status"),
        st.t("本人（最大）", "people (max)"),
        st.t("報告対象の事態", "triggers"),
        st.t("速報", "prelim"),
        st.t("確報", "final"),
        st.t("GDPR 72時間", "GDPR 72 h"),
        st.t("次の期限", "next"),
    ):
        table.add_column(header)
    for r in rows:
        late = set(r.overdue)

        def cell(kind: str, text: str, late: set[str] = late) -> str:
            return f"[bold red]{text}[/]" if kind in late else text

        triggers = "、".join(_word(st, _TRIGGER_SHORT, t) for t in r.triggers) or "—"
        if r.exempt:
            exempt = _word(st, classify_service.EXEMPT_LABELS, r.exempt)
            triggers += st.t(f"（除外: {exempt}）", f" (exempt: {exempt})")
        nxt = "—"
        if r.next_kind is not None and r.days_left is not None:
            word = _word(st, clock_service.DEADLINE_LABELS, r.next_kind)
            nxt = (
                st.t(f"{word} 超過 {-r.days_left}日", f"{word} {-r.days_left} d overdue")
                if r.days_left < 0
                else st.t(f"{word} あと{r.days_left}日", f"{word} in {r.days_left} d")
            )
            if r.overdue:
                nxt = f"[bold red]{nxt}[/]"
        table.add_row(
            r.ref,
            labels_escape(r.title),
            _word(st, STATUS_WORDS, r.status),
            f"{r.persons}（{r.persons_max}）" if st.lang != "en" else f"{r.persons} ({r.persons_max})",
            triggers,
            cell("prelim", _due(st, r.prelim_due) if r.reportable else "—"),
            cell("final", _due(st, r.final_due) if r.reportable else "—"),
            cell("gdpr", _due(st, r.gdpr_due)),
            nxt,
        )
    return table


def labels_escape(text: str) -> str:
    """Rich markup off for user text."""
    from rich.markup import escape

    return escape(text)


def _print_classification(st: CliState, c: board_schemas.ClassificationRead) -> None:
    console.print(
        st.t(
            f"本人 {c.persons}人（最大 {c.persons_max}人）  要配慮 {c.sensitive}人  財産的被害 {c.financial}人  "
            f"EU/UK {c.eu}人",
            f"{c.persons} people (max {c.persons_max}); sensitive {c.sensitive}; financial {c.financial}; "
            f"EU/UK {c.eu}",
        ),
        highlight=False,
    )
    if c.triggers:
        for t in c.triggers:
            console.print(f"  ● {t.label}: {t.reason}", highlight=False, markup=False)
    else:
        console.print(st.t("  報告対象の事態に当たる要件はありません", "  no trigger"), highlight=False)
    if c.exempt:
        console.print(
            st.t(f"  除外: {c.exempt_reason}", f"  exempt: {c.exempt_reason}"), highlight=False, markup=False
        )
    console.print(
        st.t("報告対象（R-26-1）: ", "reportable (R-26-1): ")
        + (st.t("はい", "yes") if c.reportable else st.t("いいえ", "no"))
        + ("  GDPR (G-33): " + (st.t("対象", "applies") if c.gdpr else st.t("対象外", "no"))),
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    """Add this part's commands to the ``mamori incidents`` group."""

    @app.command("add")
    @cli_command
    def add(
        ctx: typer.Context,
        title: str = typer.Option(..., "--title", help="事象の概要（人の名前は書かない） / what happened"),
        kind: str = typer.Option(..., "--kind", help="leak | loss | damage（漏えい / 滅失 / 毀損）"),
        suspected: bool = typer.Option(False, "--suspected", help="おそれ（未確定） / only suspected"),
        occurred_at: str | None = typer.Option(None, "--occurred-at", help="発生日時（日本時間） / occurred"),
        known_at: str = typer.Option(..., "--known-at", help="知った日時「2026-12-04 10:00」（日本時間）"),
        known_by: str = typer.Option(..., "--known-by", help="最初に知った部署 / the department that knew"),
        discovered_by: str = typer.Option(
            ..., "--discovered-by", help="発見者（役割・組織） / who discovered"
        ),
        cause: str = typer.Option(
            ...,
            "--cause",
            help="external_attack | insider | misdelivery | loss_theft | misconfiguration | remote_work | "
            "outsourcee | other",
        ),
        cause_detail: str | None = typer.Option(None, "--cause-detail", help="原因の詳細 / cause detail"),
        role: str = typer.Option("operator", "--role", help="operator | outsourcee（当社が委託先）"),
        entrustor_name: str | None = typer.Option(None, "--entrustor", help="委託元の名称 / the entrustor"),
        counterparty_id: str | None = typer.Option(None, "--counterparty", help="取引先ID / counterparty id"),
        contract_id: str | None = typer.Option(None, "--contract", help="委託契約ID / contract id"),
        json_out: bool = JSON_OPT,
    ) -> None:
        """漏えい等事案を登録（全スタッフ） / register an incident (any member of staff)."""
        st = state(ctx)
        data = schemas.IncidentIn.model_validate(
            {
                "title": title,
                "kind": kind,
                "suspected": suspected,
                "occurred_at": parse_when(occurred_at, "--occurred-at"),
                "known_at": parse_when(known_at),
                "known_by": known_by,
                "discovered_by": discovered_by,
                "cause": cause,
                "cause_detail": cause_detail,
                "role": role,
                "entrustor_name": entrustor_name,
                "counterparty_id": counterparty_id,
                "contract_id": contract_id,
            }
        )
        with st.transaction() as c:
            read = service.register(c, data)
        if json_out:
            print_json(read)
        else:
            console.print(
                st.t(
                    f"登録しました: 事案番号 {read.ref}（{read.id}）", f"registered: {read.ref} ({read.id})"
                ),
                highlight=False,
            )

    @app.command("list")
    @cli_command
    def list_(
        ctx: typer.Context,
        status: str | None = typer.Option(None, "--status", help="open | closed"),
        json_out: bool = JSON_OPT,
    ) -> None:
        """事案の一覧（期限の近い順、超過は赤） / the board, nearest deadline first."""
        st = state(ctx)
        with st.transaction() as c:
            rows = service.board(c, status)
        if json_out:
            print_json(rows)
            return
        if not rows:
            console.print(st.t("事案はありません", "no incidents"))
            return
        console.print(_board_table(st, rows))

    @app.command("show")
    @cli_command
    def show(ctx: typer.Context, key: str, json_out: bool = JSON_OPT) -> None:
        """事案の台帳・分類・期限 / an incident with its classification and deadlines."""
        st = state(ctx)
        with st.transaction() as c:
            d = service.detail(c, key, st.lang)
        if json_out:
            print_json(d)
            return
        i = d.incident
        kind = _word(st, schemas.KIND_LABELS, i.kind) + (
            st.t("（おそれ）", " (suspected)") if i.suspected else ""
        )
        rows: list[tuple[str, str]] = [
            (st.t("事案番号", "ref"), f"{i.ref}  ({i.id})"),
            (st.t("件名", "title"), i.title),
            (st.t("状態", "status"), _word(st, STATUS_WORDS, i.status)),
            (st.t("種類", "kind"), kind),
            (st.t("発生日時", "occurred"), labels.fmt_datetime(i.occurred_at, st.lang)),
            (st.t("知った日時", "known"), f"{labels.fmt_datetime(i.known_at, st.lang)}  {i.known_by}"),
            (st.t("発見者", "discovered by"), i.discovered_by),
            (st.t("原因", "cause"), _word(st, schemas.CAUSE_LABELS, i.cause)),
            (st.t("原因の詳細", "cause detail"), i.cause_detail or "—"),
            (
                st.t("当社の立場", "our role"),
                _word(st, _ROLE_LABELS, i.role) + (f"  {i.entrustor_name}" if i.entrustor_name else ""),
            ),
            (st.t("版", "version"), str(i.version)),
        ]
        table = Table(show_header=False)
        table.add_column()
        table.add_column()
        for name, value in rows:
            table.add_row(name, labels_escape(value))
        console.print(table)
        _print_classification(st, d.classification)
        dl = d.deadlines
        late = set(dl.overdue)

        def line(kind: str, text: str) -> None:
            console.print(f"[bold red]{text}[/]" if kind in late else text, highlight=False)

        line(
            "prelim",
            st.t(
                f"速報（R-26-2）: {_due(st, dl.prelim_from)}〜{_due(st, dl.prelim_due)}  提出 "
                f"{labels.fmt_datetime(dl.prelim_filed_at, st.lang)}",
                f"prelim (R-26-2): {_due(st, dl.prelim_from)} – {_due(st, dl.prelim_due)}; filed "
                f"{labels.fmt_datetime(dl.prelim_filed_at, st.lang)}",
            ),
        )
        line(
            "final",
            st.t(
                f"確報（R-26-3, {dl.final_days}日）: {_due(st, dl.final_due)}  提出 "
                f"{labels.fmt_datetime(dl.final_filed_at, st.lang)}",
                f"final (R-26-3, {dl.final_days} days): {_due(st, dl.final_due)}; filed "
                f"{labels.fmt_datetime(dl.final_filed_at, st.lang)}",
            ),
        )
        if dl.gdpr_due is not None:
            line(
                "gdpr",
                st.t(
                    f"GDPR 72時間（G-33）: {_due(st, dl.gdpr_due)}  通知 {labels.fmt_datetime(dl.gdpr_filed_at, st.lang)}",
                    f"GDPR 72 h (G-33): {_due(st, dl.gdpr_due)}; notified "
                    f"{labels.fmt_datetime(dl.gdpr_filed_at, st.lang)}",
                ),
            )

    @app.command("classify")
    @cli_command
    def classify(ctx: typer.Context, key: str, json_out: bool = JSON_OPT) -> None:
        """報告対象の事態か（R-26-1）：要件と理由 / the R-26-1 triggers with reasons."""
        st = state(ctx)
        with st.transaction() as c:
            cls = service.classify(c, key, st.lang)
        if json_out:
            print_json(cls)
            return
        console.print(f"{cls.ref}", highlight=False)
        _print_classification(st, cls)

    @app.command("edit")
    @cli_command
    def edit(
        ctx: typer.Context,
        key: str,
        expect_version: int | None = typer.Option(None, "--expect-version", help="この版のときだけ変更"),
        title: str | None = typer.Option(None, "--title"),
        kind: str | None = typer.Option(None, "--kind", help="leak | loss | damage"),
        suspected: bool | None = typer.Option(None, "--suspected/--confirmed", help="おそれ / 確定"),
        occurred_at: str | None = typer.Option(None, "--occurred-at", help="日本時間 / Japan time"),
        known_at: str | None = typer.Option(None, "--known-at", help="日本時間 / Japan time"),
        known_by: str | None = typer.Option(None, "--known-by"),
        discovered_by: str | None = typer.Option(None, "--discovered-by"),
        cause: str | None = typer.Option(None, "--cause"),
        cause_detail: str | None = typer.Option(None, "--cause-detail"),
        role: str | None = typer.Option(None, "--role", help="operator | outsourcee"),
        entrustor_name: str | None = typer.Option(None, "--entrustor"),
        counterparty_id: str | None = typer.Option(None, "--counterparty"),
        contract_id: str | None = typer.Option(None, "--contract"),
        wrongful: str | None = typer.Option(
            None, "--wrongful", help="yes | no | auto（原因から） — R-26-1 (3)"
        ),
        encryption_exempt: bool | None = typer.Option(
            None, "--encryption-exempt/--no-encryption-exempt", help="高度な暗号化等（理由が必要）"
        ),
        encryption_reason: str | None = typer.Option(None, "--encryption-reason"),
        pseudonymised: bool | None = typer.Option(
            None, "--pseudonymised/--not-pseudonymised", help="仮名加工情報"
        ),
        gdpr_risk: str | None = typer.Option(None, "--gdpr-risk", help="none | risk | high"),
        gdpr_reason: str | None = typer.Option(None, "--gdpr-reason"),
        secondary_damage: str | None = typer.Option(None, "--secondary-damage", help="(5) 二次被害"),
        actions_to_persons: str | None = typer.Option(None, "--actions-to-persons", help="(6) 本人への対応"),
        publication: str | None = typer.Option(None, "--publication", help="(7) 公表"),
        prevention: str | None = typer.Option(None, "--prevention", help="(8) 再発防止策"),
        other: str | None = typer.Option(None, "--other", help="(9) その他"),
        clear: list[str] = typer.Option([], "--clear", help="空にする項目名（複数可） / fields to clear"),
        json_out: bool = JSON_OPT,
    ) -> None:
        """台帳を変更（個人情報保護管理者） / change the register."""
        st = state(ctx)
        given: dict[str, Any] = {
            "title": title,
            "kind": kind,
            "suspected": suspected,
            "occurred_at": parse_when(occurred_at, "--occurred-at"),
            "known_at": parse_when(known_at),
            "known_by": known_by,
            "discovered_by": discovered_by,
            "cause": cause,
            "cause_detail": cause_detail,
            "role": role,
            "entrustor_name": entrustor_name,
            "counterparty_id": counterparty_id,
            "contract_id": contract_id,
            "encryption_exempt": encryption_exempt,
            "encryption_reason": encryption_reason,
            "pseudonymised": pseudonymised,
            "gdpr_risk": gdpr_risk,
            "gdpr_reason": gdpr_reason,
            "secondary_damage": secondary_damage,
            "actions_to_persons": actions_to_persons,
            "publication": publication,
            "prevention": prevention,
            "other": other,
        }
        fields: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
        if wrongful is not None:
            choice = {"yes": True, "no": False, "auto": None}
            if wrongful not in choice:
                raise typer.BadParameter("--wrongful: yes | no | auto")
            fields["wrongful_purpose"] = choice[wrongful]
        updatable = set(schemas.IncidentUpdate.model_fields) - {"expect_version"}
        for name in clear:
            if name.replace("-", "_") not in updatable:
                raise typer.BadParameter(f"--clear: unknown field {name[:40]!r}")
            fields[name.replace("-", "_")] = None
        if expect_version is not None:
            fields["expect_version"] = expect_version
        data = schemas.IncidentUpdate.model_validate(fields)
        with st.transaction() as c:
            read = service.update(c, key, data)
        if json_out:
            print_json(read)
        else:
            console.print(
                st.t(
                    f"変更しました: {read.ref}（版 {read.version}）",
                    f"updated: {read.ref} (version {read.version})",
                ),
                highlight=False,
            )

    @app.command("filed")
    @cli_command
    def filed(
        ctx: typer.Context,
        key: str,
        what: str = typer.Option(..., "--what", help="prelim | final | gdpr | entrustor"),
        on: str | None = typer.Option(None, "--on", help="提出日時（日本時間、省略時は現在） / when"),
        json_out: bool = JSON_OPT,
    ) -> None:
        """報告・通知の提出を記録 / record that a report was filed."""
        st = state(ctx)
        when = parse_when(on, "--on")
        with st.transaction() as c:
            read = service.record_filing(c, key, what, when)
        if json_out:
            print_json(read)
        else:
            word = _word(st, board_schemas.FILING_LABELS, what)
            console.print(st.t(f"{read.ref}: {word}の提出を記録しました", f"{read.ref}: {word} recorded"))

    @app.command("close")
    @cli_command
    def close(
        ctx: typer.Context,
        key: str,
        force: bool = typer.Option(False, "--force", help="確報が未提出でも終了（理由が必要）"),
        reason: str | None = typer.Option(
            None, "--reason", help="joint_report | reported_outside | not_an_incident | duplicate"
        ),
        json_out: bool = JSON_OPT,
    ) -> None:
        """事案を終了 / close an incident."""
        st = state(ctx)
        data = board_schemas.CloseIn.model_validate({"force": force, "reason": reason})
        with st.transaction() as c:
            read = service.close(c, key, data)
        if json_out:
            print_json(read)
        else:
            console.print(st.t(f"終了しました: {read.ref}", f"closed: {read.ref}"), highlight=False)

    @app.command("mine")
    @cli_command
    def mine(ctx: typer.Context, json_out: bool = JSON_OPT) -> None:
        """自分が登録した事案（番号と状態） / the incidents I registered."""
        st = state(ctx)
        with st.transaction() as c:
            rows = service.mine(c)
        if json_out:
            print_json(rows)
            return
        table = Table(
            st.t("事案番号", "ref"), st.t("件名", "title"), st.t("状態", "status"), st.t("登録日", "on")
        )
        for r in rows:
            table.add_row(
                r.ref,
                labels_escape(r.title),
                _word(st, STATUS_WORDS, r.status),
                labels.fmt_date(r.created_at, st.lang),
            )
        console.print(table)
