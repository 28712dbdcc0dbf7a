"""The report clock (R-26-2, R-26-3, G-33): day 1 is the day of knowing; 確報 rolls past weekends, holidays and
29 Dec – 3 Jan; 60 days for a wrongful purpose; the GDPR 72 hours. Pure: no database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from mamori.incidents.models import Incident
from mamori.incidents.service.classify import Classification
from mamori.incidents.service.clock import deadlines


def _row(known_at: datetime, **fields: object) -> Incident:
    values: dict[str, object] = {
        "id": "x",
        "number": 1,
        "cause": "misconfiguration",
        "known_at": known_at,
        "role": "operator",
        "prelim_filed_at": None,
        "final_filed_at": None,
        "gdpr_filed_at": None,
        "entrustor_notified_at": None,
    }
    values.update(fields)
    return Incident(**values)


def _cls(*triggers: str, gdpr: bool = False) -> Classification:
    return Classification(
        persons=1,
        persons_max=1,
        sensitive=0,
        financial=0,
        eu=1 if gdpr else 0,
        categories={},
        items={},
        triggers=tuple(triggers),
        exempt=None,
        reportable=bool(triggers),
        gdpr=gdpr,
    )


def _jst(y: int, m: int, d: int, h: int = 10) -> datetime:
    return datetime(y, m, d, h - 9, 0, tzinfo=UTC) if h >= 9 else datetime(y, m, d - 1, h + 15, tzinfo=UTC)


def test_day_one_is_the_jst_day_of_knowing_and_the_prelim_target_is_days_3_to_5_R_26_2():
    # 2026-12-03 23:30 JST is 14:30 UTC on the same day; 2026-12-03 08:00 JST is 2026-12-02 23:00 UTC.
    d = deadlines(_row(datetime(2026, 12, 2, 23, 0, tzinfo=UTC)), _cls("financial"))
    assert d.known_day == date(2026, 12, 3)
    assert (d.prelim_from, d.prelim_due) == (date(2026, 12, 5), date(2026, 12, 7))  # not rolled (a target)


def test_final_due_day_30_in_the_year_end_closure_moves_to_4_january_R_26_3():
    d = deadlines(_row(_jst(2026, 12, 1)), _cls("financial"))
    assert d.final_due == date(2027, 1, 4)  # day 30 = Wed 30 Dec (closure) -> Mon 4 Jan


def test_final_due_day_30_on_a_saturday_moves_to_monday_R_26_3():
    d = deadlines(_row(_jst(2026, 9, 4)), _cls("sensitive"))
    assert d.final_due == date(2026, 10, 5)  # day 30 = Sat 3 Oct -> Mon 5 Oct


def test_final_due_day_30_on_a_holiday_moves_to_the_next_business_day_R_26_3():
    d = deadlines(_row(_jst(2026, 10, 25)), _cls("sensitive"))
    assert d.final_due == date(2026, 11, 24)  # day 30 = Mon 23 Nov (勤労感謝の日) -> Tue 24 Nov


def test_final_due_on_a_working_day_stays_R_26_3():
    d = deadlines(_row(_jst(2026, 11, 4)), _cls("sensitive"))
    assert d.final_due == date(2026, 12, 3)  # day 30 = Thu 3 Dec


def test_a_wrongful_purpose_gives_60_days_even_with_other_triggers_R_26_3():
    d = deadlines(_row(_jst(2026, 12, 1)), _cls("sensitive", "wrongful"))
    assert d.final_due == date(2027, 1, 29)  # day 60 = Fri 29 Jan
    d = deadlines(_row(_jst(2026, 12, 4)), _cls("wrongful"))
    assert d.final_due == date(2027, 2, 1)


def test_gdpr_72_hours_from_awareness_only_for_gdpr_incidents_G_33():
    known = datetime(2026, 12, 4, 1, 0, tzinfo=UTC)
    assert deadlines(_row(known), _cls("sensitive")).gdpr_due is None
    d = deadlines(_row(known), _cls(gdpr=True))
    assert d.gdpr_due == known + timedelta(hours=72)
    assert d.next_due(known) == ("gdpr", known + timedelta(hours=72))
    assert d.overdue(known + timedelta(hours=72)) == ()
    assert d.overdue(known + timedelta(hours=72, seconds=1)) == ("gdpr",)


def test_next_due_and_overdue_follow_the_filings_R_26_2_R_26_3():
    known = _jst(2026, 12, 1)
    row = _row(known)
    d = deadlines(row, _cls("financial"))
    assert d.next_due(known) == ("prelim", date(2026, 12, 5))
    late = datetime(2026, 12, 5, 15, 1, tzinfo=UTC)  # 6 Dec 00:01 JST
    assert d.overdue(datetime(2026, 12, 5, 14, 59, tzinfo=UTC)) == ()
    assert d.overdue(late) == ("prelim",)
    row.prelim_filed_at = late
    d = deadlines(row, _cls("financial"))
    assert d.next_due(late) == ("final", date(2027, 1, 4)) and d.overdue(late) == ()
    row.final_filed_at = late
    assert deadlines(row, _cls("financial")).next_due(late) is None


def test_a_final_report_serves_as_the_prelim_too_and_nothing_is_owed_when_not_reportable_R_26_3():
    known = _jst(2026, 12, 1)
    row = _row(known, final_filed_at=known)
    assert deadlines(row, _cls("financial")).next_due(known) is None
    assert deadlines(_row(known), _cls()).next_due(known) is None  # no trigger: no PPC report


def test_an_outsourcee_that_notified_the_entrustor_owes_no_ppc_report_R_26_5():
    known = _jst(2026, 12, 1)
    row = _row(known, role="outsourcee", entrustor_notified_at=known)
    assert deadlines(row, _cls("financial")).next_due(known) is None
