"""Seeded generator of the labelled evaluation corpus (corpus/pii/*.jsonl).

Run ``python -m mamori.deid.text.corpus [OUT_DIR]``; the output is committed so the benchmark and the
quality-floor test run on a fresh clone without regenerating it. All people, numbers and addresses are
synthetic (Faker ja_JP / en_US plus random valid check digits); nothing describes a real person.

Each JSONL line: ``{"id", "lang", "kind", "text", "spans": [[start, end, type], ...]}``. Spans cover the
value only (not 〒, not honorifics, not labels). Hard negatives (order/invoice numbers, 12-digit numbers that
fail the My Number check digit, delivery/reservation dates, product codes, company names containing surnames,
extension numbers) are present but unlabelled. Labelling policy (issue 23): a person's number — a mobile, a
direct line, the number a customer gives — is labelled ``phone``; a company's own numbers are unlabelled
look-alikes: the main number (代表) and FAX in a company's signature block, free-dial (0120, 0800) and
navi-dial (0570) numbers anywhere. The postal code and address of a company's office in a signature are
unlabelled too (a company's, not a person's), as in the hand-written corpora.
"""

from __future__ import annotations

import json
import random
import re
import sys
from collections.abc import Callable
from pathlib import Path

import phonenumbers
from faker import Faker
from faker.providers.address.en_US import Provider as EnAddress
from faker.providers.person.ja_JP import Provider as JaPerson

from mamori.deid.text.checkdigits import corporate_check_digit, luhn_check_digit, my_number_check_digit

SEED = 20261123
N_JA = 1500
N_EN = 700

Piece = tuple[str, list[tuple[int, int, str]]]

# Surnames/given names NOT in the detector dictionary, to measure context-only detection honestly.
_HELD_OUT_SURNAMES = (
    "桑原",
    "梶原",
    "蛭田",
    "宍戸",
    "眞鍋",
    "仲宗根",
    "比嘉",
    "東海林",
    "二階堂",
    "勅使河原",
)
_HELD_OUT_GIVEN = ("悠斗", "紗希", "颯", "凛", "湊斗", "琴音", "大和", "芽依")
_BANKS = (
    "みずほ銀行",
    "三菱UFJ銀行",
    "三井住友銀行",
    "りそな銀行",
    "ゆうちょ銀行",
    "横浜銀行",
    "千葉銀行",
    "静岡銀行",
)
_BRANCHES = ("本店", "渋谷支店", "新宿支店", "梅田支店", "横浜駅前支店", "札幌支店", "博多支店", "名古屋支店")
_US_AREAS = ("212", "415", "312", "617", "206", "303", "512", "404", "213", "702", "919", "503")


