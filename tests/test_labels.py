"""The one label dictionary (kernel/labels) and its use by the staff CLI (issue 14, deliverable 1).

- every key of every data file has both languages, and the Japanese is a word, not the code;
- a key defined in two files is a load error;
- ``value(..., staff=True)`` is 「開示（disclosure）」; the formats (dates, 和暦 birth dates, JST times, 円);
- a sweep of the main list / show commands of each slice on a demo store: in Japanese no raw enum code stands alone
  in a table cell or a line, no ISO timestamp or ``+00:00`` is printed; in English the headers are English;
- ``customers add / import`` take the purposes notified at collection as ``--notified-purpose`` (``-p`` /
  ``--purpose`` means the purpose of this use everywhere; the old spelling still works).
"""

from __future__ import annotations

import json
import re
import tomllib
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from mamori.kernel import labels
from mamori.kernel.cli_support import console
from tests.factories import demo_cli

DATA = Path(labels.__file__).resolve().parent / "data"


# -- the dictionary ------------------------------------------------------------------------------------------------


def _entries() -> list[tuple[str, str, str, dict[str, object]]]:
    out = []
    for path in sorted(DATA.glob("*.toml")):
        with path.open("rb") as fh:
            doc = tomllib.load(fh)
        for domain, entries in doc.items():
            assert isinstance(entries, dict), f"{path.name}: [{domain}] is not a table"
            for code, words in entries.items():
                out.append((path.name, domain, code, words))
    return out


def test_the_area_label_files_exist():
    names = {p.name for p in DATA.glob("*.toml")}
    assert {
        "staff.toml",
        "purposes.toml",
        "customers.toml",
        "consent.toml",
        "provision.toml",
        "processors.toml",
        "deid.toml",
        "inventory.toml",
    } <= names


def test_every_key_has_japanese_and_english_and_the_japanese_is_not_the_code():
    entries = _entries()
    assert len(entries) > 300
    bad = []
    for file, domain, code, words in entries:
        assert isinstance(words, dict), f"{file}: {domain}.{code}"
        ja, en = str(words.get("ja", "")).strip(), str(words.get("en", "")).strip()
        if not ja or not en or ja == code or set(words) - {"ja", "en"}:
            bad.append(f"{file}: {domain}.{code} = {words!r}")
    assert not bad, "\n".join(bad)


def test_the_dictionary_loads_and_knows_every_area():
    labels.table.cache_clear()
    table = labels.table()
    for key in (
        "role.privacy_officer",
        "staff_field.mfa",
        "data_category.sensitive",
        "lawful_basis.legitimate_interests",
        "consent_state.granted",
        "dnc_channel.phone",
        "activity_kind.purchase",
        "notice_method.stated",
        "counterparty_kind.joint_user",
        "provision_basis.opt_out",
        "contract_status.suspended",
        "audit_result.failed",
        "dataset_kind.anonymised",
        "location_kind.cloud",
        "country.US",
        "audit_decision.deny",
    ):
        assert key in table, key


@pytest.fixture
def label_dir(tmp_path, monkeypatch):
    """The dictionary read from a scratch data directory (restored, and the cache cleared, afterwards)."""
    monkeypatch.setattr(labels, "_DATA", tmp_path)
    labels.table.cache_clear()
    yield tmp_path
    labels.table.cache_clear()


def test_a_key_defined_in_two_files_fails_to_load(label_dir):
    (label_dir / "a.toml").write_text('[role]\nclerk = { ja = "事務員", en = "Clerk" }\n', encoding="utf-8")
    (label_dir / "b.toml").write_text('[role]\nclerk = { ja = "事務担当", en = "Clerk" }\n', encoding="utf-8")
    with pytest.raises(labels.LabelError, match=r"role\.clerk is defined in a\.toml and b\.toml"):
        labels.table()


