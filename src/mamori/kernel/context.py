"""Context: the only way into a service that touches personal data.

A Context carries who acts (the actor), why (the declared purpose), when (the clock), the business
session, and the runtime (keystore, audit writer). Services take it as their first argument.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from mamori.kernel.clock import Clock, SystemClock

if TYPE_CHECKING:
    from mamori.kernel.runtime import Runtime


class ActorKind(StrEnum):
    STAFF = "staff"
    OUTSOURCEE = "outsourcee"
    PERSON = "person"
    SYSTEM = "system"


class Role(StrEnum):
    ADMIN = "admin"
    PRIVACY_OFFICER = "privacy_officer"
    SALES = "sales"
    SUPPORT = "support"
    ANALYST = "analyst"
    OUTSOURCEE = "outsourcee"  # an operator at a 委託先, limited to its contract's grant (R-25-1)
    PERSON = "person"  # the data subject on the public request routes; no staff permission at all
    SYSTEM = "system"


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    id: str
    name: str
    role: Role
    team: str | None = None
    # False when the training policy covers the actor's role and they lack a current required training or the
    # latest pledge (R-23-3, set by the staff slice when it builds the actor): every personal-data action is refused.
    cleared: bool = True
    # The credential the actor came through, as the audit log records it (``details["via"]``): ``session:<id>`` or
    # ``token:<id>`` (the public row id, never the secret), None for the CLI's ``--as`` and system work. An incident's
    # scope is drawn from the audit log by account, session or token (issue 22, R-26-1).
    via: str | None = None
    # The network the request came from, as a keyed tag (``n`` + 12 hex: HMAC of the /24 or /48 prefix under a
    # keystore secret, never the address itself), recorded as ``details["net"]`` so that the monitoring slice can
    # notice reads from a network new to the person (issue 25). None for the CLI and system work.
    net: str | None = None

    @property
    def label(self) -> str:
        """How the actor appears in the audit log: kind:id (never a personal value)."""
        return f"{self.kind.value}:{self.id}"


SYSTEM_ACTOR = Actor(kind=ActorKind.SYSTEM, id="system", name="system", role=Role.SYSTEM)


@dataclass
class Context:
    actor: Actor
    session: Session
    runtime: Runtime
    purpose: str | None = None
    clock: Clock = field(default_factory=SystemClock)
    lang: str = "ja"
    # Facts that cannot change inside one unit of work (e.g. a purpose's current version), memoised per Context.
    memo: dict[object, object] = field(default_factory=dict)

    def with_purpose(self, purpose: str | None) -> Context:
        return Context(
            actor=self.actor,
            session=self.session,
            runtime=self.runtime,
            purpose=purpose,
            clock=self.clock,
            lang=self.lang,
        )
