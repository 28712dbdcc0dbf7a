"""Golden tests of the 通知書 (disclosure letter) a company sends: HTML and PDF, walked through `mamori rights`.

Each letter is checked for its key lines (title, 宛名, 差出人, 受付番号, dates in 年月日, 記 … 以上) and by one shared
checker, :func:`assert_customer_text`, that fails on what a privacy officer would strike: an English key or a raw
enum code, a Python repr, a rule id, an ISO or UTC timestamp, an internal 32-hex id, a missing sender.
"""

from __future__ import annotations

import html as html_lib
import io
import json
import re
from datetime import UTC, date, datetime

import pytest
from pypdf import PdfReader

from mamori.kernel import labels
from mamori.kernel.clock import JST
from mamori.kernel.context import SYSTEM_ACTOR
from mamori.kernel.errors import ConfigurationError
from mamori.kernel.runtime import open_runtime
from mamori.kernel.settings import Settings, get_settings
from mamori.rights.grounds import GROUNDS
from mamori.rights.schemas import DisclosurePackage, RecordOut
from mamori.rights.service import render
from mamori.staff import service as staff_service
from tests.factories import demo_cli, make_customer

OPERATOR = {
    "MAMORI_OPERATOR_NAME": "株式会社まもり商事",
    "MAMORI_OPERATOR_ADDRESS": "東京都千代田区丸の内一丁目1番1号",
    "MAMORI_OPERATOR_REPRESENTATIVE": "代表取締役 山本 一郎",
    "MAMORI_PRIVACY_CONTACT": "お客様相談室 個人情報窓口（0120-000-000、平日9時〜17時）",
}
SENDER = OPERATOR["MAMORI_OPERATOR_NAME"]
EMAIL = "kenta.mori@example.jp"
RECEIPT = re.compile(r"R-\d{4}-\d{6}")

# -- the shared checker --------------------------------------------------------------------------------------------

_RAW_CODES = (
    "male|female|unknown|stated|notified|published|direct|third_party|web_form|granted|withdrawn|checkbox|"
    "purpose_notice|provision_records|stop_use|stop_provision|erasure|correction|disclosure|appi|gdpr|"
    "business_hindrance|harm_to_person|other_law|not_justified|alternative_measure|None|null|True|False"
)
_ENGLISH_KEY = {
    "ja": re.compile(
        r"(?<![\w@.+/-])[a-z]+(?:_[a-z]+)*: "
    ),  # birth_date: / gender: — no English key in Japanese
    "en": re.compile(
        r"(?<![\w@.+/-])[a-z]+(?:_[a-z]+)+: "
    ),  # English prose has "code: ", never "birth_date: "
}
_FORBIDDEN = (
    (re.compile(r"""[\[{]['"]|['"][\]}]"""), "a Python repr"),
    (re.compile(r"\b(?:R-R?\d+(?:\.\d+)?-\d+|G-\d+)\b"), "a rule id"),
    (re.compile(r"\d{4}-\d{2}-\d{2}"), "an ISO date"),
    (re.compile(r"\+00:00|\d{2}:\d{2}:\d{2}\.\d+|\bUTC\b|\d{2}:\d{2}Z"), "a UTC time or microseconds"),
    (re.compile(r"\b[0-9a-f]{32}\b"), "an internal id"),
)
_RAW = re.compile(rf"(?<![\w@.-])(?:{_RAW_CODES})(?![\w@.-])")


def assert_customer_text(text: str, *, sender: str = SENDER, lang: str = "ja") -> None:
    """Fails on an English key or raw enum code, a repr, a rule id, an ISO / UTC timestamp, an internal id, or
    a text that does not name its sender. A receipt number (R-2026-000123) is not a rule id."""
    assert sender in text, f"the sender {sender!r} is not named"
    scrubbed = RECEIPT.sub("〔受付番号〕", text)
    for rx, what in ((_ENGLISH_KEY[lang], "an English key"), *_FORBIDDEN):
        found = rx.search(scrubbed)
        assert found is None, f"{what} in customer text: {found.group(0)!r}"
    if lang == "ja":
        found = _RAW.search(scrubbed)
        assert found is None, f"a raw code in customer text: {found.group(0)!r}"