def test_the_same_domain_in_two_files_with_different_keys_loads(label_dir):
    (label_dir / "a.toml").write_text('[role]\nclerk = { ja = "事務員", en = "Clerk" }\n', encoding="utf-8")
    (label_dir / "b.toml").write_text('[role]\nguard = { ja = "警備員", en = "Guard" }\n', encoding="utf-8")
    assert labels.value("role", "guard") == "警備員"
    assert labels.value("role", "clerk", "en") == "Clerk"


def test_a_label_that_is_not_a_table_fails_to_load(label_dir):
    (label_dir / "a.toml").write_text('[role]\nclerk = "事務員"\n', encoding="utf-8")
    with pytest.raises(labels.LabelError):
        labels.table()


def test_value_gives_the_word_and_in_staff_tables_the_code_beside_it():
    assert labels.value("role", "privacy_officer") == "個人情報保護管理者"
    assert (
        labels.value("role", "privacy_officer", "ja", staff=True) == "個人情報保護管理者（privacy_officer）"
    )
    # in English the code follows only when it is not the word itself
    assert labels.value("role", "privacy_officer", "en", staff=True) == "Privacy officer"
    assert labels.value("role", "sales", "en", staff=True) == "Sales rep (sales)"
    assert labels.value("kind", "disclosure", staff=True) == "開示（disclosure）"
    assert labels.value("provision_basis", "consent") == "本人の同意"
    assert labels.value("consent_state", "withdrawn") == "撤回済み"
    assert labels.value("yesno", "yes") == "はい" and labels.label("yesno.no") == "いいえ"
    assert labels.value("role", None) == "—"
    assert labels.value("role", "nobody") == "nobody"  # unknown: never a crash
    assert labels.values("data_category", ["identifier", "contact"]) == "識別情報、連絡先"
    assert labels.values("data_category", ["identifier", "contact"], "en") == "Identifiers, Contact details"


def test_choices_name_each_code_with_its_word():
    assert labels.choices("audit_result", ("passed", "failed")) == "passed（合格）、failed（不合格）"
    assert labels.choices("audit_result", ("passed", "failed"), "en") == "passed, failed"


# -- formats -------------------------------------------------------------------------------------------------------


def test_fmt_date():
    assert labels.fmt_date(date(2026, 12, 6)) == "2026年12月6日"
    assert labels.fmt_date(date(2026, 12, 6), "en") == "6 Dec 2026"
    assert labels.fmt_date(None) == "—"
    # a datetime is taken to its JST day: 20:00 UTC on the 6th is the 7th in Japan
    assert labels.fmt_date(datetime(2026, 12, 6, 20, 0, tzinfo=UTC)) == "2026年12月7日"


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(1985, 1, 5), "1985年1月5日（昭和60年）"),
        (date(2019, 5, 1), "2019年5月1日（令和元年）"),
        (date(2019, 4, 30), "2019年4月30日（平成31年）"),
        (date(2020, 1, 1), "2020年1月1日（令和2年）"),
        (date(1989, 1, 7), "1989年1月7日（昭和64年）"),
        (date(1989, 1, 8), "1989年1月8日（平成元年）"),
        (date(1926, 12, 25), "1926年12月25日（昭和元年）"),
        (date(1926, 12, 24), "1926年12月24日（大正15年）"),
    ],
)
def test_fmt_birth_date_adds_the_japanese_era(day, expected):
    assert labels.fmt_birth_date(day) == expected


def test_fmt_birth_date_in_english_is_the_plain_date():
    assert labels.fmt_birth_date(date(2019, 5, 1), "en") == "1 May 2019"
    assert labels.fmt_birth_date(None) == "—"


