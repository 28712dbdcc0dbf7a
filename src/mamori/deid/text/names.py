"""Name dictionaries for the person detector.

Japanese surnames and given names come from two sources: Faker's ja_JP provider data (read on first use:
importing Faker costs ~0.1 s, so the lists are built lazily; Faker is a runtime dependency) and a short list written for mamori of further common surnames and given names.
English first and last names come from Faker's en_US provider. Nothing here is copied from an external list.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

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


def _ja_person() -> Any:
    from faker.providers.person.ja_JP import Provider  # noqa: PLC0415  # only when a list is first built

    return Provider


def _en_person() -> Any:
    from faker.providers.person.en_US import Provider  # noqa: PLC0415  # only when a list is first built

    return Provider


def _en_lorem_words() -> Any:
    from faker.providers.lorem.en_US import Provider  # noqa: PLC0415  # only when a list is first built

    return Provider.word_list


@lru_cache(maxsize=1)
def ja_surnames() -> dict[str, str]:
    """Surname kanji → katakana reading."""
    out: dict[str, str] = {}
    for kanji, kana, _romaji in _ja_person().last_name_pairs:
        out[kanji] = kana
    for kanji, kana in _EXTRA_SURNAMES:
        out.setdefault(kanji, kana)
    return out


@lru_cache(maxsize=1)
def ja_given_names() -> dict[str, str]:
    """Given name → katakana reading ('' when the reading is not known)."""
    out: dict[str, str] = {}
    person = _ja_person()
    for kanji, kana, _romaji in list(person.first_name_male_pairs) + list(person.first_name_female_pairs):
        out[kanji] = kana
    for name in _EXTRA_GIVEN:
        out.setdefault(name, "")
    return out


@lru_cache(maxsize=1)
def ja_romaji_names() -> tuple[frozenset[str], frozenset[str]]:
    """Romanised Japanese (given, family) names, for Japanese people written in English text."""
    person = _ja_person()
    fam = frozenset(r for _k, _kana, r in person.last_name_pairs)
    giv = frozenset(
        r for _k, _kana, r in list(person.first_name_male_pairs) + list(person.first_name_female_pairs)
    )
    return giv, fam


@lru_cache(maxsize=1)
def en_first_names() -> frozenset[str]:
    return frozenset(_en_person().first_names) | ja_romaji_names()[0]


@lru_cache(maxsize=1)
def en_last_names() -> frozenset[str]:
    return frozenset(_en_person().last_names) | ja_romaji_names()[1]


# Words that parse as romanised Japanese but are (mostly) not names: English words and Japanese places
# written in Latin letters. Written for mamori; Faker's English lorem words are added in romaji_stop_words().
_ROMAJI_STOP_TEXT = """
name home date sale mode made make take came game same time tone zone note done gone none one rose
base case vase hate gate late mate rate fate kite bite site mite nine mine fine line wine dine pine tune
dune june rune cone bone more core sore tore wore bore fore here mere were ate are age ago use ode ore
due hue sue fume mute cute tube cube dose pose hose nose rope hope dope cope mope robe lobe sake bake
wake fake lake rake cake jake mike kane dane jane wade fade jade made bade ride hide side tide wide bide
mane pane sane wane vane bane kate pete rite note vote mote mope tote tame fame dame name game lame
ready saga sofa soda coma data beta zeta meta area idea media radio piano photo memo demo auto
also into onto upon unto menu tofu judo sumo karate karaoke sushi sashimi tempura ramen udon soba
manga anime emoji kimono origami bonsai tsunami futon tatami ninja samurai geisha sake miso wasabi
hokkaido aomori iwate miyagi akita yamagata fukushima ibaraki tochigi gunma saitama chiba tokyo
kanagawa niigata toyama ishikawa fukui yamanashi nagano gifu shizuoka aichi mie shiga kyoto osaka hyogo
nara wakayama tottori shimane okayama hiroshima yamaguchi tokushima kagawa ehime kochi fukuoka saga
nagasaki kumamoto oita miyazaki kagoshima okinawa sapporo sendai yokohama kawasaki nagoya kobe
sakai hamamatsu niigata kitakyushu chiyoda chuo minato shinjuku bunkyo taito sumida koto shinagawa
meguro ota setagaya shibuya nakano suginami toshima kita arakawa itabashi nerima adachi katsushika
edogawa hachioji tachikawa musashino mitaka fuchu chofu machida kokubunji kunitachi ginza akihabara
ueno asakusa roppongi ikebukuro odaiba umeda namba shinsaibashi tenjin hakata kanazawa nikko kamakura
hakone atami narita haneda kansai itami chome banchi tokai kinki kanto tohoku kyushu shikoku honshu
japan nihon nippon san sama kun chan sensei shacho bucho kacho tenchō
inc ltd corp co kk gk jr mr mrs ms dr prof
giken kogyo shoji sangyo seisakusho shoten ginko kaisha kabushiki denki denshi kensetsu unyu seiyaku
shokuhin hoken shinkin jimusho byoin dori toori hon honten shiten honsha gakuen daigaku kai kumiai
ryokan minshuku hoteru onsen jinja jingu tera kaikan
"""


@lru_cache(maxsize=1)
def romaji_stop_words() -> frozenset[str]:
    """Lower-case words the romaji name grammar must not take for names (English words, Japanese places)."""
    giv, fam = ja_romaji_names()
    keep = {n.lower() for n in giv | fam}
    stop = set(_ROMAJI_STOP_TEXT.split()) | {w.lower() for w in _en_lorem_words()}
    return frozenset(w for w in stop if w not in keep or w in _ROMAJI_STOP_TEXT.split())


# Capitalised words after a greeting or before a sign-off that are not people ("Dear Customer", "Hi Team").
_NOT_GREETED_TEXT = """
sir madam sirs madams team all everyone everybody there folks friends colleagues customer customers client
clients member members user users support sales admin administrator manager managers hiring recruiter
partner partners guys people world valued team members staff hr it legal finance account accounts service
services department office committee board director directors applicant candidate student students parent
parents guest guests reader readers subscriber subscribers owner owners host hosts morning afternoon evening
again again also best kind warm many thanks thank regards sincerely cheers yours cordially respectfully
mr mrs ms miss dr prof professor doctor the a an my our your
"""


@lru_cache(maxsize=1)
def en_not_names() -> frozenset[str]:
    """Lower-case words that are never a person after a greeting or above a sign-off (and English lorem words)."""
    firsts = {n.lower() for n in _en_person().first_names}
    lorem = {w.lower() for w in _en_lorem_words()} - firsts
    return frozenset(_NOT_GREETED_TEXT.split()) | lorem


# Katakana words that end or make up company, shop and building names ("サンライズ・テック様").
_KATAKANA_BUSINESS_TEXT = """
テック テクノ テクノロジー テクノロジーズ システム システムズ ソリューション ソリューションズ サービス
サービシズ ジャパン グループ ホールディングス コーポレーション カンパニー ラボ デザイン コンサルティング
クリニック ストア ショップ ホテル センター ビル マンション ハイツ コーポ レジデンス ネット ネットワーク
エンジニアリング インターナショナル トレーディング ファーマ フーズ メディカル パートナーズ アソシエイツ
マーケティング エージェンシー スタジオ プロダクション ワークス ファクトリー オフィス プラザ タワー
カフェ レストラン ベーカリー サロン スクール アカデミー リゾート モール マート ストアーズ バンク
ソフト ソフトウェア ケア ホーム
"""


@lru_cache(maxsize=1)
def katakana_business_words() -> frozenset[str]:
    return frozenset(_KATAKANA_BUSINESS_TEXT.split())