def assert_refusal(text: str, ground: str, explanation: str, lang: str = "ja") -> None:
    """A refusal carries the ground's plain reason and the concrete explanation (法第36条)."""
    assert GROUNDS[ground].reason(lang) in text, "the refusal does not give its reason"
    assert explanation in text, "the refusal does not give the concrete explanation"


def html_text(doc: str) -> str:
    """The text a reader sees on the page: no head, no tags, entities decoded."""
    doc = re.sub(r"<head>.*?</head>", "", doc, flags=re.S)  # the browser tab title, the style sheet
    doc = re.sub(r"<br\s*/?>", "\n", doc)
    doc = re.sub(r"</(p|tr|h\d|div|title|table)>", "\n", doc)
    doc = re.sub(r"</t[hd]>", "　", doc)
    return html_lib.unescape(re.sub(r"<[^>]+>", "", doc))


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_checker_fails_on_what_a_privacy_officer_would_strike():
    good = f"{SENDER}\n受付番号 R-2026-000123\n生年月日：1985年1月2日（昭和60年）\n性別：男性"
    assert_customer_text(good)
    for bad in (
        "birth_date: 1938-08-19",
        "性別：male",
        "gender: male",
        "method: stated",
        "項目：['email', 'name']",
        "{'name': '森 健太'}",
        "根拠: R-33-2",
        "根拠: G-17",
        "日時：2026-12-06T07:00:00.123456+00:00",
        "受付番号 3f2c9a0b1d4e5f60718293a4b5c6d7e8",
    ):
        with pytest.raises(AssertionError):
            assert_customer_text(f"{SENDER}\n{bad}")
    with pytest.raises(AssertionError, match="sender"):
        assert_customer_text("受付番号 R-2026-000123")
    with pytest.raises(AssertionError, match="reason"):
        assert_refusal("ご請求には応じられません。", "business_hindrance", "具体的な事情")


# -- walking requests through the CLI ------------------------------------------------------------------------------


def operator_cli(tmp_path, monkeypatch):
    """The demo store with the operator configured (MAMORI_OPERATOR_*): ``yield from`` in a fixture."""
    for name, value in OPERATOR.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("MAMORI_PDF_FONT", raising=False)
    yield from demo_cli(tmp_path, monkeypatch)


def add_person() -> str:
    """森 健太, born 1985-01-02, male, with EMAIL: the person who makes the requests."""
    rt = open_runtime(get_settings())
    try:
        with rt.transaction(SYSTEM_ACTOR, readonly=True) as s:
            po = staff_service.actor_for(s, "hoshino")
        return make_customer(rt, po, name="森 健太", kana="モリ ケンタ", email=EMAIL, phone="090-5555-6666")
    finally:
        rt.close()


@pytest.fixture
def cli(tmp_path, monkeypatch):
    yield from operator_cli(tmp_path, monkeypatch)


@pytest.fixture
def person(cli) -> str:
    return add_person()


def ok(result) -> dict:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def outbox(tmp_path) -> list[dict]:
    d = tmp_path / "home" / "outbox"
    return [
        json.loads(p.read_text(encoding="utf-8"))
        for p in sorted(d.glob("*.json"), key=lambda p: p.stat().st_mtime_ns)
    ]


def opened(cli, tmp_path, kind: str, *options: str) -> dict:
    """Staff take the request by phone, send the code and enter the code the person reads out."""
    v = ok(cli("--as", "takahashi", "rights", "open", kind, "--email", EMAIL, *options, "--json"))
    ident = v["identifiers"][0]["id"]
    ok(cli("--as", "takahashi", "rights", "send-code", v["id"], ident, "--json"))
    code = re.search(r"コード: (\d{6})", outbox(tmp_path)[-1]["body"]).group(1)
    ok(
        cli(
            "--as",
            "takahashi",
            "rights",
            "verify",
            v["id"],
            "--method",
            "email_code",
            "--identifier",
            ident,
            "--code",
            code,
            "--json",
        )
    )
    return v


def letter(cli, tmp_path, v: dict, fmt: str, *options: str) -> bytes:
    out = tmp_path / f"{v['receipt_no']}.{fmt}"
    ok(
        cli(
            "--as",
            "hoshino",
            "rights",
            "fulfil",
            v["id"],
            "--out",
            str(out),
            "--format",
            fmt,
            *options,
            "--json",
        )
    )
    return out.read_bytes()