def test_fmt_datetime_converts_utc_to_jst_and_names_the_zone():
    at = datetime(2026, 12, 6, 7, 5, 9, 123456, tzinfo=UTC)
    assert labels.fmt_datetime(at) == "2026年12月6日 16:05（日本時間）"
    assert labels.fmt_datetime(at, seconds=True) == "2026年12月6日 16:05:09（日本時間）"
    assert labels.fmt_datetime(at, "en") == "6 Dec 2026 16:05 JST"
    late = datetime(2026, 12, 31, 15, 30, tzinfo=UTC)  # New Year's Day in Japan
    assert labels.fmt_datetime(late) == "2027年1月1日 00:30（日本時間）"
    assert "+00:00" not in labels.fmt_datetime(at) and "T" not in labels.fmt_datetime(at)
    assert labels.fmt_datetime(None) == "—"


def test_fmt_yen_and_counts():
    assert labels.fmt_yen(12345) == "12,345円"
    assert labels.fmt_yen(12345, "en") == "JPY 12,345"
    assert labels.fmt_yen(0) == "無料"
    assert labels.fmt_count(3, "件") == "3件"
    assert labels.fmt_count(1200, "人") == "1,200人"
    assert labels.fmt_count(1, "人", "en") == "1 person" and labels.fmt_count(2, "人", "en") == "2 people"


# -- the staff CLI speaks the dictionary ---------------------------------------------------------------------------

# Codes that must never stand alone in what a person reads (「同意（consent）」 in a staff table is allowed).
RAW_CODES = (
    "privacy_officer",
    "granted",
    "withdrawn",
    "appi",
    "gdpr",
    "received",
    "closed",
    "consent",
    "opt_out",
    "joint_use",
    "stated",
    "True",
    "False",
    "None",
)
ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}|\+00:00|\d{2}:\d{2}:\d{2}\.\d+")
ISO_DATE = re.compile(r"(?<![\w-])\d{4}-\d{2}-\d{2}(?![\w-])")


@pytest.fixture
def run(tmp_path, monkeypatch):
    # a wide console: one table row per line, so each cell can be read whole
    monkeypatch.setattr(console, "_width", 400)
    yield from demo_cli(tmp_path, monkeypatch, customers=3)


def _ok(result) -> str:
    assert result.exit_code == 0, result.output
    return result.stdout


def _cells(text: str) -> list[str]:
    cells = []
    for line in text.splitlines():
        if "│" in line or "┃" in line:
            cells += [c.strip() for c in re.split(r"[│┃]", line) if c.strip()]
    return cells


def _codes_alone(text: str) -> list[str]:
    """Raw codes outside brackets: 「同意（consent）」 and "Consent (consent)" are fine, "consent" is not."""
    stripped = re.sub(r"（[^（）]*）|\([^()]*\)", "", text)
    found = []
    for code in RAW_CODES:
        # part of a dotted identifier (the audit log's action names, e.g. consent.granted) is not the code alone
        if re.search(rf"(?<![\w\-@.:]){re.escape(code)}(?![\w\-]|\.\w)", stripped):
            found.append(code)
    return found


