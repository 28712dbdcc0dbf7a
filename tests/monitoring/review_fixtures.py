"""A store for the access-review tests (issue 25 "Deliver" 3). Synthetic staff and customers only.

``build_world`` starts on Wednesday 1 July 2026 (10:00 JST) and ends on Monday 23 November 2026 (10:00 JST),
145 days later:

| account   | role            | what happened                                                                 |
| --------- | --------------- | ----------------------------------------------------------------------------- |
| admin     | admin           | signs in in November                                                          |
| po        | privacy officer | signs in in November (the policy does not cover the role)                    |
| sato      | sales           | trained and pledged; owns one customer; an API token (contract, marketing-email); signs in in November |
| ito       | sales           | pledged, NOT trained (the policy is enforced for sales); signs in in November |
| kudo      | sales           | trained and pledged; signed in on 1 July only (145 days before); an API token (contract, a year) never used |
| endo      | sales           | trained and pledged; owns two customers; signed in on 1 July; disabled in November |
| sync-bot  | support, service| a machine client: an API token (contract) issued by the administrator and used in November |

The training policy is switched on for sales on 2 July (a required course 「個人情報保護基礎研修」 valid a year, and a
pledge). The unused-account limit is the default, 90 days.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from mamori.kernel.clock import FrozenClock
from mamori.kernel.context import SYSTEM_ACTOR, Actor, Role
from mamori.kernel.errors import MamoriError
from mamori.kernel.runtime import Runtime
from mamori.purposes import service as purposes_service
from mamori.staff import service as staff_service
from mamori.staff.schemas import ApiTokenCreate, CompletionCreate, CourseCreate, PledgePublish, PledgeSign
from tests.factories import PURPOSES, make_customer
from tests.staff.helpers import PASSWORD, code_now, make_staff, own_token, service_token

START = datetime(2026, 7, 1, 1, 0, tzinfo=UTC)  # Wednesday 1 July 2026, 10:00 JST
NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Monday 23 November 2026, 10:00 JST (145 days later)
PEOPLE = ("admin", "po", "sato", "ito", "kudo", "endo")
ROLES = {
    "admin": Role.ADMIN,
    "po": Role.PRIVACY_OFFICER,
    "sato": Role.SALES,
    "ito": Role.SALES,
    "kudo": Role.SALES,
    "endo": Role.SALES,
}
# The flags of each line, written out by hand from the table above.
EXPECTED_FLAGS = {
    "admin": {"admin"},
    "po": set(),
    "sato": set(),
    "ito": {"untrained"},
    "kudo": {"unused"},
    "endo": {"unused", "disabled_owning"},
    "sync-bot": {"service"},
}


@dataclass
class World:
    rt: Runtime
    secrets: dict[str, str | None] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)  # username -> the API token itself

    def actor(self, username: str) -> Actor:
        with self.rt.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
            return staff_service.actor_for(ctx, username)

    def sign_in(self, username: str) -> str:
        """A sign-in (password + a TOTP code of a step not used before); returns the session token."""
        self.rt.clock.advance(timedelta(seconds=30))  # type: ignore[attr-defined]
        return staff_service.sign_in(
            self.rt, username, PASSWORD, code_now(self.rt, self.secrets[username])
        ).token

    def token_works(self, username: str) -> bool:
        try:
            with self.rt.transaction(SYSTEM_ACTOR) as ctx:
                staff_service.validate_api_token(ctx, self.tokens[username])
        except MamoriError:
            return False
        return True


def build_world(rt: Runtime) -> World:
    clock = rt.clock
    assert isinstance(clock, FrozenClock) and clock.at == START, "override the clock fixture with START"
    world = World(rt)
    with rt.transaction(SYSTEM_ACTOR) as ctx:
        for p in PURPOSES.values():
            purposes_service.add(ctx, p)
    for username in PEOPLE:
        world.ids[username], world.secrets[username] = make_staff(rt, username, ROLES[username])
    with rt.transaction(world.actor("po")) as ctx:
        staff_service.add_course(
            ctx, CourseCreate(code="privacy-basics", title="個人情報保護基礎研修", validity_days=365)
        )
        staff_service.publish_pledge(
            ctx, PledgePublish(title="秘密保持誓約書", body="業務上知り得た個人情報を漏らしません。")
        )
        for username in ("sato", "kudo", "endo"):
            staff_service.record_completion(ctx, CompletionCreate(username=username, course="privacy-basics"))
        for username in ("sato", "ito", "kudo", "endo"):
            staff_service.sign_pledge(ctx, PledgeSign(username=username))
    make_customer(rt, world.actor("sato"), name="架空 一郎", email="ichiro@example.jp", phone="090-1234-5601")
    for n in (2, 3):
        make_customer(
            rt, world.actor("endo"), name=f"架空 {n}郎", email=f"r{n}@example.jp", phone=f"090-1234-560{n}"
        )
    world.sign_in("kudo")
    world.sign_in("endo")
    world.tokens["kudo"] = own_token(
        rt,
        "kudo",
        world.secrets["kudo"],
        ApiTokenCreate(name="kudo-cli", purposes=["contract"], expires_in_days=365),
    ).token
    clock.advance(timedelta(days=1))  # 2 July: the policy is switched on for sales
    with rt.transaction(world.actor("po")) as ctx:
        staff_service.set_policy(ctx, True, [Role.SALES])
    clock.at = NOW - timedelta(hours=2)
    world.tokens["sato"] = own_token(
        rt,
        "sato",
        world.secrets["sato"],
        ApiTokenCreate(name="sato-sync", purposes=["marketing-email", "contract"]),
    ).token
    world.tokens["sync-bot"] = service_token(
        rt, "sync-bot", Role.SUPPORT, ApiTokenCreate(name="sync", purposes=["contract"])
    ).token
    assert world.token_works("sync-bot")  # used today (last_used_at)
    with rt.transaction(world.actor("admin")) as ctx:
        staff_service.disable(ctx, "endo")
    for username in ("admin", "po", "sato", "ito"):
        world.sign_in(username)
    clock.at = NOW
    return world


# -- the attacker: the database driver and hashlib, no mamori code ----------------------------------------------------


class Attacker:
    """A raw DB-API connection to the data store (``sqlite3`` on the file; ``psycopg`` on PostgreSQL as the
    owner role), autocommit."""

    def __init__(self, settings: Any) -> None:
        url = str(settings.database_url)
        if url.startswith("sqlite"):
            self.conn: Any = sqlite3.connect(url.split("///", 1)[1], isolation_level=None)
            self.conn.row_factory = sqlite3.Row
            self.mark = "?"
        else:
            import psycopg
            from psycopg.rows import dict_row

            owner = str(settings.migration_database_url or url)
            self.conn = psycopg.connect(
                owner.replace("postgresql+psycopg://", "postgresql://"), autocommit=True, row_factory=dict_row
            )
            self.mark = "%s"

    def sql(self, statement: str, *params: Any) -> list[dict[str, Any]]:
        cursor = self.conn.execute(statement.replace("?", self.mark), params)
        rows = cursor.fetchall() if cursor.description else []
        return [dict(r) for r in rows]

    def close(self) -> None:
        self.conn.close()

    # the seal as the docs describe it (mamori.monitoring.service.reviews.canonical), rebuilt from raw rows

    @staticmethod
    def _at(value: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat(timespec="microseconds")

    @staticmethod
    def _day(value: Any) -> str:
        return value if isinstance(value, str) else date.isoformat(value)

    def reseal(self, review_id: str) -> str:
        """Recompute the SHA-256 of the review as it is now and write it into access_reviews.digest."""
        review = self.sql("SELECT * FROM access_reviews WHERE id = ?", review_id)[0]
        lines = self.sql("SELECT * FROM access_review_lines WHERE review_id = ?", review_id)
        doc = {
            "review": {
                "id": review["id"],
                "ref": review["ref"],
                "period_start": self._day(review["period_start"]),
                "period_end": self._day(review["period_end"]),
                "unused_days": int(review["unused_days"]),
                "status": review["status"],
                "started_by": review["started_by"],
                "started_at": self._at(review["started_at"]),
                "closed_by": review["closed_by"],
                "closed_at": self._at(review["closed_at"]),
            },
            "lines": [
                {
                    **{k: line[k] for k in ("id", "review_id", "staff_id", "username", "role", "kind")},
                    **{k: line[k] for k in ("token_purposes", "flags", "decision", "change", "note")},
                    "decided_by": line["decided_by"],
                    "active": bool(line["active"]),
                    "trained": bool(line["trained"]),
                    "pledged": bool(line["pledged"]),
                    "tokens": int(line["tokens"]),
                    "owned_customers": int(line["owned_customers"]),
                    "last_sign_in": self._at(line["last_sign_in"]),
                    "decided_at": self._at(line["decided_at"]),
                }
                for line in sorted(lines, key=lambda x: (x["staff_id"], x["id"]))
            ],
        }
        text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        self.sql("UPDATE access_reviews SET digest = ? WHERE id = ?", digest, review_id)
        return digest