class Gen:
    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)
        self.ja = Faker("ja_JP")
        self.ja.seed_instance(seed)
        self.en = Faker("en_US")
        self.en.seed_instance(seed + 1)
        self.surnames = [k for k, _kana, _r in JaPerson.last_name_pairs]
        self.surname_kana = [kana for _k, kana, _r in JaPerson.last_name_pairs]
        pairs = list(JaPerson.first_name_male_pairs) + list(JaPerson.first_name_female_pairs)
        self.given = [k for k, _kana, _r in pairs]
        self.given_kana = [kana for _k, kana, _r in pairs]

    # --- values -------------------------------------------------------------------------------------------
    def fw(self, s: str, p: float = 0.12) -> str:
        """Sometimes write ASCII in full width (what people type with a Japanese IME)."""
        if self.r.random() >= p:
            return s
        return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in s)

    def person_ja(self) -> str:
        r = self.r.random()
        held = self.r.random() < 0.15
        sur = self.r.choice(_HELD_OUT_SURNAMES if held else self.surnames)
        giv = self.r.choice(_HELD_OUT_GIVEN if held else self.given)
        if r < 0.15:
            return f"{self.r.choice(self.surname_kana)} {self.r.choice(self.given_kana)}"
        return f"{sur}{self.r.choice(['', ' ', '　'])}{giv}"

    def surname_ja(self) -> str:
        return self.r.choice(self.surnames if self.r.random() > 0.1 else _HELD_OUT_SURNAMES)

    def person_en(self) -> str:
        if self.r.random() < 0.1:
            return f"{self.en.first_name()} {self.r.choice('ABCDEFGHJKLMNPRSTW')}. {self.en.last_name()}"
        return f"{self.en.first_name()} {self.en.last_name()}"

    def _digits(self, n: int) -> str:
        return "".join(self.r.choice("0123456789") for _ in range(n))

    def phone_ja(self) -> str:
        """A person's number: mobile, fixed line, 050 or +81 mobile (never free-dial / navi-dial)."""
        return self._phone_ja((0, 1, 2, 3, 6, 7))

    def company_dial(self) -> str:
        """A company's free-dial (0120, 0800) or navi-dial (0570) number."""
        return self._phone_ja((4, 5, 8))

    def company_main(self) -> str:
        """A company's main number: a fixed line, or sometimes its free-dial / navi-dial number."""
        return self._phone_ja((1, 2, 3, 1, 2, 3, 4, 5))

    def _phone_ja(self, kinds: tuple[int, ...]) -> str:
        while True:
            kind = self.r.choice(kinds)
            if kind == 0:
                s = f"0{self.r.choice('789')}0-{self.r.randint(1000, 9999)}-{self._digits(4)}"
            elif kind == 1:
                s = f"03-{self.r.randint(2000, 6999)}-{self._digits(4)}"
            elif kind == 2:
                s = f"06-{self.r.randint(6000, 6999)}-{self._digits(4)}"
            elif kind == 3:
                s = f"0{self.r.choice(['45', '52', '92', '11', '75', '78'])}-{self.r.randint(200, 899)}-{self._digits(4)}"
            elif kind == 4:
                s = f"0120-{self._digits(3)}-{self._digits(3)}"
            elif kind == 5:
                s = f"0570-0{self._digits(2)}-{self._digits(3)}"
            elif kind == 6:
                s = f"050-{self.r.randint(3000, 5999)}-{self._digits(4)}"
            elif kind == 7:
                s = f"+81 {self.r.choice('789')}0-{self.r.randint(1000, 9999)}-{self._digits(4)}"
            else:
                s = f"0800-{self.r.randint(100, 999)}-{self._digits(4)}"
            try:
                ok = phonenumbers.is_valid_number(phonenumbers.parse(s, "JP"))
            except phonenumbers.NumberParseException:
                ok = False
            if ok:
                if self.r.random() < 0.1 and s.startswith("0") and s.count("-") == 2:
                    s = s.replace("-", "", 2) if self.r.random() < 0.5 else f"({s.replace('-', ')', 1)}"
                    s = s if s.startswith("(") else s
                return self.fw(s)

    def phone_en(self) -> str:
        while True:
            area = self.r.choice(_US_AREAS)
            s = f"{area}-{self.r.randint(201, 989)}-{self._digits(4)}"
            if phonenumbers.is_valid_number(phonenumbers.parse(s, "US")):
                fmt = self.r.randrange(3)
                if fmt == 0:
                    return f"({area}) {s[4:]}"
                if fmt == 1:
                    return f"+1 {s}"
                return s

    def email(self, lang: str) -> str:
        fk = self.ja if lang == "ja" else self.en
        return self.fw(fk.email(), 0.05)

    def postal(self) -> str:
        s = f"{self.r.randint(100, 999)}-{self._digits(4)}"
        return self.fw(s)

    def address_ja(self) -> str:
        pref = self.ja.prefecture()
        city = self.ja.city()
        town = self.ja.town()
        style = self.r.randrange(3)
        if style == 0:
            num = f"{self.r.randint(1, 9)}丁目{self.r.randint(1, 30)}番{self.r.randint(1, 20)}号"
        elif style == 1:
            num = f"{self.r.randint(1, 9)}-{self.r.randint(1, 30)}-{self.r.randint(1, 20)}"
        else:
            num = f"{self.r.randint(1, 999)}番地"
        s = f"{pref}{city}{town}{num}"
        if self.r.random() < 0.4:
            s += f" {self.ja.building_name()}{self.r.randint(101, 1208)}"
        if self.r.random() < 0.15:
            s = s[len(pref) :]  # without the prefecture
        return self.fw(s, 0.08)

    def address_en(self) -> str:
        street = f"{self.r.randint(1, 9999)} {self.en.last_name()} {self.r.choice(EnAddress.street_suffixes)}"
        if self.r.random() < 0.3:
            street += f" {self.r.choice(['Apt.', 'Suite', 'Unit'])} {self.r.randint(1, 999)}"
        return f"{street}, {self.en.city()}, {self.en.state_abbr(include_territories=False)} {self.en.postcode()}"

    def my_number(self) -> str:
        base = str(self.r.randint(1, 9)) + self._digits(10)
        d = base + str(my_number_check_digit(base))
        style = self.r.randrange(3)
        s = d if style == 0 else f"{d[:4]} {d[4:8]} {d[8:]}" if style == 1 else f"{d[:4]}-{d[4:8]}-{d[8:]}"
        return self.fw(s)

    def bad_my_number(self) -> str:
        base = str(self.r.randint(1, 9)) + self._digits(10)
        good = my_number_check_digit(base)
        return base + str((good + self.r.randint(1, 9)) % 10)

    def corporate(self) -> str:
        base = str(self.r.randint(1, 9)) + self._digits(11)
        return f"{corporate_check_digit(base)}{base}"

    def card(self) -> str:
        kind = self.r.randrange(4)
        prefix, length = [
            ("4", 16),
            ("5" + str(self.r.randint(1, 5)), 16),
            ("35" + str(self.r.randint(28, 89)), 16),
            ("37", 15),
        ][kind]
        partial = prefix + self._digits(length - len(prefix) - 1)
        d = partial + str(luhn_check_digit(partial))
        if length == 15:
            return f"{d[:4]} {d[4:10]} {d[10:]}" if self.r.random() < 0.6 else d
        sep = self.r.choice(["-", " ", ""])
        return self.fw(sep.join(d[i : i + 4] for i in range(0, 16, 4)))

    def account(self) -> str:
        return self._digits(7)

    def dob_ja(self) -> tuple[str, str]:
        """(value, form) with form one of seireki / wareki / slash."""
        y, m, d = self.r.randint(1935, 2005), self.r.randint(1, 12), self.r.randint(1, 28)
        style = self.r.randrange(4)
        if style == 0:
            return f"{y}年{m}月{d}日", "s"
        if style == 1:
            return f"{y}/{m:02d}/{d:02d}", "s"
        if y < 1989 or (y == 1989 and m == 1 and d < 8):
            era, ey = "昭和", y - 1925
        else:
            era, ey = "平成", y - 1988
        eys = "元" if ey == 1 and self.r.random() < 0.7 else str(ey)
        if style == 3 and eys != "元":
            return f"{'S' if era == '昭和' else 'H'}{ey}.{m}.{d}", "w"
        return f"{era}{eys}年{m}月{d}日", "w"

    def dob_en(self) -> str:
        y, m, d = self.r.randint(1940, 2005), self.r.randint(1, 12), self.r.randint(1, 28)
        month = [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ][m - 1]
        return self.r.choice([f"{m:02d}/{d:02d}/{y}", f"{month} {d}, {y}", f"{d} {month} {y}"])

    def ip(self) -> str:
        if self.r.random() < 0.15:
            return ":".join(f"{self.r.randint(0, 65535):x}" for _ in range(8))
        return f"{self.r.choice([10, 172, 192, 203, 61, 133])}.{self.r.randint(0, 255)}.{self.r.randint(0, 255)}.{self.r.randint(1, 254)}"

    def order_no(self) -> str:
        return self.r.choice(
            [
                f"ORD-{self.r.randint(2020, 2026)}{self._digits(4)}-{self._digits(4)}",
                f"{self.r.randint(2020, 2026)}{self._digits(4)}-{self._digits(4)}",
                f"INV-{self._digits(6)}",
                f"A{self._digits(9)}",
            ]
        )

    def date_any(self) -> str:
        y, m, d = self.r.randint(2023, 2026), self.r.randint(1, 12), self.r.randint(1, 28)
        return self.r.choice([f"{y}年{m}月{d}日", f"{y}/{m:02d}/{d:02d}", f"令和{y - 2018}年{m}月{d}日"])

    def product(self) -> str:
        return f"{self.r.choice(['MX', 'QT', 'ZR', 'KB'])}-{self._digits(3)}-{self._digits(4)}"


