from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from mamori.kernel import labels
from mamori.kernel.cli_support import CliState, cli_command, console, err_console, lazy, print_json, state
from mamori.kernel.labels import fmt_phone

# Imported by the commands that use them, not at start-up (issue 16; see kernel/cli_support.py).
if TYPE_CHECKING:
    from mamori.customers import jobs, schemas, service
    from mamori.customers.service import import_mapping, importing
    from mamori.kernel import context, policy
    from mamori.staff import service as staff_service
else:
    jobs = lazy("mamori.customers.jobs")
    schemas = lazy("mamori.customers.schemas")
    service = lazy("mamori.customers.service")
    importing = lazy("mamori.customers.service.importing")
    import_mapping = lazy("mamori.customers.service.import_mapping")
    context = lazy("mamori.kernel.context")
    policy = lazy("mamori.kernel.policy")
    staff_service = lazy("mamori.staff.service")

app = typer.Typer(help="顧客 / customers", no_args_is_help=True)

PURPOSE_OPT = typer.Option(
    ..., "--purpose", "-p", help="今回の利用の 利用目的のコード （必須） / the purpose of this use"
)
MASK = "●●●"

# The purposes notified (or stated) to the person when the data is collected: their own option name, so that
# -p / --purpose means "the purpose of this use" in every command. The old -p / --purpose spelling of
# `customers add / import` still works (hidden) for the scripts and documents that use it.
NOTIFIED_PURPOSE_OPT = typer.Option(
    [],
    "--notified-purpose",
    help="取得時に本人に 通知・明示した 利用目的のコード （複数可・必須） / purposes notified at collection",
)
LEGACY_PURPOSE_OPT = typer.Option([], "--purpose", "-p", hidden=True)


def _notified_purposes(notified: list[str], legacy: list[str]) -> list[str]:
    """The purposes notified at collection: --notified-purpose (or the old -p / --purpose), at least one."""
    got = [*notified, *(p for p in legacy if p not in notified)]
    if not got:
        raise typer.BadParameter(
            "取得時に通知した利用目的を --notified-purpose で指定してください"
            " / give the purposes notified at collection with --notified-purpose"
        )
    return got


# The acquisition campaign on the provenance row (issue 24: CAC per campaign); file-level for an import.
CAMPAIGN_OPT = typer.Option(
    None,
    "--campaign",
    help="取得キャンペーンのコード（例: 2026秋フェア、ad-2026-11。64文字以内・メールアドレスや電話番号は不可）",
)

# Provider-sourced data (third_party / succession): the R-30-1 confirmation, as for `provision receive`.
FROM_OPT = typer.Option(None, "--from", help="提供元・承継元（登録済みの提供先ID, R-30-1）")
VARIANT_OPT = typer.Option(
    None, "--variant", help="第三者からの受領: opt_out / consent / referable / non_operator"
)
IDENTITY_OPT = typer.Option(None, "--identity-confirmed-by", help="提供元の確認方法（R-30-1 (a)）")
ACQUISITION_OPT = typer.Option(None, "--acquisition", help="提供元の取得の経緯（R-30-1 (b)）")
LAWFUL_OPT = typer.Option(False, "--lawful", help="適正に取得されたことを確認した（R-20-1）")
PPC_OPT = typer.Option(False, "--ppc-published", help="委員会の公表を確認（オプトアウト）")
CONSENT_CONFIRMED_OPT = typer.Option(False, "--consent-confirmed", help="本人の同意を確認した")
PRIOR_OPT = typer.Option([], "--prior-purpose", help="事業承継: 承継前の利用目的コード（複数可, R-18-2）")


def _opts(domain: str, codes: tuple[str, ...] | list[str]) -> str:
    """The allowed codes of an option with their words for --help: 「direct（本人から直接取得） / …」 (spaced, so the
    help panel can wrap it)."""
    return labels.choices(domain, codes).replace("、", " / ")


_METHOD_HELP = "取得方法: " + _opts("acquisition_method", ("direct", "third_party", "public", "succession"))