def received_on(v: dict) -> str:
    return labels.fmt_date(datetime.fromisoformat(v["received_at"]))


def today() -> str:
    return labels.fmt_date(datetime.now(UTC))


def assert_letter_frame(text: str, v: dict, title: str) -> None:
    """What every 通知書 carries, in order: date, 宛名, 差出人, 受付番号, title, 記 … 以上, 窓口."""
    assert RECEIPT.fullmatch(v["receipt_no"])
    for line in (today(), *OPERATOR.values(), v["receipt_no"], title, "記", "以上"):
        assert line in text, line
    assert text.index(today()) < text.index(SENDER) < text.index(v["receipt_no"]) < text.index(title)
    assert re.search(r"^\s*記\s*$", text, re.M) and text.rstrip().endswith("以上")
    assert_customer_text(text)


def test_disclosure_letter_html_golden_R_33_1(cli, person, tmp_path):
    v = opened(cli, tmp_path, "disclosure")
    ok(cli("--as", "hoshino", "rights", "fee", v["id"], "--yen", "1200", "--json"))
    page = letter(cli, tmp_path, v, "html").decode()
    text = html_text(page)
    assert_letter_frame(text, v, "保有個人データ開示のお知らせ")
    assert "森 健太 様" in text and "一部開示" not in text and "存在しない" not in text
    assert f"受付番号：{v['receipt_no']}" in text
    assert (
        f"{received_on(v)}付けでご請求のありました保有個人データの開示について、下記のとおり回答いたします。"
        in text
    )
    # 記: the answer item by item, with the dictionary's field labels and values in words
    for item in (
        "基本情報",
        "氏名　森 健太",
        "生年月日　1985年1月2日（昭和60年）",
        "性別　男性",
        "連絡先",
        "種別　メールアドレス",
        f"連絡先　{EMAIL}",
        "取得元",
        "本人から直接取得",
        "通知した利用目的",
    ):
        assert item in text, item
    assert "電磁的記録の提供（HTMLファイル）（個人情報の保護に関する法律第33条第1項）" in text
    assert "1,200円（個人情報の保護に関する法律第38条）" in text
    assert OPERATOR["MAMORI_PRIVACY_CONTACT"] in text
    assert "border: 1px solid" in page  # ruled tables when printed from the browser


def test_disclosure_letter_pdf_embeds_the_japanese_font_and_draws_table_borders(cli, person, tmp_path):
    v = opened(cli, tmp_path, "disclosure")
    data = letter(cli, tmp_path, v, "pdf")
    assert data.startswith(b"%PDF")
    text = pdf_text(data)
    assert_letter_frame(text, v, "保有個人データ開示のお知らせ")
    for item in ("森 健太 様", "1985年1月2日（昭和60年）", "男性", "電磁的記録の提供（PDFファイル）", "無料"):
        assert item in text, item
    page = PdfReader(io.BytesIO(data)).pages[0]
    fonts = [f.get_object() for f in page["/Resources"]["/Font"].values()]
    embedded = [f for f in fonts if "IPAex" in str(f["/BaseFont"])]
    assert embedded and all("/FontFile2" in f["/FontDescriptor"] for f in embedded)  # the TTF is in the PDF
    stream = page.get_contents().get_data()
    assert re.search(rb"[\d.]+ [\d.]+ m\s+[\d.]+ [\d.]+ l", stream)  # GRID: the table borders are drawn


def test_partial_disclosure_letter_gives_each_refused_part_its_reason_R_33_2(cli, person, tmp_path):
    v = opened(cli, tmp_path, "disclosure")
    why = "取得元の記録には提携先との契約条件が含まれ、開示すると当該契約の履行に著しい支障が生じるためです。"
    part = ("--refuse-part", "customers:provenance=business_hindrance", "--explanation", why)
    text = html_text(letter(cli, tmp_path, v, "html", *part).decode())
    assert_letter_frame(text, v, "保有個人データ一部開示のお知らせ")
    assert "保有個人データ開示のお知らせ" not in text
    assert "開示しない部分とその理由" in text
    assert_refusal(text, "business_hindrance", why)
    assert "個人情報の保護に関する法律第33条第2項第2号" in text


