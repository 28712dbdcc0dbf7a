"""English and Latin-script person names: titles, dictionary pairs, greetings and sign-offs, "My name is"
and label contexts, Latin names with a katakana reading."""

from __future__ import annotations

import re
from functools import lru_cache

from mamori.deid.text import names
from mamori.deid.text.detect.common import Finding, lazy_compile
from mamori.deid.text.detect.persons_common import _LATIN_COMPANY, _LATIN_ROLES, _latin_ok
from mamori.deid.text.detect.structured import _KATA

_EN_TITLE = lazy_compile(
    r"(?:M(?<![A-Za-z].)(?:r|rs|s|iss)|D(?<![A-Za-z].)r|P(?<![A-Za-z].)rof)\.?\s((?:[A-Z][a-z]+(?:-[A-Z][a-z]+)?\s)?[A-Z][a-z]+(?:-[A-Z][a-z]+)?|[A-Z]{2,}(?![A-Za-z]))"
)

_EN_CAND = lazy_compile(
    r"([A-Z](?<![A-Za-z].)"
    r"(?<!(?=(?:Dear|Hi|Hello|Name|From|Contact|Regards|Sincerely|Thanks|Mr|Mrs|Ms|Miss|Dr|Prof)\b).)[a-z]+)(?:\s([A-Z])\.)?\s([A-Z][a-z]+(?:-[A-Z][a-z]+)?)(?![A-Za-z])"
)

_EN_LABEL = lazy_compile(r"(?:Dear|Name|Contact|From|Attendee|Speaker|Regards,?|Sincerely,?)[\s:,]*$")


def _find_person_en(norm: str) -> list[Finding]:
    out: list[Finding] = []
    firsts = names.en_first_names()
    lasts = names.en_last_names()
    if "M" in norm or "D" in norm or "P" in norm:
        for m in _EN_TITLE.finditer(norm):
            out.append(Finding("person", m.start(1), m.end(1)))
    for m in _EN_CAND.finditer(norm):
        first, last = m.group(1), m.group(3)
        labelled = bool(_EN_LABEL.search(norm[max(0, m.start() - 12) : m.start()]))
        if first in firsts and (last in lasts or labelled or last.split("-")[0] in lasts):
            out.append(Finding("person", m.start(), m.end()))
        elif labelled and (first in firsts or last in lasts):
            out.append(Finding("person", m.start(), m.end()))
    return out


_EN_CAP = r"[A-Z][a-z]+(?:-[A-Z][a-z]+)?"

_GREETING = lazy_compile(
    r"(?=[ HDGMT])(?:^|(?<=\n))[ ]*(?:Hi|Hello|Hey|Dear|Good (?:morning|afternoon|evening)|Morning|Thanks|Thank you),?[ ]+"
    r"(" + _EN_CAP + r"(?:[ ]" + _EN_CAP + r")?)[ ]*(?=[,!:\n]|$)",
    re.MULTILINE,
)

_SIGN_OFF = lazy_compile(
    r"(?:Thanks|Thank you|Many thanks|Best|Best regards|Kind regards|Warm regards|Regards|Cheers|Sincerely|"
    r"Yours(?: sincerely| truly)?|All the best|Cordially|Take care|Best wishes|Talk soon)[,!.]?[ ]*"
    r"(?:\n[ ]*|[ ]+|[ ]*-[ ]*)"
    r"(" + _EN_CAP + r"(?:[ ]" + _EN_CAP + r")?)[ ]*(?=\n|$)",
    re.MULTILINE,
)


def _find_person_en_context(norm: str) -> list[Finding]:
    out: list[Finding] = []
    stop = names.en_not_names()
    for pat in (_GREETING, _SIGN_OFF):
        for m in pat.finditer(norm):
            words = m.group(1).split()
            if all(w.lower() not in stop for w in words):
                out.append(Finding("person", m.start(1), m.end(1)))
    return out


# English contexts: "My name is …", "I'm …", "From: … <", "Customer: …, ", "my colleague …".
_EN_WORD = r"(?:[A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)?|[A-Z]{2,}[0-9A-Z]*)"


def _both(*words: str) -> list[str]:
    """Each word capitalised and in lower case (literals, not a class: see ``_EN_CONTEXT``)."""
    return [v for w in words for v in (w[0].upper() + w[1:], w[0].lower() + w[1:])]


_NAME_TAIL = r"name(?: here)?(?: is| as)?"

_EN_LABELS = (
    "From Customer Visitor Guests? Companion Account_holder Full_name Contact_person Patient Name Attendee "
    "Speaker Host Holder speaker_tonight 名義 氏名 お名前 候補者 出向者 申込者 契約者 患者様?"
).split()