class Doc:
    def __init__(self) -> None:
        self.parts: list[str] = []
        self.spans: list[tuple[int, int, str]] = []
        self.pos = 0

    def t(self, s: str) -> Doc:
        self.parts.append(s)
        self.pos += len(s)
        return self

    def v(self, value: str, typ: str) -> Doc:
        self.spans.append((self.pos, self.pos + len(value), typ))
        return self.t(value)

    def text(self) -> str:
        return "".join(self.parts)


def _hon(g: Gen) -> str:
    return g.r.choice(["様", "さん", "氏", "殿", "様", "さん"])


def _ja_crm(g: Gen, d: Doc) -> None:
    d.t(f"{g.date_any()} 商談メモ\n")
    d.t("訪問先：").t(g.ja.company()).t(" 担当の").v(g.surname_ja(), "person").t(f"{_hon(g)}と面談。\n")
    if g.r.random() < 0.5:
        d.t("前職は").t(g.ja.company()).t("とのこと（本件の目的には不要）。\n")
    d.t("連絡先：").v(g.phone_ja(), "phone").t(" / ").v(g.email("ja"), "email").t("\n")
    if g.r.random() < 0.5:
        d.t("〒").v(g.postal(), "postal_code").t(" ").v(g.address_ja(), "address").t("\n")
    d.t(f"次回訪問予定日：{g.date_any()}。見積番号 {g.order_no()}。\n")
    if g.r.random() < 0.3:
        d.t("本人の話では持病の治療で通院中とのこと。\n")