def test_no_data_letter_has_its_own_title_and_a_neutral_addressee(cli, person, tmp_path):
    v = opened(cli, tmp_path, "disclosure", "--category", "customers:activity")
    text = html_text(letter(cli, tmp_path, v, "html").decode())
    assert_letter_frame(text, v, "保有個人データが存在しない旨のお知らせ")
    assert "ご請求者 様" in text and "開示のお知らせ" not in text
    assert "当社がお客様について保有している保有個人データはありません" in text
    assert (
        f"{received_on(v)}付けでご請求のありました保有個人データの開示について、下記のとおりお知らせいたします。"
        in text
    )
    text = pdf_text(
        letter(cli, tmp_path, opened(cli, tmp_path, "disclosure", "--category", "customers:activity"), "pdf")
    )
    assert "保有個人データが存在しない旨のお知らせ" in text and "以上" in text


def test_provision_records_and_purpose_notice_letters_have_their_own_titles_R_33_3_R_32_2(
    cli, person, tmp_path
):
    v = opened(cli, tmp_path, "provision_records")
    text = html_text(letter(cli, tmp_path, v, "html").decode())
    assert_letter_frame(text, v, "第三者提供記録が存在しない旨のお知らせ")
    assert "第三者提供記録の開示について" in text and "個人情報の保護に関する法律第33条第5項" in text
    v = opened(cli, tmp_path, "purpose_notice")
    text = html_text(letter(cli, tmp_path, v, "html").decode())
    assert_letter_frame(text, v, "保有個人データの利用目的のお知らせ")
    assert "新商品・キャンペーンのメールでのご案内" in text or "メールでのご案内" in text
    assert "開示の方法" not in text and "個人情報の保護に関する法律第32条" in text


def test_gdpr_letter_speaks_the_regulations_words_G_15(cli, person, tmp_path):
    v = opened(cli, tmp_path, "disclosure", "--regime", "gdpr")
    text = html_text(letter(cli, tmp_path, v, "html").decode())
    assert_letter_frame(text, v, "個人データ開示のお知らせ")
    assert f"{received_on(v)}付けでご請求のありました個人データへのアクセス（開示）について" in text
    assert "保有個人データ" not in text  # the Act's term is not the Regulation's
    assert "（GDPR第15条）" in text and "無料（GDPR第12条第5項）" in text


def test_json_and_csv_stay_machine_readable_G_20(cli, person, tmp_path):
    v = opened(cli, tmp_path, "disclosure")
    package = json.loads(letter(cli, tmp_path, v, "json"))
    assert package["receipt_no"] == v["receipt_no"] and package["received_at"]
    profile = next(r for r in package["records"] if r["category"] == "profile")
    assert profile["data"]["birth_date"] == "1985-01-02" and profile["data"]["gender"] == "male"  # codes kept
    v = opened(cli, tmp_path, "disclosure")
    rows = letter(cli, tmp_path, v, "csv").decode("utf-8-sig").splitlines()
    assert rows[0] == "source,category,record_id,field,value,acquired_from,purposes,occurred_at"


# -- receipt numbers -------------------------------------------------------------------------------------------


def test_receipt_numbers_are_readable_sequential_per_year_and_accepted_by_show(cli, person, tmp_path):
    first = ok(cli("--as", "takahashi", "rights", "open", "disclosure", "--email", EMAIL, "--json"))
    second = ok(cli("--as", "takahashi", "rights", "open", "erasure", "--email", EMAIL, "--json"))
    year = datetime.fromisoformat(first["received_at"]).astimezone(JST).year
    assert first["receipt_no"] == f"R-{year}-000001" and second["receipt_no"] == f"R-{year}-000002"
    shown = ok(cli("--as", "hoshino", "rights", "show", second["receipt_no"], "--json"))
    assert shown["id"] == second["id"] and shown["receipt_no"] == second["receipt_no"]
    # the year is the year of receipt in Japan: a letter that arrived on 1 January (JST) belongs to the new year
    from mamori.rights import service
    from mamori.rights.schemas import RequestOpen

    rt = open_runtime(get_settings())
    try:
        with rt.transaction(SYSTEM_ACTOR, readonly=True) as s:
            staff = staff_service.actor_for(s, "takahashi")
        with rt.transaction(staff) as ctx:
            old = service.open_request(
                ctx,
                RequestOpen(
                    kind="disclosure", channel="letter", received_at=datetime(2025, 12, 31, 14, 0, tzinfo=UTC)
                ),
            )
            new_year = service.open_request(
                ctx,
                RequestOpen(
                    kind="disclosure",
                    channel="letter",
                    received_at=datetime(2025, 12, 31, 15, 30, tzinfo=UTC),
                ),
            )
    finally:
        rt.close()
    assert old.receipt_no == "R-2025-000001"
    assert new_year.receipt_no == f"R-2026-{(3 if year == 2026 else 1):06d}"