# Every alternative starts with a literal character (case variants spelt out, a shared tail repeated), so the
# engine skips other characters fast; the order is that of the words in one alternation.
_EN_CONTEXT_WORDS = (
    _both("my name is")
    + ["I'm", "I am"]
    + _both(
        "this is", "it's", "colleague", "partner", "husband", "wife", "daughter", "son", "engineer(?:の)?"
    )
    + ["customer", "Hi", "Hey", "Thanks,", "Happy Birthday"]
    + [w + " " + _NAME_TAIL for w in _both("family", "maiden", "legal", "last", "first", "given")]
    + [_NAME_TAIL]
    + [w.replace("_", " ") + r"[ ]*[:：]" for w in _EN_LABELS]
    + _both("host,")
)

_EN_CONTEXT = lazy_compile(
    r"(?:" + "|".join(_EN_CONTEXT_WORDS) + r")[ ]*"
    r"(?:(?:Mr|Mrs|Ms|Miss|Dr)\.?[ ])?"
    r"(" + _EN_WORD + r"(?:,?[ ]{1,2}" + _EN_WORD + r"){0,3})"
    r"(?![A-Za-z])"
)


@lru_cache(maxsize=1)
def _not_name_or_role() -> frozenset[str]:
    return names.en_not_names() | _LATIN_ROLES


_ASCII_CAPITAL = lazy_compile(r"[A-Z]")


# A reading in brackets after a Latin name: Marisol Castellanos（マリソル・カステヤノス）.
_LATIN_READING = lazy_compile(r"[A-Za-z][ ]?\(([" + _KATA + r"ー][" + _KATA + r"ー ・]{1,24})\)")

_LATIN_PAIR_READING = lazy_compile(
    r"(?=[A-Z])([A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)?[ ][A-Z][A-Za-z'-]+)[ ]?\((["
    + _KATA
    + r"ー]{2,12}[ ・]["
    + _KATA
    + r"ー]{2,12})\)"
)


def _find_en_context_names(norm: str) -> list[Finding]:
    """A Latin name after an English context word or a label ("My name is …", "Customer: …", "名義:")."""
    out: list[Finding] = []
    # the name after the context word starts with an ASCII capital: without one, nothing to scan for
    for m in _EN_CONTEXT.finditer(norm) if _ASCII_CAPITAL.search(norm) else ():
        if m.start() and norm[m.start() - 1].isascii() and norm[m.start() - 1].isalpha():
            continue
        cand = m.group(1)
        if any(w.strip(",").lower() in _LATIN_COMPANY for w in cand.split()):
            continue
        if (
            ", " in cand
            and not cand.split(",")[0].isupper()
            and ":" not in m.group(0)[: m.start(1) - m.start()]
        ):
            cand = cand.partition(", ")[0]
        elif ", " in cand and not cand.split(",")[0].isupper():
            # a list of names (Guests: A B, C D): the first one here, the others below
            first, _, more = cand.partition(", ")
            for mm in re.finditer(_EN_WORD + r"(?:[ ]" + _EN_WORD + r")*", more):
                if _latin_ok(mm.group()):
                    st = m.start(1) + len(first) + 2 + mm.start()
                    out.append(Finding("person", st, st + len(mm.group())))
            cand = first
        words = [w.strip(",") for w in cand.split()]
        while words and words[-1].lower() in _not_name_or_role():
            words.pop()
        if not words or not _latin_ok(" ".join(words)):
            continue
        if len(words) == 1 and words[0].isupper() and len(words[0]) <= 3:
            continue
        end = m.start(1) + len(cand)
        while norm[m.start(1) : end].split() and norm[end - 1 : end].isspace():
            end -= 1
        # trim stripped words from the end
        text = norm[m.start(1) : end]
        while len(text.replace(",", "").split()) > len(words):
            text = text[: text.rstrip().rfind(" ")].rstrip().rstrip(",")
        out.append(Finding("person", m.start(1), m.start(1) + len(text)))
    return out


def _find_latin_pair_readings(norm: str) -> list[Finding]:
    """A Latin full name with its katakana reading in brackets: both spans (Marisol Castellanos（マリソル・カステヤノス）)."""
    out: list[Finding] = []
    for m in _LATIN_PAIR_READING.finditer(norm):
        if m.start() and norm[m.start() - 1].isascii() and norm[m.start() - 1].isalpha():
            continue
        if _latin_ok(m.group(1)):
            out.append(Finding("person", m.start(1), m.end(1)))
            out.append(Finding("person", m.start(2), m.end(2)))
    return out