def _setup(run) -> dict[str, str]:
    """Data in every slice the sweep reads: consent events, a foreign counterparty, a contract, an audit, a token."""
    listed = json.loads(_ok(run("--as", "hoshino", "customers", "list", "-p", "contract", "--json")))
    cid = listed["items"][0]["id"]
    _ok(run("--as", "hoshino", "consent", "grant", cid, "-p", "marketing-email", "--method", "checkbox"))
    _ok(run("--as", "hoshino", "consent", "withdraw", cid, "-p", "marketing-email"))
    _ok(run("--as", "hoshino", "consent", "dnc", cid, "--channel", "phone"))
    cp = json.loads(
        _ok(
            run(
                "--as",
                "hoshino",
                "provision",
                "counterparties",
                "add",
                "--kind",
                "outsourcee",
                "--name",
                "Example Mail Inc.",
                "--address",
                "1 Main St, Seattle",
                "--representative",
                "Jane Doe",
                "--country",
                "US",
                "--json",
            )
        )
    )["id"]
    contract = json.loads(
        _ok(
            run(
                "--as",
                "hoshino",
                "processors",
                "contracts",
                "add",
                "--counterparty",
                cp,
                "--work",
                "メール配信",
                "--purposes",
                "contract",
                "--fields",
                "name,postal_code,address",
                "--starts",
                "2026-01-01",
                "--ends",
                "2099-12-31",
                "--json",
            )
        )
    )["id"]
    _ok(run("--as", "hoshino", "processors", "audits", "schedule", contract, "--due", "2026-01-31"))
    # issue 17: a machine client's token belongs to a service account (an administrator issues it)
    _ok(run("--as", "admin", "staff", "add-service", "crm-sync", "--name", "CRM", "--role", "support"))
    _ok(run("--as", "admin", "staff", "tokens", "create", "crm-sync", "--name", "crm-sync", "-p", "contract"))
    # a consent-based provision to a domestic third party: a 第三者提供記録 to list and show
    partner = json.loads(
        _ok(
            run(
                *("--as", "hoshino", "provision", "counterparties", "add", "--kind", "third_party"),
                *(
                    "--name",
                    "提携株式会社",
                    "--address",
                    "東京都千代田区1-1",
                    "--representative",
                    "山田 太郎",
                ),
                "--json",
            )
        )
    )["id"]
    _ok(
        run(
            "--as", "hoshino", "provision", "consents", "grant", cid, "--to", partner, "-p", "partner-sharing"
        )
    )
    _ok(run("--as", "hoshino", "provide", "--to", partner, "-p", "partner-sharing", "-f", "name", "-c", cid))
    records = json.loads(_ok(run("--as", "hoshino", "provision", "records", "list", "--json")))
    return {"customer": cid, "counterparty": cp, "contract": contract, "record": records[0]["id"]}


def _sweep(run, ids: dict[str, str], *lang: str) -> dict[str, str]:
    po = (*lang, "--as", "hoshino")
    commands = {
        "staff list": (*lang, "--as", "admin", "staff", "list"),
        "staff tokens list": (*lang, "--as", "admin", "staff", "tokens", "list"),
        "purposes list": (*lang, "purposes", "list"),
        "purposes show": (*lang, "purposes", "show", "support", "--history"),
        "customers list": (*po, "customers", "list", "-p", "contract"),
        "customers show": (*po, "customers", "show", ids["customer"], "-p", "contract"),
        "customers pending-notice": (*po, "customers", "pending-notice", "contract"),
        "consent show": (*po, "consent", "show", ids["customer"]),
        "counterparties list": (*po, "provision", "counterparties", "list"),
        "counterparties show": (*po, "provision", "counterparties", "show", ids["counterparty"]),
        "provision records list": (*po, "provision", "records", "list"),
        "provision records show": (*po, "provision", "records", "show", ids["record"]),
        "provision consents list": (*po, "provision", "consents", "list"),
        "joint-use show": (*po, "provision", "joint-use", "show"),
        "processors contracts list": (*po, "processors", "contracts", "list"),
        "processors contracts show": (*po, "processors", "contracts", "show", ids["contract"]),
        "processors audits list": (*po, "processors", "audits", "list"),
        "processors operators list": (*po, "processors", "operators", "list"),
        "deid datasets": (*po, "deid", "datasets"),
        "inventory locations list": (*po, "inventory", "locations", "list"),
        "inventory locations show": (*po, "inventory", "locations", "show", "primary-store"),
        "inventory items list": (*po, "inventory", "items", "list"),
        "inventory countries": (*po, "inventory", "countries"),
        "audit tail": (*po, "audit", "tail", "-n", "30"),
    }
    return {name: _ok(run(*args)) for name, args in commands.items()}