def test_migration_0013_numbers_existing_requests_in_order_of_receipt(empty_db_url):
    import sqlalchemy as sa
    from alembic import command

    from mamori.kernel.db import make_engine
    from mamori.kernel.runtime import alembic_config

    engine = make_engine(empty_db_url("receipts"))
    cfg = alembic_config(engine)
    command.upgrade(cfg, "0012")
    rows = [
        ("a" * 32, datetime(2026, 3, 1, 1, 0)),
        ("b" * 32, datetime(2025, 12, 31, 16, 0)),  # 2026-01-01 01:00 JST
        ("c" * 32, datetime(2025, 6, 1, 1, 0)),
    ]
    with engine.begin() as conn:
        for rid, at in rows:
            conn.execute(
                sa.text(
                    "INSERT INTO rights_requests (id, kind, regime, regime_source, channel, status, received_at,"
                    " due_on, withheld_count, created_by) VALUES (:id, 'disclosure', 'appi', 'default', 'phone',"
                    " 'received', :at, :due, 0, 'staff:x')"
                ),
                {"id": rid, "at": at.replace(tzinfo=UTC), "due": date(2026, 3, 15)},
            )
    command.upgrade(cfg, "head")
    with engine.connect() as conn:
        got = dict(conn.execute(sa.text("SELECT id, receipt_no FROM rights_requests")).all())
        langs = {r[0] for r in conn.execute(sa.text("SELECT lang FROM rights_requests")).all()}
    assert got == {"c" * 32: "R-2025-000001", "b" * 32: "R-2026-000001", "a" * 32: "R-2026-000002"}
    assert langs == {"ja"}
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:  # unique
        conn.execute(sa.text("UPDATE rights_requests SET receipt_no = 'R-2025-000001'"))
    command.downgrade(cfg, "0012")
    with engine.connect() as conn:
        cols = {c["name"] for c in sa.inspect(conn).get_columns("rights_requests")}
    assert "receipt_no" not in cols and "lang" not in cols
    engine.dispose()


# -- settings, overrides, fonts ------------------------------------------------------------------------------------


def _package(**fields) -> DisclosurePackage:
    values = dict(
        request_id="0" * 32,
        kind="disclosure",
        regime="appi",
        rule_ids=["R-33-1"],
        generated_at=datetime(2026, 12, 6, 7, 0, 0, 123456, tzinfo=UTC),
        subject_ids=["1" * 32],
        purposes=[],
        records=[
            RecordOut(
                source="customers",
                category="profile",
                record_id="1" * 32,
                data={"name": "森 健太", "birth_date": "1938-08-19", "gender": "male"},
                occurred_at=datetime(2026, 11, 30, 1, 2, 3, 456789, tzinfo=UTC),
            ),
            RecordOut(
                source="provision",
                category="provision_record",
                record_id="2" * 32,
                data={
                    "items": ["email", "name"],
                    "subject": {"name": "森 健太"},
                    "first_at": "2026-11-01T00:00:00Z",
                },
            ),
        ],
        recipients=[],
        receipt_no="R-2026-000123",
        received_at=datetime(2026, 11, 30, 1, 0, tzinfo=UTC),
    )
    values.update(fields)
    return DisclosurePackage(**values)


