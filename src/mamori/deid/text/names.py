"""Name dictionaries for the person detector.

Japanese surnames and given names come from two sources: Faker's ja_JP provider data (read at import time;
Faker is a runtime dependency) and a short list written for mamori of further common surnames and given names.
English first and last names come from Faker's en_US provider. Nothing here is copied from an external list.
"""

from __future__ import annotations

from functools import lru_cache

from faker.providers.person.en_US import Provider as _EnPerson
from faker.providers.person.ja_JP import Provider as _JaPerson

# Further common Japanese surnames (kanji:katakana reading), written for mamori.
_EXTRA_SURNAMES_TEXT = """
和田:ワダ 石田:イシダ 上田:ウエダ 森田:モリタ 原田:ハラダ 柴田:シバタ 酒井:サカイ 工藤:クドウ
横山:ヨコヤマ 宮崎:ミヤザキ 宮本:ミヤモト 内田:ウチダ 高木:タカギ 安藤:アンドウ 谷口:タニグチ 大野:オオノ
丸山:マルヤマ 今井:イマイ 高田:タカダ 藤本:フジモト 武田:タケダ 村田:ムラタ 上野:ウエノ 杉山:スギヤマ
増田:マスダ 平野:ヒラノ 大塚:オオツカ 千葉:チバ 久保:クボ 松井:マツイ 小島:コジマ 岩崎:イワサキ
桜井:サクライ 野口:ノグチ 松尾:マツオ 野村:ノムラ 木下:キノシタ 菊地:キクチ 佐野:サノ 大西:オオニシ
杉本:スギモト 新井:アライ 浜田:ハマダ 菅原:スガワラ 市川:イチカワ 水野:ミズノ 小松:コマツ 島田:シマダ
古川:フルカワ 小山:コヤマ 高野:タカノ 西田:ニシダ 菊池:キクチ 山内:ヤマウチ 西川:ニシカワ 五十嵐:イガラシ
北村:キタムラ 安田:ヤスダ 中野:ナカノ 川口:カワグチ 平田:ヒラタ 川崎:カワサキ 飯田:イイダ 吉川:ヨシカワ
本田:ホンダ 久保田:クボタ 沢田:サワダ 辻:ツジ 関:セキ 吉村:ヨシムラ 渡部:ワタナベ 岩田:イワタ
中西:ナカニシ 服部:ハットリ 樋口:ヒグチ 福島:フクシマ 川上:カワカミ 永井:ナガイ 松岡:マツオカ 田村:タムラ
安藤:アンドウ 中山:ナカヤマ 石原:イシハラ 大橋:オオハシ 荒木:アラキ 小野:オノ 竹内:タケウチ 金子:カネコ
和泉:イズミ 片山:カタヤマ 土屋:ツチヤ 矢野:ヤノ 広瀬:ヒロセ 秋山:アキヤマ 星野:ホシノ 大久保:オオクボ
望月:モチヅキ 須藤:スドウ 平井:ヒライ 原:ハラ 松下:マツシタ 馬場:ババ 河野:コウノ 熊谷:クマガイ
野田:ノダ
"""
_EXTRA_SURNAMES: tuple[tuple[str, str], ...] = tuple(
    (k, v) for k, _, v in (item.partition(":") for item in _EXTRA_SURNAMES_TEXT.split())
)

_EXTRA_GIVEN: tuple[str, ...] = tuple(
    """
大輔 健太 拓也 誠 翔 蓮 陽翔 悠真 湊 大樹 雄一 隆 剛 達也 哲也 美咲 愛 彩 由美 恵子 優子 真由美
美穂 陽菜 結菜 葵 さくら ひなた 智子 久美子 幸子 洋子 麻衣 綾香 沙織 千尋 健 一郎 次郎 三郎 勇気
""".split()
)


@lru_cache(maxsize=1)
def ja_surnames() -> dict[str, str]:
    """Surname kanji → katakana reading."""
    out: dict[str, str] = {}
    for kanji, kana, _romaji in _JaPerson.last_name_pairs:
        out[kanji] = kana
    for kanji, kana in _EXTRA_SURNAMES:
        out.setdefault(kanji, kana)
    return out


@lru_cache(maxsize=1)
def ja_given_names() -> dict[str, str]:
    """Given name → katakana reading ('' when the reading is not known)."""
    out: dict[str, str] = {}
    for kanji, kana, _romaji in list(_JaPerson.first_name_male_pairs) + list(
        _JaPerson.first_name_female_pairs
    ):
        out[kanji] = kana
    for name in _EXTRA_GIVEN:
        out.setdefault(name, "")
    return out


@lru_cache(maxsize=1)
def ja_romaji_names() -> tuple[frozenset[str], frozenset[str]]:
    """Romanised Japanese (given, family) names, for Japanese people written in English text."""
    fam = frozenset(r for _k, _kana, r in _JaPerson.last_name_pairs)
    giv = frozenset(
        r for _k, _kana, r in list(_JaPerson.first_name_male_pairs) + list(_JaPerson.first_name_female_pairs)
    )
    return giv, fam


@lru_cache(maxsize=1)
def en_first_names() -> frozenset[str]:
    return frozenset(_EnPerson.first_names) | ja_romaji_names()[0]


@lru_cache(maxsize=1)
def en_last_names() -> frozenset[str]:
    return frozenset(_EnPerson.last_names) | ja_romaji_names()[1]