@pytest.mark.slow  # ~35 CLI invocations, each opening the stores
def test_staff_cli_shows_words_not_codes_and_jst_times(run):
    ids = _setup(run)
    outputs = _sweep(run, ids)
    problems = []
    for name, text in outputs.items():
        alone = [c for c in _cells(text) if c in RAW_CODES]
        if alone:
            problems.append(f"{name}: raw code in a table cell: {alone}")
        codes = _codes_alone(text)
        if codes:
            problems.append(f"{name}: raw code in the text: {codes}")
        if ISO_TIME.search(text):
            problems.append(f"{name}: ISO time: {ISO_TIME.search(text).group(0)}")  # type: ignore[union-attr]
        if ISO_DATE.search(text):
            problems.append(f"{name}: ISO date: {ISO_DATE.search(text).group(0)}")  # type: ignore[union-attr]
    if problems:  # pragma: no cover - the failure message shows the outputs
        print("\n\n".join(f"== {n}\n{outputs[n]}" for n in {p.split(":")[0] for p in problems}))
    assert not problems, "\n".join(problems)
    # the words themselves, where the sweep's data puts them
    assert "個人情報保護管理者（privacy_officer）" in outputs["staff list"]
    assert "はい" in outputs["staff list"] and "二要素認証" in outputs["staff list"]
    assert "（日本時間）" in outputs["staff tokens list"]
    assert "撤回済み" in outputs["consent show"] and "電話" in outputs["consent show"]
    assert "（日本時間）" in outputs["consent show"] and "同意の撤回" in outputs["consent show"]
    assert "委託先（outsourcee）" in outputs["counterparties list"]
    assert "本人の同意" in outputs["provision records list"] and "提供" in outputs["provision records list"]
    assert "氏名" in outputs["provision records show"] and "（日本時間）" in outputs["provision records show"]
    assert "アメリカ合衆国（US）" in outputs["counterparties list"]
    assert "下書き（draft）" in outputs["processors contracts list"]
    assert "期限超過" in outputs["processors audits list"]
    assert "2026年1月31日" in outputs["processors audits list"]
    assert "個人情報保護法、GDPR" in outputs["purposes list"]
    assert "正当な利益" in outputs["purposes show"]
    # the notice method: 明示 for a web-form customer, 通知 for one taken by phone or at the counter (R-21-2)
    assert re.search("明示|通知", outputs["customers show"]) and "円" in outputs["customers show"]
    assert re.search(r"生年月日\s+\d{4}年\d{1,2}月\d{1,2}日（(昭和|平成|令和)", outputs["customers show"])
    assert re.search(r"\d+人", outputs["customers list"])
    assert "データベース（database）" in outputs["inventory locations list"]
    assert "許可" in outputs["audit tail"]


@pytest.mark.slow
def test_staff_cli_in_english_has_english_headers(run, monkeypatch):
    ids = _setup(run)
    outputs = _sweep(run, ids, "--lang", "en")
    expected = {
        "staff list": (
            "Username",
            "Role",
            "Two-factor authentication",
            "Privacy officer",
            "Sales rep (sales)",
        ),
        "staff tokens list": ("Token ID", "Expires", "JST"),
        "purposes list": ("Code", "Data categories", "GDPR lawful basis", "Consent (Art. 6(1)(a))"),
        "consent show": ("When", "Withdrawn", "Do not contact"),
        "counterparties list": ("Kind", "Country or region", "Outsourcee", "United States (US)"),
        "processors contracts list": ("Status", "Outsourcee", "Draft"),
        "processors audits list": ("Due", "Result", "Overdue"),
        "inventory locations list": ("Code", "Kind", "Database", "Japan"),
        "audit tail": ("When", "Decision"),
    }
    for name, words in expected.items():
        for word in words:
            assert word in outputs[name], (name, word)
    japanese = re.compile(
        r"[\u3040-\u30ff]"
    )  # kana: Japanese words (demo names are kanji + kana, so headers only)
    for name in ("staff list", "purposes list", "processors audits list", "audit tail"):
        header = next(line for line in outputs[name].splitlines() if "┃" in line)
        assert not japanese.search(header), (name, header)
    # MAMORI_LANG=en does the same as --lang en
    monkeypatch.setenv("MAMORI_LANG", "en")
    assert "Username" in _ok(run("--as", "admin", "staff", "list"))