def _ja_inquiry(g: Gen, d: Doc) -> None:
    d.t("【お問い合わせ】\nお名前：").v(g.person_ja(), "person").t("\n")
    d.t("生年月日：").v(g.dob_ja()[0], "date_of_birth").t("\n")
    d.t("電話番号：").v(g.phone_ja(), "phone").t("\n")
    d.t("メール：").v(g.email("ja"), "email").t("\n")
    d.t(f"注文番号：{g.order_no()}（{g.date_any()} ご注文）\n")
    d.t("内容：商品 ").t(g.product()).t(" が届かない。納品日 ").t(g.date_any()).t(" の予定でした。\n")
    if g.r.random() < 0.3:
        d.t("接続元IP：").v(g.ip(), "ip_address").t("\n")


def _ja_email(g: Gen, d: Doc) -> None:
    d.v(g.person_ja(), "person").t(f"{_hon(g)}\n\nいつもお世話になっております。\n")
    d.t("ご請求書（請求書番号 ").t(g.order_no()).t("）を送付いたします。\n")
    if g.r.random() < 0.4:
        d.t("お振込先：").t(g.r.choice(_BANKS)).t(" ").t(g.r.choice(_BRANCHES)).t(" 普通 ").v(
            g.account(), "bank_account"
        ).t("\n")
    d.t("\n――――――――――\n").t(g.ja.company()).t(" 営業部\n").v(g.person_ja(), "person").t("\n")
    d.t("〒").t(g.postal()).t(" ").t(g.address_ja()).t("\n")  # the company's office: not personal (issue 23)
    d.t("TEL ").t(g.company_main()).t("（代表） 内線 ").t(g._digits(4)).t("\n")
    r = g.r.random()
    if r < 0.3:
        d.t("FAX ").t(g.company_main()).t("\n")
    elif r < 0.6:
        d.t(g.r.choice(["携帯 ", "携帯：", "直通 "])).v(g.phone_ja(), "phone").t("\n")
    d.t("Mail ").v(g.email("ja"), "email").t("\n")
    if g.r.random() < 0.3:
        d.t("法人番号 ").v(g.corporate(), "corporate_number").t("\n")


