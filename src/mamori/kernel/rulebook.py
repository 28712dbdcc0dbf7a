"""The rule book at decision time: is a legal rule in force on the context's date? (ADR 0009)

The kernel may not import ``mamori.law``, so the law's lookup ``mamori.law.rules.in_force(rule_id, on)`` is
registered here by ``mamori.composition.register_all``. The policy engine and the services ask
``applies(ctx, rule_id, ...)`` before a check named by a rule: a check whose rules are all not in force on
``ctx.clock``'s JST date is skipped — a rule not yet in force (the 令和8年改正) changes nothing until its date,
and a rule whose ``effective_to`` has passed stops applying.

Fail closed: with no rule book registered every rule applies; an unknown rule id raises (the lookup's error)
instead of being treated as "not in force".
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING

from mamori.kernel.clock import today_jst

if TYPE_CHECKING:
    from mamori.kernel.context import Context

# The rule this module enforces: a rule's behaviour is enabled only within its effective dates (R-R8-3).
ENFORCES = "R-R8-3"

RuleBook = Callable[[str, date], bool]  # (rule id, JST calendar day) -> in force

_book: list[RuleBook] = []


def register_rule_book(book: RuleBook) -> None:
    """Install the lookup (one per process; registering again replaces it)."""
    _book[:] = [book]


def rule_book() -> RuleBook | None:
    return _book[0] if _book else None


def in_force(rule_id: str, on: date) -> bool:
    """Whether ``rule_id`` is in force on ``on``; True when no rule book is registered (fail closed)."""
    book = rule_book()
    return True if book is None else book(rule_id, on)


def applies(ctx: Context, *rule_ids: str) -> bool:
    """Whether a check named by ``rule_ids`` applies on the context's date: while any of its rules is in force."""
    on = today_jst(ctx.clock)
    # A list, not a generator: every id is looked up, so an unknown one raises even after one in force.
    return any([in_force(rule_id, on) for rule_id in rule_ids])


@contextmanager
def using(book: RuleBook | None) -> Iterator[None]:
    """Tests: decide with another rule book (None: none registered), then restore the previous one."""
    saved = list(_book)
    _book[:] = [book] if book is not None else []
    try:
        yield
    finally:
        _book[:] = saved