def _receipt(
    provider: str | None,
    variant: str | None,
    identity: str | None,
    acquisition: str | None,
    lawful: bool,
    ppc: bool,
    consent_confirmed: bool,
    prior: list[str],
) -> schemas.ReceiptIn | None:
    """The receipt facts given on the command line, or None (then provider-sourced data is refused, R-30-1)."""
    if not (provider or variant or identity or acquisition or lawful or ppc or consent_confirmed or prior):
        return None  # nothing given: direct / public data, or a provider-sourced intake refused (R-30-1)
    return schemas.ReceiptIn.model_validate(
        {
            "counterparty_id": provider or "",
            "variant": variant,
            "identity_confirmed_by": identity or "",
            "acquisition": acquisition or "",
            "acquisition_lawful": lawful,
            "ppc_publication_confirmed": ppc,
            "consent_confirmed": consent_confirmed,
            "prior_purposes": prior,
        }
    )


national = fmt_phone


@app.command("add")
@cli_command
def add(
    ctx: typer.Context,
    name: str = typer.Option(..., help="氏名"),
    kana: str | None = typer.Option(None, help="フリガナ"),
    birth_date: str | None = typer.Option(None, "--birth-date", help="YYYY-MM-DD または 和暦"),
    gender: str | None = typer.Option(None),
    postal_code: str | None = typer.Option(None, "--postal-code"),
    address: str | None = typer.Option(None, help="都道府県から"),
    phone: list[str] = typer.Option([], "--phone"),
    email: list[str] = typer.Option([], "--email"),
    occupation: str | None = typer.Option(None),
    employer: str | None = typer.Option(None),
    attribute: list[str] = typer.Option([], "--attr", help="key=value[:category]"),
    notified_purposes: list[str] = NOTIFIED_PURPOSE_OPT,
    legacy_purposes: list[str] = LEGACY_PURPOSE_OPT,
    channel: str = typer.Option("counter", help="取得経路 web_form / counter / phone / paper …"),
    campaign: str | None = CAMPAIGN_OPT,
    notice_version: str | None = typer.Option(None, "--notice-version", help="提示した通知文の版"),
    method: str = typer.Option("direct", help=_METHOD_HELP),
    source: str | None = typer.Option(
        None, help="公開情報源（第三者・事業承継は --from で登録済みの提供元を指定）"
    ),
    provider: str | None = FROM_OPT,
    variant: str | None = VARIANT_OPT,
    identity: str | None = IDENTITY_OPT,
    acquisition: str | None = ACQUISITION_OPT,
    lawful: bool = LAWFUL_OPT,
    ppc_published: bool = PPC_OPT,
    consent_confirmed: bool = CONSENT_CONFIRMED_OPT,
    prior_purposes: list[str] = PRIOR_OPT,
    sensitive_basis: str | None = typer.Option(
        None, "--sensitive-basis", help="要配慮の取得根拠: consent / law / life / public_health / state …"
    ),
    sensitive_consent: str | None = typer.Option(
        None,
        "--sensitive-consent",
        help="取得時に得た要配慮の取得同意の方法（paper / oral / checkbox / web_form …）: 同意台帳に記録 (R-20-2)",
    ),
    sensitive_evidence: str | None = typer.Option(
        None, "--sensitive-consent-evidence", help="同意の証跡（書面番号など。個人情報を書かない）"
    ),
    origin: str = typer.Option("JP", help="JP / EU 加盟国コード / GB"),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """顧客を登録する / add a customer."""
    st = state(ctx)
    purposes = _notified_purposes(notified_purposes, legacy_purposes)
    attrs = []
    for a in attribute:
        key, _, rest = a.partition("=")
        value, _, cat = rest.partition(":") if ":" in rest else (rest, "", "attribute")
        attrs.append(schemas.AttributeIn(key=key, value=value, category=policy.Category(cat or "attribute")))
    data = schemas.CustomerCreate(
        name=name,
        kana=kana,
        birth_date=birth_date,
        gender=gender,
        postal_code=postal_code,
        address=address,
        phones=phone,
        emails=email,
        occupation=occupation,
        employer=employer,
        attributes=attrs,
        origin=origin,
    )
    receipt = _receipt(
        provider, variant, identity, acquisition, lawful, ppc_published, consent_confirmed, prior_purposes
    )
    prov = schemas.ProvenanceIn.model_validate(
        {
            "method": method,
            "channel": channel,
            "notice_version": notice_version,
            "source": source,
            "receipt": receipt,
            "campaign": campaign,
        }
    )
    consent = (
        schemas.SensitiveConsentIn.model_validate(
            {"method": sensitive_consent, "evidence": sensitive_evidence}
        )
        if sensitive_consent
        else None
    )
    with st.transaction() as c:
        view = service.create(
            c,
            data,
            provenance=prov,
            purposes=purposes,
            sensitive_basis=sensitive_basis,
            sensitive_consent=consent,
        )
    if json_out:
        print_json({"id": view.id, "purposes": view.notified_purposes})
    else:
        console.print(st.t(f"登録しました: {view.id}", f"created: {view.id}"))


def _show_view(st: CliState, v: schemas.CustomerView) -> None:
    lang = st.lang
    table = Table(show_header=False, box=None)
    table.add_column(style="bold")
    table.add_column(overflow="fold")  # long Japanese runs wrap, never cut

    def val(field: str, value: object) -> str:
        if field in v.masked:
            why = labels.label("customer_field.masked", lang)
            return f"{MASK} ({why})" if lang == "en" else f"{MASK}（{why}）"
        return "" if value in (None, [], "") else str(value)

    sep = ", " if lang == "en" else "、"
    phones = sep.join(national(p, st.lang) for p in v.phones)
    gender = labels.value("gender", v.gender, lang) if v.gender else None
    bd = labels.fmt_birth_date(v.birth_date, lang) if v.birth_date else None
    rows = [
        ("ID", v.id),
        (_h(st, "field.purpose"), v.purpose),
        (_h(st, "field.name"), val("name", v.name)),
        (_h(st, "field.kana"), val("kana", v.kana)),
        (_h(st, "field.birth_date"), val("birth_date", bd)),
        (_h(st, "field.gender"), val("gender", gender)),
        (_h(st, "field.postal_code"), val("postal_code", v.postal_code)),
        (_h(st, "field.address"), val("address", v.address)),
        (_h(st, "customer_field.phones"), val("phones", phones)),
        (_h(st, "customer_field.emails"), val("emails", sep.join(v.emails))),
        (_h(st, "field.occupation"), val("occupation", v.occupation)),
        (_h(st, "field.employer"), val("employer", v.employer)),
    ]
    for x in v.external_ids:  # 顧客番号 (issue 19): one row per issuing system
        rows.append(
            (
                st.t(f"顧客番号（{x.system}）", f"Customer no. ({x.system})"),
                val("external_ids", x.value),
            )
        )
    for a in v.attributes:
        name = labels.label(f"field.{a.key}", lang, a.key)  # 登録日 for registered_on; a custom key as it is
        category = labels.value("data_category", a.category.value, lang)
        rows.append(
            (
                f"{name} ({category})" if lang == "en" else f"{name}（{category}）",
                val(f"attr:{a.key}", a.value),
            )
        )
    rows.append(
        (
            _h(st, "customer_field.notified_purposes"),
            sep.join(_notice_label(st, n) for n in v.notices) or sep.join(v.notified_purposes),
        )
    )
    for p in v.provenance:
        parts = [
            labels.value("acquisition_method", p.method, lang),
            labels.value("acquisition_channel", p.channel, lang),
            *([f"{_h(st, 'customer_field.campaign')}: {p.campaign}"] if p.campaign else []),
            p.source or "—",
            f"{_h(st, 'customer_field.notice_version')}: {p.notice_version or '—'}",
            labels.fmt_date(p.acquired_at, lang),
        ]
        rows.append((_h(st, "customer_field.provenance"), " / ".join(parts)))
    for k, value in rows:
        table.add_row(k, value)
    console.print(table, markup=False)
    if "activities" in v.masked:
        console.print(f"{_h(st, 'customer_field.activities')}: {MASK}", markup=False)
    elif v.activities:
        at = Table(
            _h(st, "field.occurred_at"), _h(st, "field.kind"), _h(st, "field.amount"), _h(st, "field.body")
        )
        for act in v.activities:
            at.add_row(
                labels.fmt_datetime(act.occurred_at, lang),
                labels.value("activity_kind", act.kind, lang),
                "" if act.amount is None else labels.fmt_yen(act.amount, lang),
                (act.body or "")[:60],
            )
        console.print(at)


def _h(st: CliState, key: str) -> str:
    """A heading from the label dictionary."""
    return labels.label(key, st.lang)


@app.command("show")
@cli_command
def show(
    ctx: typer.Context,
    customer_id: str,
    purpose: str = PURPOSE_OPT,
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """顧客を表示する（利用目的の範囲外の項目はマスク） / show a customer (masked outside the purpose)."""
    st = state(ctx)
    with st.transaction(purpose) as c:
        view = service.get(c, customer_id)
    if json_out:
        print_json(view)
    else:
        _show_view(st, view)


@app.command("find")
@cli_command
def find(
    ctx: typer.Context,
    purpose: str = PURPOSE_OPT,
    email: str | None = typer.Option(None),
    phone: str | None = typer.Option(None),
    name: str | None = typer.Option(None),
    kana: str | None = typer.Option(None),
    customer_no: str | None = typer.Option(
        None, "--customer-no", help="顧客番号（他システムでの番号） / customer number in another system"
    ),
    system: str | None = typer.Option(
        None,
        "--system",
        help="顧客番号の発行元（省略時はすべて） / the number's issuing system (all if omitted)",
    ),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """メール・電話・氏名・フリガナ・顧客番号で完全一致検索 / exact-match lookup."""
    st = state(ctx)
    with st.transaction(purpose) as c:
        items = service.find(
            c, email=email, phone=phone, name=name, kana=kana, customer_no=customer_no, system=system
        )
    _print_summaries(st, items, json_out, None)


def _print_summaries(
    st: CliState, items: list[schemas.CustomerSummary], json_out: bool, cursor: str | None
) -> None:
    if json_out:
        print_json({"items": items, "next_cursor": cursor})
        return
    table = Table("ID", _h(st, "field.name"), _h(st, "field.kana"), _h(st, "customer_field.prefecture"))
    for s in items:
        table.add_row(
            s.id, s.name or MASK, s.kana or ("" if "kana" not in s.masked else MASK), s.prefecture or ""
        )
    console.print(table)
    console.print(labels.fmt_count(len(items), "人", st.lang))
    if cursor:
        console.print(st.t(f"続き: --after {cursor}", f"more: --after {cursor}"))


@app.command("list")
@cli_command
def list_(
    ctx: typer.Context,
    purpose: str = PURPOSE_OPT,
    after: str | None = typer.Option(None, help="カーソル"),
    limit: int = typer.Option(50, min=1, max=500),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """担当範囲の顧客一覧 / list the customers in your scope."""
    st = state(ctx)
    with st.transaction(purpose) as c:
        items, cursor = service.list_page(c, after=after, limit=limit)
    _print_summaries(st, items, json_out, cursor)


@app.command("update")
@cli_command
def update(
    ctx: typer.Context,
    customer_id: str,
    purpose: str = PURPOSE_OPT,
    name: str | None = typer.Option(None),
    kana: str | None = typer.Option(None),
    birth_date: str | None = typer.Option(None, "--birth-date"),
    gender: str | None = typer.Option(None),
    postal_code: str | None = typer.Option(None, "--postal-code"),
    address: str | None = typer.Option(None),
    occupation: str | None = typer.Option(None),
    employer: str | None = typer.Option(None),
    add_phone: list[str] = typer.Option([], "--add-phone"),
    add_email: list[str] = typer.Option([], "--add-email"),
    if_version: int | None = typer.Option(None, "--if-version", help="この版のときだけ更新"),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """顧客情報を訂正・更新する / correct or update a customer."""
    st = state(ctx)
    raw = dict(
        name=name,
        kana=kana,
        birth_date=birth_date,
        gender=gender,
        postal_code=postal_code,
        address=address,
        occupation=occupation,
        employer=employer,
    )
    changes = schemas.CustomerUpdate(
        **{k: v for k, v in raw.items() if v is not None},
        add_phones=add_phone,
        add_emails=add_email,
    )
    with st.transaction(purpose) as c:
        view = service.update(c, customer_id, changes, expected_version=if_version)
    if json_out:
        print_json(view)
    else:
        console.print(st.t(f"更新しました（版 {view.version}）", f"updated (version {view.version})"))


@app.command("note")
@cli_command
def note(
    ctx: typer.Context,
    customer_id: str,
    purpose: str = PURPOSE_OPT,
    kind: str = typer.Option("note", help="purchase / inquiry / call / note"),
    body: str | None = typer.Option(None, "--body"),
    amount: int | None = typer.Option(None),
    withheld: str | None = typer.Option(
        None,
        "--withheld",
        help="政令5の除外事由 (seirei5-1…4、例: 悪質クレーマー記録は seirei5-2) / not disclosable (R-16-4)",
    ),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """対応履歴・メモ・購入を記録する（要配慮は同意なしで拒否） / log an activity."""
    st = state(ctx)
    data = schemas.ActivityIn.model_validate(
        {"kind": kind, "body": body, "amount": amount, "withheld": withheld}
    )
    with st.transaction(purpose) as c:
        aid, warnings = service.add_activity(c, customer_id, data)
    if json_out:
        print_json({"id": aid, "warnings": warnings})
        return
    console.print(st.t(f"記録しました: {aid}", f"recorded: {aid}"))
    for w in warnings:
        err_console.print(
            f"⚠ [{w.rule_id}] {w.message_en if st.lang == 'en' else w.message_ja}", markup=False
        )


@app.command("attr")
@cli_command
def attr(
    ctx: typer.Context,
    customer_id: str,
    purpose: str = PURPOSE_OPT,
    key: str = typer.Option(..., "--key", help="属性名（英小文字・数字・_）"),
    value: str = typer.Option(..., "--value"),
    category: str = typer.Option(
        "attribute", "--category", help="identifier / contact / attribute / sensitive …"
    ),
    exception: str | None = typer.Option(
        None, "--sensitive-exception", help="要配慮の例外事由（law / life / public_health / state …）"
    ),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """属性を追加・置換する（要配慮は同意台帳の同意か例外事由が必要, R-20-2） / add or replace an attribute."""
    st = state(ctx)
    data = schemas.AttributeIn.model_validate({"key": key, "value": value, "category": category})
    with st.transaction(purpose) as c:
        service.add_attribute(c, customer_id, data, sensitive_exception=exception)
    if json_out:
        print_json({"id": customer_id, "key": data.key, "category": data.category.value})
    else:
        console.print(st.t(f"属性を記録しました: {data.key}", f"attribute recorded: {data.key}"))


@app.command("import")
@cli_command
def import_(
    ctx: typer.Context,
    file: Path = typer.Argument(
        ...,
        help="CSV / TSV / TXT（UTF-8・Shift_JIS(CP932)・UTF-16、区切り文字は自動判定）または Excel (.xlsx)",
    ),
    source: str = typer.Option(
        "", help="取得元（例: 2026年秋 展示会名刺）。第三者・事業承継は --from で登録済みの提供元を指定"
    ),
    notified_purposes: list[str] = NOTIFIED_PURPOSE_OPT,
    legacy_purposes: list[str] = LEGACY_PURPOSE_OPT,
    method: str = typer.Option("direct", help=_METHOD_HELP),
    provider: str | None = FROM_OPT,
    variant: str | None = VARIANT_OPT,
    identity: str | None = IDENTITY_OPT,
    acquisition: str | None = typer.Option(
        None,
        "--acquisition",
        help="取得の経緯（例: 展示会で名刺交換）。第三者・事業承継では提供元の取得の経緯（R-30-1 (b)）",
    ),
    lawful: bool = LAWFUL_OPT,
    ppc_published: bool = PPC_OPT,
    consent_confirmed: bool = CONSENT_CONFIRMED_OPT,
    prior_purposes: list[str] = PRIOR_OPT,
    channel: str = typer.Option("import"),
    campaign: str | None = CAMPAIGN_OPT,
    notice_version: str | None = typer.Option(None, "--notice-version"),
    mapping: list[str] = typer.Option(
        [],
        "--map",
        help="列=項目。複数列の結合は 姓+名=name、電話は複数列可（電話1=phone 電話2=phone）、"
        "独自項目は 備考=attr:note[:category]。項目: name kana birth_date gender postal_code address phone email "
        "occupation employer external_id registered_on owner notified_purposes",
    ),
    seps: list[str] = typer.Option([], "--sep", help='結合の区切り 項目=区切り（例: address=" "）'),
    mapping_name: str | None = typer.Option(None, "--mapping", help="保存済みの対応付けの名前"),
    mapping_file: Path | None = typer.Option(None, "--mapping-file", help="対応付けファイル（JSON / TOML）"),
    save_mapping: str | None = typer.Option(None, "--save-mapping", help="この対応付けを名前を付けて保存"),
    sheet: str | None = typer.Option(None, "--sheet", help="Excel のシート名（既定: 最初のシート）"),
    id_system: str | None = typer.Option(
        None, "--id-system", help="顧客番号の発番元（既定: 対応付けの id_system、なければ取得元）"
    ),
    skip_bad_rows: bool = typer.Option(False, "--skip-bad-rows", help="不正な行を除いて取り込む"),
    dry_run: bool = typer.Option(False, "--dry-run", help="検証だけ行い、何も書き込まない（同じ報告を表示）"),
    errors_out: Path | None = typer.Option(
        None, "--errors-out", help="不正な行の行番号・列・理由を CSV に書き出す（値は含みません）"
    ),
    on_duplicate: str = typer.Option("report", "--on-duplicate", help="report / merge / create"),
    batch_size: int = typer.Option(1000, "--batch-size", min=1, max=20000),
    owner: str | None = typer.Option(
        None, "--owner", help="担当の営業（ユーザー名）。営業担当は自分の顧客だけを見られる"
    ),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """CSV / Excel から一括登録（全行検証・重複検出・中断からの再開） / import customers from CSV or Excel."""
    st = state(ctx)
    purposes = _notified_purposes(notified_purposes, legacy_purposes)
    if on_duplicate not in ("report", "merge", "create"):
        raise typer.BadParameter("report / merge / create")
    actor = st.actor()
    provider_method = method in ("third_party", "succession")
    owner_id = None
    if owner:
        with st.runtime.transaction(context.SYSTEM_ACTOR, readonly=True) as system:
            owner_id = staff_service.actor_for(system, owner).id
    receipt = _receipt(
        provider,
        variant,
        identity,
        acquisition if provider_method else None,
        lawful,
        ppc_published,
        consent_confirmed,
        prior_purposes,
    )
    prov = schemas.ProvenanceIn.model_validate(
        {
            "method": method,
            "channel": channel,
            "notice_version": notice_version,
            "source": source or None,
            "acquisition": acquisition or None,
            "receipt": receipt,
            "campaign": campaign,
        }
    )
    chosen = _import_mapping(st, mapping, seps, mapping_name, mapping_file)
    if save_mapping:
        if chosen is None:
            raise typer.BadParameter(
                st.t("保存する対応付けがありません（--map などで指定）", "no mapping to save")
            )
        with st.runtime.transaction(actor) as tx:
            import_mapping.save(tx, save_mapping, chosen)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err_console, disable=json_out, transient=True) as progress:
        task = progress.add_task(
            st.t("検証中" if dry_run else "取り込み中", "checking" if dry_run else "importing")
        )
        report = jobs.run_import(
            st.runtime,
            actor,
            file,
            source=source,
            purposes=purposes,
            provenance=prov,
            mapping=chosen,
            sheet=sheet,
            skip_bad_rows=skip_bad_rows,
            on_duplicate=on_duplicate,
            batch_size=batch_size,
            owner_id=owner_id,
            dry_run=dry_run,
            id_system=id_system,
            progress=lambda done, total: progress.update(task, completed=done, total=total),
        )
    if errors_out is not None:
        errors_out.write_text(report.errors_csv(st.lang), encoding="utf-8-sig", newline="")
    if json_out:
        print_json(report.to_dict(st.lang))
    else:
        _print_import_report(st, report, errors_out)
    if not report.written and not dry_run:
        raise typer.Exit(1)


def _import_mapping(
    st: CliState,
    pairs: list[str],
    seps: list[str],
    name: str | None,
    path: Path | None,
) -> import_mapping.ImportMapping | None:
    """The mapping from --mapping NAME, --mapping-file or --map/--sep (one of them; --map/--sep refine the others)."""
    if name and path:
        raise typer.BadParameter(
            st.t(
                "--mapping と --mapping-file は同時に指定できません", "use one of --mapping / --mapping-file"
            )
        )
    base = None
    if name:
        with st.runtime.transaction(st.actor(), readonly=True) as tx:
            base = import_mapping.get(tx, name)
    elif path is not None:
        base = import_mapping.load_file(path)
    if not pairs and not seps:
        return base
    given = importing.parse_mapping(pairs, seps)
    if base is None:
        return given
    return base.model_copy(update={"fields": {**base.fields, **given.fields}})


def _print_import_report(st: CliState, report: importing.ImportReport, errors_out: Path | None) -> None:
    if report.unmapped:
        # not read (only what was mapped is imported), but worth a look: e.g. 郵便番号 fills a missing 都道府県
        listed = "、".join(
            f"{col}（{labels.label(f'field.{target}', st.lang, default=target)}）"
            for col, target in report.unmapped.items()
        )
        err_console.print(
            st.t(
                f"対応付けていない列（取り込みません）: {listed}。必要なら --map で指定してください。",
                f"columns not mapped (not imported): {listed}. Map them with --map if needed.",
            ),
            markup=False,
            soft_wrap=True,
        )
    for e in report.errors:
        err_console.print(e.text(st.lang), markup=False, soft_wrap=True)
    for d in report.duplicates:
        target = d.customer_id or st.t("ファイル内の前の行", "an earlier line")
        on = labels.value("match_key", d.matched_on, st.lang)
        action = labels.value("duplicate_action", d.action, st.lang)
        err_console.print(
            st.t(
                f"{d.line}行目: 重複（{on}）→ {target}: {action}",
                f"line {d.line}: duplicate ({on}) of {target}: {action}",
            ),
            markup=False,
        )
    if report.errors:
        err_console.print(st.t("不正な行の内訳:", "refused lines by reason:"), markup=False)
        for _code, text, lines in report.summary(st.lang):
            err_console.print(st.t(f"  {text}: {lines}行", f"  {text}: {lines} line(s)"), markup=False)
        if errors_out is not None:
            err_console.print(
                st.t(
                    f"不正な行の一覧を書き出しました: {errors_out}", f"refused lines written to {errors_out}"
                ),
                markup=False,
            )
    bad = len({e.line for e in report.errors})
    if report.dry_run:
        console.print(
            st.t(
                f"検証のみ（何も書き込んでいません）: 全{report.total}行、新規 {report.created}人、統合 {report.merged}人、"
                f"重複 {len(report.duplicates)}件、承認待ち {report.pending}件、不正 {bad}行",
                f"dry run (nothing written): {report.total} lines, {report.created} would be created, "
                f"{report.merged} merged, {len(report.duplicates)} duplicates, {report.pending} held for approval, "
                f"{bad} bad lines",
            ),
            markup=False,
        )
    elif not report.written:
        err_console.print(
            st.t(
                f"エラー (import_rejected): {bad}行が不正なため何も書き込んでいません"
                "（--skip-bad-rows で不正行を除いて取り込めます）。",
                f"error (import_rejected): {bad} bad lines; nothing was written "
                "(use --skip-bad-rows to import the rest).",
            ),
            markup=False,
        )
    else:
        console.print(
            st.t(
                f"取り込み完了: 新規 {report.created}人、統合 {report.merged}人、重複 {len(report.duplicates)}件、"
                f"承認待ち {report.pending}件、不正行スキップ {report.skipped_bad}件"
                + (f"（{report.resumed_from_line}行目から再開）" if report.resumed_from_line else ""),
                f"imported: {report.created} created, {report.merged} merged, {len(report.duplicates)} duplicates, "
                f"{report.pending} held for approval, {report.skipped_bad} bad lines skipped"
                + (f" (resumed after line {report.resumed_from_line})" if report.resumed_from_line else ""),
            ),
            markup=False,
        )
        if report.pending:
            console.print(
                st.t(
                    "承認待ちの行は個人情報保護管理者が確認します（mamori customers pending list）。",
                    "Held lines wait for the privacy officer (mamori customers pending list).",
                ),
                markup=False,
            )


def _notice_label(st: CliState, n: schemas.PurposeNoticeRead) -> str:
    """contract 第1版（通知、第2版の通知待ち） / contract v2 (notice exception: Purpose obvious …)."""
    lang = st.lang
    how = labels.value("notice_method", n.method, lang)
    if n.method == "exception":
        how += f": {labels.value('notice_exception_ground', n.exception_ground, lang, staff=True)}"
    if lang == "en":
        behind = f"; v{n.current_version} pending" if n.pending else ""
        return f"{n.purpose} v{n.version} ({how}{behind})"
    behind = f"、第{n.current_version}版の通知待ち" if n.pending else ""
    return f"{n.purpose} 第{n.version}版（{how}{behind}）"


# The purpose-notice commands (notify, pending-notice, notice-exception) live in their own module.
from mamori.customers.cli import accuracy as _accuracy  # noqa: E402, F401  (issue 21: confirmations)
from mamori.customers.cli import mappings as _mappings  # noqa: E402, F401  (issue 19: saved import mappings)
from mamori.customers.cli import notices as _notices  # noqa: E402, F401
from mamori.customers.cli import ownership as _ownership  # noqa: E402, F401  (issue 21: owner changes)
from mamori.customers.cli import pending as _pending  # noqa: E402, F401  (issue 19: rows held for approval)
from mamori.customers.cli import relationship as _relationship  # noqa: E402, F401  (issue 21: end of relationship)