def _ja_call(g: Gen, d: Doc) -> None:
    name = g.person_ja()
    d.t("オペレーター：お電話ありがとうございます。お名前をお願いします。\n")
    d.t("お客様：").v(name, "person").t("です。\n")
    d.t("オペレーター：ご本人確認のため生年月日をお願いします。\n")
    v, form = g.dob_ja()
    d.t("お客様：").v(v, "date_of_birth").t(f"{'生まれです' if form == 'w' else 'です'}。\n")
    r = g.r.random()
    if r < 0.3:
        d.t("お客様：マイナンバーは ").v(g.my_number(), "my_number").t(" です。\n")
    elif r < 0.55:
        d.t("お客様：カード番号は ").v(g.card(), "credit_card").t(" です。\n")
    elif r < 0.75:
        d.t("お客様：会員番号は ").t(g.bad_my_number()).t(" です。\n")
    d.t("オペレーター：折り返しは ").v(g.phone_ja(), "phone").t(" でよろしいですか。\n")
    if g.r.random() < 0.2:
        d.t("お客様：実は障害者手帳を持っていて…\n")


def _ja_subtitle(g: Gen, d: Doc) -> None:
    n = g.r.randint(1, 40)
    d.t(
        f"{n}\n00:0{g.r.randint(0, 9)}:{g.r.randint(10, 59)},000 --> 00:0{g.r.randint(0, 9)}:{g.r.randint(10, 59)},500\n"
    )
    r = g.r.random()
    if r < 0.4:
        d.t("本日の講師は").v(g.person_ja(), "person").t("先生です。\n")
    elif r < 0.7:
        d.t("ご質問をくださった").v(g.surname_ja(), "person").t(f"{_hon(g)}は").v(
            g.address_ja(), "address"
        ).t("にお住まいです。\n")
    else:
        d.t("資料のご請求は ").t(g.company_dial()).t(" までお電話ください。\n")


def _ja_csv(g: Gen, d: Doc) -> None:
    dob = g.r.random() < 0.5
    d.t(f"顧客ID,氏名,{'生年月日' if dob else '登録日'},電話番号,郵便番号,住所,品番\n")
    d.t(f"{g.r.randint(1, 99999)},").v(g.person_ja(), "person").t(",")
    d.v(g.dob_ja()[0], "date_of_birth").t(",") if dob else d.t(f"{g.date_any()},")
    d.v(g.phone_ja(), "phone").t(",〒").v(g.postal(), "postal_code").t(",").v(g.address_ja(), "address").t(
        ","
    )
    d.t(g.product()).t("\n")


def _ja_negative(g: Gen, d: Doc) -> None:
    d.t(f"受注番号 {g.order_no()}、管理コード {g.bad_my_number()}、製品 {g.product()}。\n")
    d.t(
        f"納品日 {g.date_any()}、予約日 {g.date_any()}。数量 {g.r.randint(1, 999)} 個、単価 {g.r.randint(100, 99999):,} 円。\n"
    )
    d.t(
        f"取引先：{g.r.choice(g.surnames)}商事株式会社、{g.r.choice(g.surnames)}工業。バージョン 2.{g.r.randint(0, 9)}.{g.r.randint(0, 20)}。\n"
    )
    if g.r.random() < 0.5:
        d.t(
            f"お問い合わせ：{g.r.choice(['フリーダイヤル ', 'ナビダイヤル ', ''])}{g.company_dial()}（平日9時〜18時）\n"
        )


def _en_crm(g: Gen, d: Doc) -> None:
    d.t("Meeting notes: met ").v(g.person_en(), "person").t(" of ").t(g.en.company()).t(".\n")
    d.t("Phone: ").v(g.phone_en(), "phone").t(", email ").v(g.email("en"), "email").t(".\n")
    if g.r.random() < 0.5:
        d.t("Lives at ").v(g.address_en(), "address").t(".\n")
    d.t(
        f"Quote #{g.order_no()} sent; delivery scheduled for {g.en.date_this_year().strftime('%B %d, %Y')}.\n"
    )


