"""Cost of consulting the rule book at decision time (issue 13, ADR 0009).

    .venv/bin/python bench/policy.py [--n 200000] [--json]

Times ``policy.decide`` with the law's rule book registered against the same decisions with no rule book
registered (the baseline: every rule applies without a lookup), same process, alternating runs, for two cases:

* allowed — a read that passes every check. The engine asks the rule book only when a check would refuse
  (``condition and applies(...)``), so this path makes no lookup at all;
* refused — a read of a person the purpose was not notified to: one lookup (R-21-1 / R-18-1) before the denial.
"""

from __future__ import annotations

import argparse
import json
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


def _refused(resource: Resource) -> Resource:
    return Resource(**{**resource.__dict__, "notified_purposes": frozenset()})


def _run(ctx: Context, resource: Resource, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        decide(ctx, Action.CUSTOMER_READ, resource)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = parser.parse_args()
    ctx, allowed = _setup()
    refused = _refused(allowed)
    assert decide(ctx, Action.CUSTOMER_READ, allowed).allowed
    assert decide(ctx, Action.CUSTOMER_READ, refused).code == "purpose_not_notified"
    book = rulebook.rule_book()
    if not args.json:
        print(f"decide() x {args.n:,}, median of {args.rounds} rounds")
    result: dict[str, object] = {"bench": "policy", "n": args.n, "rounds": args.rounds}
    for label, resource in (("allowed", allowed), ("refused", refused)):
        with_book: list[float] = []
        without: list[float] = []
        for _ in range(args.rounds):
            with rulebook.using(book):
                with_book.append(_run(ctx, resource, args.n))
            with rulebook.using(None):
                without.append(_run(ctx, resource, args.n))
        a, b = statistics.median(with_book), statistics.median(without)
        result[label] = {
            "with_rule_book_us": round(a / args.n * 1e6, 3),
            "without_rule_book_us": round(b / args.n * 1e6, 3),
            "ratio": round(a / b, 3),
        }
        if not args.json:
            print(
                f"  {label}: with the rule book {a / args.n * 1e6:.2f} µs, without {b / args.n * 1e6:.2f} µs"
                f" per decision — ratio {a / b:.2f}x"
            )
    if args.json:
        print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