def test_json_output_keeps_codes_and_iso_times(run):
    ids = _setup(run)
    users = json.loads(_ok(run("--as", "admin", "staff", "list", "--json")))
    assert {u["role"] for u in users} >= {"privacy_officer", "admin"}
    summary = json.loads(_ok(run("--as", "hoshino", "consent", "show", ids["customer"], "--json")))
    assert summary["purposes"]["marketing-email"] == "withdrawn"
    assert "T" in summary["events"][0]["occurred_at"]  # ISO 8601, machine-readable
    cps = json.loads(_ok(run("--as", "hoshino", "provision", "counterparties", "list", "--json")))
    assert cps[0]["kind"] == "outsourcee" and cps[0]["country"] == "US"


# -- one concept, one name: the purposes notified at collection ------------------------------------------------------


def _customer_ids(run) -> set[str]:
    listed = json.loads(
        _ok(run("--as", "hoshino", "customers", "list", "-p", "contract", "--limit", "500", "--json"))
    )
    return {i["id"] for i in listed["items"]}


def test_customers_add_takes_the_notified_purposes_as_notified_purpose(run):
    before = _customer_ids(run)
    out = json.loads(
        _ok(
            run(
                "--as",
                "hoshino",
                "customers",
                "add",
                "--name",
                "山田 太郎",
                "--email",
                "taro@example.com",
                "--notified-purpose",
                "contract",
                "--notified-purpose",
                "support",
                "--channel",
                "web_form",
                "--json",
            )
        )
    )
    assert set(out["purposes"]) == {"contract", "support"}
    assert out["id"] in _customer_ids(run) - before
    # the old spelling (-p in add / import) still works, for the scripts and documents that use it
    old = json.loads(
        _ok(
            run(
                "--as",
                "hoshino",
                "customers",
                "add",
                "--name",
                "山田 花子",
                "--email",
                "hanako@example.com",
                "-p",
                "contract",
                "--json",
            )
        )
    )
    assert old["purposes"] == ["contract"]


def test_customers_add_without_notified_purposes_is_refused(run):
    r = run("--as", "hoshino", "customers", "add", "--name", "山田 次郎")
    assert r.exit_code != 0
    assert "--notified-purpose" in r.output


def test_help_names_the_notified_purpose_option_and_keeps_purpose_for_this_use(run):
    add_help = _ok(run("customers", "add", "--help"))
    assert "--notified-purpose" in add_help and "取得時に本人に" in add_help and "通知・明示した" in add_help
    assert "--purpose" not in add_help  # hidden: -p means the purpose of this use
    import_help = _ok(run("customers", "import", "--help"))
    assert "--notified-purpose" in import_help
    show_help = _ok(run("customers", "show", "--help"))
    assert "--purpose" in show_help and "今回の利用の" in show_help


def test_customers_import_takes_notified_purpose(run, tmp_path):
    csv_file = tmp_path / "list.csv"
    csv_file.write_text("氏名,メール\n木村 一郎,ichiro@example.com\n", encoding="utf-8")
    report = json.loads(
        _ok(
            run(
                "--as",
                "hoshino",
                "customers",
                "import",
                str(csv_file),
                "--source",
                "2026年秋 展示会",
                "--notified-purpose",
                "contract",
                "--map",
                "氏名=name",
                "--map",
                "メール=email",
                "--json",
            )
        )
    )
    assert report["created"] == 1


def test_two_factor_has_one_japanese_name(run):
    texts = [
        _ok(run("staff", "--help")),
        _ok(run("staff", "reset-2fa", "--help")),
        _ok(run("staff", "enroll-2fa", "--help")),
        _ok(run("processors", "operators", "add", "--help")),
        _ok(run("--as", "admin", "staff", "list")),
    ]
    for text in texts:
        assert "2段階認証" not in text and "MFA" not in text
    assert "二要素認証" in texts[1] and "二要素認証" in texts[4]