def _en_inquiry(g: Gen, d: Doc) -> None:
    d.t("Name: ").v(g.person_en(), "person").t("\nDate of birth: ").v(g.dob_en(), "date_of_birth").t("\n")
    d.t("Email: ").v(g.email("en"), "email").t("\nPhone: ").v(g.phone_en(), "phone").t("\n")
    if g.r.random() < 0.4:
        d.t("Card: ").v(g.card(), "credit_card").t("\n")
    if g.r.random() < 0.3:
        d.t("Login from IP ").v(g.ip(), "ip_address").t("\n")
    d.t(f"Order {g.order_no()}, product {g.product()}, invoice INV-{g._digits(6)}.\n")


def _en_email(g: Gen, d: Doc) -> None:
    d.t("Dear ").v(g.person_en(), "person").t(",\n\nPlease find the invoice attached.\n")
    if g.r.random() < 0.4:
        d.t("Please remit to account number ").v(g._digits(9), "bank_account").t(".\n")
    d.t("\nBest regards,\n").v(g.person_en(), "person").t("\n").t(g.en.company()).t("\n")
    d.t(g.address_en()).t(f"\n{g.r.choice(['Mobile', 'Direct', 'Cell'])}: ").v(  # the office address
        g.phone_en(), "phone"
    ).t("\n")


def _en_subtitle(g: Gen, d: Doc) -> None:
    d.t(
        f"00:0{g.r.randint(0, 9)}:{g.r.randint(10, 59)}.000 --> 00:0{g.r.randint(0, 9)}:{g.r.randint(10, 59)}.500\n"
    )
    if g.r.random() < 0.6:
        d.t("Our speaker today is ").v(g.person_en(), "person").t(", who was born on ").v(
            g.dob_en(), "date_of_birth"
        ).t(".\n")
    else:
        d.t("Thanks to Ms. ").v(g.en.last_name(), "person").t(" for joining from ").t(g.en.city()).t(".\n")


def _en_negative(g: Gen, d: Doc) -> None:
    d.t(
        f"Order {g.order_no()} shipped on {g.en.date_this_year().strftime('%B %d, %Y')}. Version 3.{g.r.randint(0, 9)}.1.\n"
    )
    d.t(f"Reference {g.bad_my_number()}, SKU {g.product()}, total ${g.r.randint(10, 9999):,}.\n")


JA_KINDS: dict[str, Callable[[Gen, Doc], None]] = {
    "crm_note": _ja_crm,
    "inquiry_log": _ja_inquiry,
    "email": _ja_email,
    "call_transcript": _ja_call,
    "subtitle": _ja_subtitle,
    "csv_row": _ja_csv,
    "negative": _ja_negative,
}
EN_KINDS: dict[str, Callable[[Gen, Doc], None]] = {
    "crm_note": _en_crm,
    "inquiry_log": _en_inquiry,
    "email": _en_email,
    "subtitle": _en_subtitle,
    "negative": _en_negative,
}


def generate(seed: int = SEED, n_ja: int = N_JA, n_en: int = N_EN) -> list[dict[str, object]]:
    g = Gen(seed)
    docs: list[dict[str, object]] = []
    for lang, n, kinds in (("ja", n_ja, JA_KINDS), ("en", n_en, EN_KINDS)):
        names_ = list(kinds)
        for i in range(n):
            kind = names_[i % len(names_)]
            d = Doc()
            kinds[kind](g, d)
            text = d.text()
            for s, e, _t in d.spans:
                if s >= e or text[s:e].strip() != text[s:e]:
                    raise ValueError(f"bad span in template {kind}")
            docs.append({"id": f"{lang}-{i:05d}", "lang": lang, "kind": kind, "text": text, "spans": d.spans})
    return docs


def write(out_dir: Path, seed: int = SEED) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "docs.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for doc in generate(seed):
            fh.write(json.dumps(doc, ensure_ascii=False) + "\n")
    return path


def load(path: Path) -> list[dict[str, object]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("corpus/pii")
    p = write(target)
    print(p, p.stat().st_size, "bytes")
    _ = re  # keep the import for callers extending templates
