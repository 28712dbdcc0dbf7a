"""Cost of consulting the rule book at decision time (issue 13, ADR 0009).

    .venv/bin/python bench/policy.py [--n 200000]

Times ``policy.decide`` for a read that passes every check (the longest path: every rule-named check is asked
whether its rule is in force) with the law's rule book registered, against the same decisions with no rule book
registered (the baseline: every rule applies without a lookup). Same process, same resource, alternating runs.
"""

from __future__ import annotations

import argparse
import statistics
import time

from mamori import composition
from mamori.kernel import rulebook
from mamori.kernel.context import Actor, ActorKind, Context, Role
from mamori.kernel.policy import Action, Category, PurposeFacts, Resource, decide
from mamori.kernel.registry import ConsentState, PurposeState


def _setup() -> tuple[Context, Resource]:
    composition.register_all()
    actor = Actor(kind=ActorKind.STAFF, id="u1", name="u1", role=Role.SUPPORT)
    ctx = Context(actor=actor, session=None, runtime=None, purpose="contract")  # type: ignore[arg-type]
    facts = PurposeFacts(
        code="contract",
        categories=frozenset(Category) - {Category.SENSITIVE},
        consent_required_appi=True,
        lawful_basis="contract",
    )
    resource = Resource(
        kind="customer",
        subject_id="c1",
        owner_id="u1",
        purpose=facts,
        notified_purposes=frozenset({"contract"}),
        state=PurposeState(consent=ConsentState.GRANTED),
        gdpr=True,
        fields={"name": Category.IDENTIFIER, "emails": Category.CONTACT, "attr:medical": Category.SENSITIVE},
    )
    return ctx, resource


def _run(ctx: Context, resource: Resource, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        decide(ctx, Action.CUSTOMER_READ, resource)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    ctx, resource = _setup()
    assert decide(ctx, Action.CUSTOMER_READ, resource).allowed
    book = rulebook.rule_book()
    with_book: list[float] = []
    without: list[float] = []
    for _ in range(args.rounds):
        with rulebook.using(book):
            with_book.append(_run(ctx, resource, args.n))
        with rulebook.using(None):
            without.append(_run(ctx, resource, args.n))
    a, b = statistics.median(with_book), statistics.median(without)
    print(f"decide() x {args.n:,}, median of {args.rounds} rounds")
    print(f"  with the rule book:   {a:.3f} s  ({a / args.n * 1e6:.2f} µs per decision)")
    print(f"  without (baseline):   {b:.3f} s  ({b / args.n * 1e6:.2f} µs per decision)")
    print(f"  ratio: {a / b:.2f}x")


if __name__ == "__main__":
    main()
