"""The mapping step of the import wizard (issue 19): the web form's fields ↔ the mapping the CLI uses.

The form is per mamori target (氏名, フリガナ, …, 顧客番号, 登録日, 担当営業, 通知済みの利用目的, and custom attributes
``attr:<key>`` with their data category): each target takes one or several columns of the file, in order, with
「つなげる」 and a separator for the single-valued ones (phone and e-mail take several columns as several contact
points). The mapping itself — and its refusals (``mapping_conflict``: two columns on a single-valued target without
a join; ``bad_mapping``: a column not in the file) — is :mod:`mamori.customers.service.import_mapping`'s; this module
only turns the form into that mapping and says next to which target a refusal belongs.

Nothing here holds a value from the file: columns are headings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import FormData

from mamori.customers.service import import_mapping
from mamori.customers.service.import_mapping import ImportMapping
from mamori.kernel import validation
from mamori.kernel.errors import MamoriError

MULTI = import_mapping.MULTI_VALUED  # several columns: several contact points (never joined)
CATEGORIES = import_mapping.CATEGORIES  # 要配慮 is never a category of a bulk import (R-20-2)
MAX_ATTRS = 30  # custom attributes in one mapping (the form shows the ones in use and one empty row)
MAX_COLUMNS = 20  # columns on one target
_WORDS = {  # targets that are not customer fields (no label of their own in the field dictionary)
    "external_id": ("顧客番号（外部ID）", "Customer number (external id)"),
    "registered_on": ("登録日", "Registration date"),
    "owner": ("担当営業", "Sales owner"),
    "notified_purposes": ("通知済みの利用目的（行ごと）", "Notified purposes (per row)"),
}


class BadChoice(Exception):
    """The form sent a column or a choice that is not on the page (a forged or stale form)."""


@dataclass
class Choice:
    columns: list[str] = field(default_factory=list)
    join: bool = False
    sep: str | None = None  # None: the mapping's default separator for the target


@dataclass
class AttrChoice:
    key: str
    category: str = "attribute"
    choice: Choice = field(default_factory=Choice)


@dataclass
class MappingState:
    """What the mapping step shows and sends back; ``values`` (per-target value maps such as gender codes),
    ``id_system`` and ``name`` come from a saved mapping and are kept as they are."""

    fields: dict[str, Choice] = field(default_factory=dict)
    attrs: list[AttrChoice] = field(default_factory=list)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    id_system: str | None = None
    name: str | None = None

    def columns_of(self, target: str) -> list[str]:
        if target.startswith("attr:"):
            key = target[5:]
            return next((a.choice.columns for a in self.attrs if a.key == key), [])
        return self.fields.get(target, Choice()).columns


def targets(*, owner: bool) -> list[str]:
    """The mamori targets the page offers, in the mapping's order (``owner`` only to whoever chooses owners)."""
    return [t for t in import_mapping.TARGETS if not t.startswith("attr") and (owner or t != "owner")]


def target_word(target: str, lang: str) -> str:
    if target in _WORDS:
        ja, en = _WORDS[target]
        return en if lang == "en" else ja
    if target.startswith("attr:"):
        return target[5:]
    return validation.field_name(target, lang)


def is_multi(target: str) -> bool:
    return target in MULTI


def default_sep(target: str, lang: str) -> str:
    """The separator a join uses when none is given (the mapping's rule), in words for a placeholder."""
    sep = import_mapping.DEFAULT_SEPS.get(target, import_mapping.DEFAULT_SEP)
    shown = {" ": ("空白", "space"), "": ("なし", "none")}.get(sep)
    word = (shown[1] if lang == "en" else shown[0]) if shown else sep
    return f"{'default' if lang == 'en' else '既定'}: {word}"


def from_mapping(m: ImportMapping) -> MappingState:
    state = MappingState(values={k: dict(v) for k, v in m.values.items()}, id_system=m.id_system, name=m.name)
    for target, fm in m.fields.items():
        choice = Choice(list(fm.columns), bool(fm.join), fm.sep)
        if target.startswith("attr:"):
            key = target[5:]
            state.attrs.append(AttrChoice(key, m.attributes.get(key, "attribute"), choice))
        else:
            state.fields[target] = choice
    return state


def _text(form: FormData, name: str, limit: int) -> str:
    raw = form.get(name)
    return raw.strip()[:limit] if isinstance(raw, str) else ""


def _columns(form: FormData, name: str, header: list[str] | set[str]) -> list[str]:
    picked = [c for c in form.getlist(name) if isinstance(c, str) and c]
    if len(picked) > MAX_COLUMNS or any(c not in header for c in picked):
        raise BadChoice
    return list(dict.fromkeys(picked))  # the same column twice on one target counts once


def _sep(form: FormData, name: str) -> str | None:
    raw = form.get(name)
    if not isinstance(raw, str) or raw == "":
        return None
    return raw[: import_mapping.MAX_SEP_CHARS]  # a space is a separator: not stripped


