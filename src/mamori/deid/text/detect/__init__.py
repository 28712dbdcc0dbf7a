"""Detectors for personal information in Japanese and English free text.

Every detector works on the width-normalised text (see ``normalize``), which has the same length as the
original, so the offsets reported are offsets in the original text. Structured identifiers are checked
(phone numbers by ``phonenumbers``, My Number / 法人番号 check digits, Luhn for cards, real calendar dates);
names and addresses use dictionaries plus context (honorifics, labels, 都道府県 + 市区町村 + 番地).
"""

from __future__ import annotations

from mamori.deid.text.detect.addresses import _ADDR_HINT as _ADDR_HINT
from mamori.deid.text.detect.addresses import _ADDR_START as _ADDR_START
from mamori.deid.text.detect.addresses import _DIGIT_SPACE_UPPER as _DIGIT_SPACE_UPPER
from mamori.deid.text.detect.addresses import _JA_ADDR as _JA_ADDR
from mamori.deid.text.detect.addresses import _KANJI_RUN as _KANJI_RUN
from mamori.deid.text.detect.addresses import _KNUM as _KNUM
from mamori.deid.text.detect.addresses import _PREFS as _PREFS
from mamori.deid.text.detect.addresses import _address_matches as _address_matches
from mamori.deid.text.detect.addresses import _en_addr_pattern as _en_addr_pattern
from mamori.deid.text.detect.addresses import _find_addresses as _find_addresses
from mamori.deid.text.detect.common import _PRIORITY as _PRIORITY
from mamori.deid.text.detect.common import PII_TYPES as PII_TYPES
from mamori.deid.text.detect.common import TYPE_LABELS_EN as TYPE_LABELS_EN
from mamori.deid.text.detect.common import TYPE_LABELS_JA as TYPE_LABELS_JA
from mamori.deid.text.detect.common import Finding as Finding
from mamori.deid.text.detect.dates import _ASCII_UPPER_OR_LOWER as _ASCII_UPPER_OR_LOWER
from mamori.deid.text.detect.dates import _DATE as _DATE
from mamori.deid.text.detect.dates import _DOB_AFTER as _DOB_AFTER
from mamori.deid.text.detect.dates import _DOB_ANY as _DOB_ANY
from mamori.deid.text.detect.dates import _DOB_BEFORE as _DOB_BEFORE
from mamori.deid.text.detect.dates import _DOB_TRIGGER as _DOB_TRIGGER
from mamori.deid.text.detect.dates import _DOB_WORDS as _DOB_WORDS
from mamori.deid.text.detect.dates import _ERA_LETTERS as _ERA_LETTERS
from mamori.deid.text.detect.dates import _ERAS as _ERAS
from mamori.deid.text.detect.dates import _MONTH_ALT as _MONTH_ALT
from mamori.deid.text.detect.dates import _MONTHS as _MONTHS
from mamori.deid.text.detect.dates import _csv_dob_column as _csv_dob_column
from mamori.deid.text.detect.dates import _date_value as _date_value
from mamori.deid.text.detect.dates import _dob_context as _dob_context
from mamori.deid.text.detect.dates import _dob_regions as _dob_regions
from mamori.deid.text.detect.dates import _find_dob as _find_dob
from mamori.deid.text.detect.orchestration import _ANY_DIGIT as _ANY_DIGIT
from mamori.deid.text.detect.orchestration import _CAREER as _CAREER
from mamori.deid.text.detect.orchestration import NER_PROVIDER as NER_PROVIDER
from mamori.deid.text.detect.orchestration import _resolve as _resolve
from mamori.deid.text.detect.orchestration import detect as detect
from mamori.deid.text.detect.persons import _CSV_CELL_NAME as _CSV_CELL_NAME
from mamori.deid.text.detect.persons import _CSV_PERSON_HEADER as _CSV_PERSON_HEADER
from mamori.deid.text.detect.persons import _EN_CAND as _EN_CAND
from mamori.deid.text.detect.persons import _EN_LABEL as _EN_LABEL
from mamori.deid.text.detect.persons import _EN_TITLE as _EN_TITLE
from mamori.deid.text.detect.persons import _FREE_JA_NAME as _FREE_JA_NAME
from mamori.deid.text.detect.persons import _HONORIFIC as _HONORIFIC
from mamori.deid.text.detect.persons import _HONORIFIC_HINT as _HONORIFIC_HINT
from mamori.deid.text.detect.persons import _KANJI_OR_KANA as _KANJI_OR_KANA
from mamori.deid.text.detect.persons import _LABELLED_JA_NAME as _LABELLED_JA_NAME
from mamori.deid.text.detect.persons import _NAME_LABEL as _NAME_LABEL
from mamori.deid.text.detect.persons import _NOT_A_NAME_END as _NOT_A_NAME_END
from mamori.deid.text.detect.persons import _NOT_NAMES as _NOT_NAMES
from mamori.deid.text.detect.persons import _SIGNATURE_NAME as _SIGNATURE_NAME
from mamori.deid.text.detect.persons import _SURNAME_HON as _SURNAME_HON
from mamori.deid.text.detect.persons import _find_person_csv as _find_person_csv
from mamori.deid.text.detect.persons import _find_person_en as _find_person_en
from mamori.deid.text.detect.persons import _find_person_ja as _find_person_ja
from mamori.deid.text.detect.persons import _ja_name_patterns as _ja_name_patterns
from mamori.deid.text.detect.persons import _surname_first_pattern as _surname_first_pattern
from mamori.deid.text.detect.structured import _BANK as _BANK
from mamori.deid.text.detect.structured import _CARD_WORD as _CARD_WORD
from mamori.deid.text.detect.structured import _DIGIT_RUN as _DIGIT_RUN
from mamori.deid.text.detect.structured import _EMAIL as _EMAIL
from mamori.deid.text.detect.structured import _GROUP_SEP as _GROUP_SEP
from mamori.deid.text.detect.structured import _HEX_COLON as _HEX_COLON
from mamori.deid.text.detect.structured import _HIRA as _HIRA
from mamori.deid.text.detect.structured import _IPV4 as _IPV4
from mamori.deid.text.detect.structured import _IPV6 as _IPV6
from mamori.deid.text.detect.structured import _JP_NON_FIXED as _JP_NON_FIXED
from mamori.deid.text.detect.structured import _JP_PHONE_DIGITS as _JP_PHONE_DIGITS
from mamori.deid.text.detect.structured import _KANJI as _KANJI
from mamori.deid.text.detect.structured import _KATA as _KATA
from mamori.deid.text.detect.structured import _NON_DIGIT as _NON_DIGIT
from mamori.deid.text.detect.structured import _ONE_KANJI as _ONE_KANJI
from mamori.deid.text.detect.structured import _ONE_KANJI_KATA as _ONE_KANJI_KATA
from mamori.deid.text.detect.structured import _ORDER_CONTEXT as _ORDER_CONTEXT
from mamori.deid.text.detect.structured import _PHONE as _PHONE
from mamori.deid.text.detect.structured import _POSTAL as _POSTAL
from mamori.deid.text.detect.structured import _SEP as _SEP
from mamori.deid.text.detect.structured import _find_bank as _find_bank
from mamori.deid.text.detect.structured import _find_ips as _find_ips
from mamori.deid.text.detect.structured import _find_numbers as _find_numbers
from mamori.deid.text.detect.structured import _find_phones as _find_phones
from mamori.deid.text.detect.structured import _find_postal as _find_postal
from mamori.deid.text.detect.structured import _groups_ok as _groups_ok
from mamori.deid.text.detect.structured import _jp_phone_valid as _jp_phone_valid
from mamori.deid.text.detect.structured import _nanp_area_valid as _nanp_area_valid
from mamori.deid.text.detect.structured import _nanp_valid as _nanp_valid