def test_letter_without_operator_settings_shows_placeholders_and_with_them_the_sender(tmp_path):
    bare = html_text(
        render.render(_package(), "html", date(2026, 12, 6), settings=Settings(home=tmp_path)).decode()
    )
    assert "（事業者名未設定）" in bare and "（お問い合わせ窓口未設定）" in bare  # no ConfigurationError
    settings = Settings(
        home=tmp_path,
        operator_name=SENDER,
        operator_address=OPERATOR["MAMORI_OPERATOR_ADDRESS"],
        operator_representative=OPERATOR["MAMORI_OPERATOR_REPRESENTATIVE"],
        privacy_contact=OPERATOR["MAMORI_PRIVACY_CONTACT"],
    )
    text = html_text(render.render(_package(), "html", date(2026, 12, 6), settings=settings).decode())
    for value in OPERATOR.values():
        assert value in text
    assert (
        "2026年12月6日" in text
        and "2026年11月30日付けでご請求のありました保有個人データの開示について" in text
    )
    # the values a data dump would show raw: 和暦, words, 「、」 lists, 「項目：値」 mappings, JST without seconds
    for item in (
        "1938年8月19日（昭和13年）",
        "男性",
        "メールアドレス、氏名",
        "氏名：森 健太",
        "2026年11月30日 10:02（日本時間）",
        "2026年11月1日 09:00（日本時間）",
    ):
        assert item in text, item
    assert_customer_text(text)
    paper = html_text(
        render.render(_package(), "html", date(2026, 12, 6), settings=settings, method="paper").decode()
    )
    assert "書面の交付" in paper


def test_a_letter_in_english_when_the_request_was_made_in_english(tmp_path):
    settings = Settings(
        home=tmp_path, operator_name=SENDER, privacy_contact=OPERATOR["MAMORI_PRIVACY_CONTACT"]
    )
    for fmt, read in (("html", lambda b: html_text(b.decode())), ("pdf", pdf_text)):
        text = read(render.render(_package(), fmt, date(2026, 12, 6), settings=settings, lang="en"))
        for line in (
            "6 Dec 2026",
            "To: 森 健太",
            "Receipt number: R-2026-000123",
            "Disclosure of your retained personal data",
            "We answer your request for disclosure of your retained personal data received on 30 Nov 2026.",
            "19 Aug 1938",
            "Male",
            "Fee",
            "free (Art. 38 of the Act on the Protection of Personal Information)",
            "End of notice",
        ):
            assert line in text, (fmt, line)
        assert_customer_text(text, lang="en")
        rest = text.replace("森 健太", "").replace(SENDER, "").replace(OPERATOR["MAMORI_PRIVACY_CONTACT"], "")
        assert not re.search(r"[ぁ-んァ-ン]", rest), (fmt, rest)


def test_an_operator_overrides_a_template_under_mamori_home(tmp_path):
    settings = Settings(home=tmp_path, operator_name=SENDER)
    own = tmp_path / "templates" / "rights"
    own.mkdir(parents=True)
    (own / "letter.html.j2").write_text(
        "<p>当社書式 {{ title }} {{ receipt_no }} {{ sender.name }}</p>", encoding="utf-8"
    )
    out = render.render(_package(), "html", date(2026, 12, 6), settings=settings).decode()
    assert out == f"<p>当社書式 保有個人データ開示のお知らせ R-2026-000123 {SENDER}</p>"
    # another home without an override gets the shipped letter
    shipped = render.render(
        _package(), "html", date(2026, 12, 6), settings=Settings(home=tmp_path / "x")
    ).decode()
    assert "当社書式" not in shipped and "以上" in shipped


def test_pdf_without_a_japanese_font_is_a_configuration_error(tmp_path, monkeypatch):
    monkeypatch.delenv("MAMORI_PDF_FONT", raising=False)
    monkeypatch.setattr(render, "PDF_FONT_PATHS", ())
    with pytest.raises(ConfigurationError) as missing:
        render.render(_package(), "pdf", date(2026, 12, 6), settings=Settings(home=tmp_path))
    assert "fonts-ipaexfont-mincho" in missing.value.message_ja
    monkeypatch.setenv("MAMORI_PDF_FONT", str(tmp_path / "nofont.ttf"))
    with pytest.raises(ConfigurationError):
        render.render(_package(), "pdf", date(2026, 12, 6), settings=Settings(home=tmp_path))