def from_form(form: FormData, header: list[str], offered: list[str], before: MappingState) -> MappingState:
    """The state the mapping form sent. Raises :class:`BadChoice` for a column that is not in the file or a
    category that does not exist; everything else is for the mapping's own validation to judge."""
    state = MappingState(values=before.values, id_system=before.id_system, name=before.name)
    # the file's headings, and those of a saved mapping the page shows as "not in the file" (compile refuses them)
    known = set(header) | {c for t in _all_targets(before) for c in before.columns_of(t)}
    for target in offered:
        cols = _columns(form, f"col_{target}", known)
        if cols:
            join = not is_multi(target) and _text(form, f"join_{target}", 2) == "1"
            state.fields[target] = Choice(
                cols, join, None if is_multi(target) else _sep(form, f"sep_{target}")
            )
    for i in range(MAX_ATTRS + 1):
        key = _text(form, f"attr_key_{i}", 80)
        cols = _columns(form, f"attr_col_{i}", known)
        if not key and not cols:
            continue
        category = _text(form, f"attr_cat_{i}", 40) or "attribute"
        if category not in CATEGORIES:
            raise BadChoice
        join = _text(form, f"attr_join_{i}", 2) == "1"
        state.attrs.append(AttrChoice(key, category, Choice(cols, join, _sep(form, f"attr_sep_{i}"))))
    if "id_system" in form:
        state.id_system = _text(form, "id_system", 100) or None
    return state


def body(state: MappingState, sheet: str | None) -> dict[str, Any]:
    """The mapping as the saved mappings and mapping files hold it."""
    fields: dict[str, Any] = {
        t: {"columns": c.columns, "join": c.join, "sep": c.sep} for t, c in state.fields.items() if c.columns
    }
    for a in state.attrs:
        fields[f"attr:{a.key}"] = {"columns": a.choice.columns, "join": a.choice.join, "sep": a.choice.sep}
    return {
        "fields": fields,
        "attributes": {a.key: a.category for a in state.attrs},
        "values": state.values,
        "sheet": sheet,
        "id_system": state.id_system,
        "name": state.name,
    }


@dataclass
class Checked:
    """The mapping, or why it cannot be used: per target (shown next to it) and for the whole mapping."""

    mapping: ImportMapping | None
    problems: dict[str, str] = field(default_factory=dict)
    problem: str | None = None
    code: str | None = None


def check(state: MappingState, header: list[str], sheet: str | None, lang: str) -> Checked:
    """Build the mapping and compile it against the file's header (the mapping's own refusals, in words)."""
    try:
        mapping = import_mapping.from_dict(body(state, sheet))
        import_mapping.compile(mapping, header)
    except MamoriError as exc:
        return refused(exc, state, header, sheet, lang)
    return Checked(mapping)


def refused(
    exc: MamoriError, state: MappingState, header: list[str], sheet: str | None, lang: str
) -> Checked:
    """A refusal of the mapping: next to the target(s) it names, else next to each target that is refused on
    its own (found by asking the mapping about each target alone), else for the whole mapping."""
    out = Checked(None, code=exc.code)
    where = [t for t in _all_targets(state) if _alone_refused(state, t, header, sheet, exc)]
    if not where and exc.code == "mapping_conflict":  # one column on two targets: both are shown
        where = _sharing(state)
    if where:
        out.problems = {t: exc.message(lang) for t in where}
    else:
        out.problem = exc.message(lang)
    return out


def _all_targets(state: MappingState) -> list[str]:
    return [t for t, c in state.fields.items() if c.columns] + [f"attr:{a.key}" for a in state.attrs]


def _sharing(state: MappingState) -> list[str]:
    """The targets that share a column with another target."""
    owners: dict[str, list[str]] = {}
    for t in _all_targets(state):
        for c in state.columns_of(t):
            owners.setdefault(c, []).append(t)
    return sorted({t for ts in owners.values() if len(ts) > 1 for t in ts})


def _alone_refused(
    state: MappingState, target: str, header: list[str], sheet: str | None, exc: MamoriError
) -> bool:
    """Whether the mapping refuses ``target`` on its own with the same refusal."""
    alone = MappingState(values={}, id_system=state.id_system)
    if target.startswith("attr:"):
        alone.attrs = [a for a in state.attrs if f"attr:{a.key}" == target]
    else:
        alone.fields = {target: state.fields[target]}
    name = state.fields.get("name")
    if target != "name" and name is not None and name.columns:
        alone.fields["name"] = Choice(name.columns[:1])  # so that "no column for name" is not what it says
    try:
        import_mapping.compile(import_mapping.from_dict(body(alone, sheet)), header)
    except MamoriError as again:
        return again.code == exc.code and again.message_en == exc.message_en
    return False
