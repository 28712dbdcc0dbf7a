"""The report clock (R-26-2, R-26-3, G-33): 速報 target, 確報 deadline, the GDPR 72 hours.

- The day the company knew (JST date of ``known_at``) is day 1 (R-26-3).
- 速報 (R-26-2): "promptly" — about 3-5 days: from day 3, due day 5 (a target, not rolled).
- 確報 (R-26-3): day 30, or day 60 when trigger (3) "wrongful" applies (even with others); a last day on a
  weekend, a Japanese holiday or 29 Dec – 3 Jan moves to the next working day (``calendar_jp.roll_forward``).
- GDPR (G-33): 72 hours from awareness, when EU/UK people are in scope and the breach is not risk-free.

A filed report is not due: ``next_due`` / ``overdue`` read the filing dates on the row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from mamori.incidents.models import Incident
from mamori.incidents.service.classify import Classification
from mamori.kernel.clock import JST
from mamori.law.calendar_jp import roll_forward

R_26_2 = "R-26-2"
R_26_3 = "R-26-3"
G_33 = "G-33"
PRELIM_FROM_DAY = 3  # R-26-2: 概ね3～5日
PRELIM_DUE_DAY = 5
FINAL_DAYS = 30  # R-26-3
FINAL_DAYS_WRONGFUL = 60  # R-26-3, trigger (3)
GDPR_HOURS = 72  # G-33

DEADLINE_KINDS = ("gdpr", "prelim", "final")
DEADLINE_LABELS = {
    "prelim": ("速報", "preliminary report"),
    "final": ("確報", "final report"),
    "gdpr": ("GDPR 72時間", "GDPR 72 hours"),
}
RULE_OF = {"prelim": R_26_2, "final": R_26_3, "gdpr": G_33}


def day_n(known_day: date, n: int) -> date:
    """Day ``n`` counted with the day of knowing as day 1 (R-26-3)."""
    return known_day + timedelta(days=n - 1)


def final_due_R_26_3(known_day: date, wrongful: bool) -> date:
    """R-26-3: day 30 (day 60 for a wrongful purpose), rolled forward past weekends, holidays and 29/12–3/1."""
    days = FINAL_DAYS_WRONGFUL if wrongful else FINAL_DAYS
    return roll_forward(day_n(known_day, days))


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True)
class Deadlines:
    """The deadlines of one incident, with its filing dates (a filed report is not due)."""

    known_day: date  # JST date of knowing: day 1
    prelim_from: date  # day 3 (R-26-2)
    prelim_due: date  # day 5 (R-26-2)
    final_due: date  # day 30 / 60, rolled forward (R-26-3)
    gdpr_due: datetime | None  # known_at + 72 h (G-33), UTC
    reportable: bool = True  # R-26-1: only a reportable incident owes the PPC reports
    prelim_filed: bool = False
    final_filed: bool = False
    gdpr_filed: bool = False
    entrustor_notified: bool = False  # R-26-5: an outsourcee that notified the entrustor is released

    def _reports_owed(self) -> bool:
        return self.reportable and not self.entrustor_notified

    def open_items(self) -> list[tuple[str, date | datetime]]:
        """The deadlines still owed: (kind, due) — 速報 and 確報 only for a reportable incident."""
        out: list[tuple[str, date | datetime]] = []
        if self.gdpr_due is not None and not self.gdpr_filed:
            out.append(("gdpr", self.gdpr_due))
        if self._reports_owed() and not self.prelim_filed and not self.final_filed:
            out.append(("prelim", self.prelim_due))  # one report can serve as both (R-26-3)
        if self._reports_owed() and not self.final_filed:
            out.append(("final", self.final_due))
        return out

    def next_due(self, now: datetime) -> tuple[str, date | datetime] | None:
        """The nearest deadline still owed (overdue ones first, being the nearest), or None."""
        items = self.open_items()
        if not items:
            return None
        return min(items, key=lambda item: _sort_instant(item[1]))

    def overdue(self, now: datetime) -> tuple[str, ...]:
        """The kinds of deadline passed and not filed: a date deadline is overdue from the next JST day."""
        today = _utc(now).astimezone(JST).date()
        out: list[str] = []
        for kind, due in self.open_items():
            if isinstance(due, datetime):
                if _utc(now) > _utc(due):
                    out.append(kind)
            elif today > due:
                out.append(kind)
        return tuple(out)


def _sort_instant(due: date | datetime) -> datetime:
    """A deadline as an instant: a date deadline ends at the end of that JST day."""
    if isinstance(due, datetime):
        return _utc(due)
    return datetime(due.year, due.month, due.day, tzinfo=JST).astimezone(UTC) + timedelta(days=1)


def deadline_instant(due: date | datetime) -> datetime:
    """The end of a deadline as a UTC instant (for sorting and days-left)."""
    return _sort_instant(due)


def deadlines(row: Incident, cls: Classification) -> Deadlines:
    """The clock of ``row`` given its classification (R-26-2, R-26-3, G-33)."""
    known_at = _utc(row.known_at)
    known_day = known_at.astimezone(JST).date()
    wrongful = "wrongful" in cls.triggers
    return Deadlines(
        known_day=known_day,
        prelim_from=day_n(known_day, PRELIM_FROM_DAY),
        prelim_due=day_n(known_day, PRELIM_DUE_DAY),
        final_due=final_due_R_26_3(known_day, wrongful),
        gdpr_due=known_at + timedelta(hours=GDPR_HOURS) if cls.gdpr else None,
        reportable=cls.reportable,
        prelim_filed=row.prelim_filed_at is not None,
        final_filed=row.final_filed_at is not None,
        gdpr_filed=row.gdpr_filed_at is not None,
        entrustor_notified=row.role == "outsourcee" and row.entrustor_notified_at is not None,
    )
