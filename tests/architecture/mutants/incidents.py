"""Mutants of issue 22: the leak-report triggers (R-26-1) and the 確報 deadline (R-26-3)."""

from __future__ import annotations

from tests.architecture.mutants.base import Mutant

CLASSIFY = "incidents/service/classify.py"
CLOCK = "incidents/service/clock.py"
TEST_CLASSIFY = "tests/incidents/test_classify.py"
TEST_CLOCK = "tests/incidents/test_clock.py"

MUTANTS = (
    Mutant(
        "R-26-1",
        CLASSIFY,
        "    return bool(rule) and persons_max > 1000\n",
        "    return bool(rule) and persons_max >= 1000\n",
        (f"{TEST_CLASSIFY}::test_1000_people_is_not_trigger_4_R_26_1",),
        "trigger (4) fires at 1,000 people instead of more than 1,000",
    ),
    Mutant(
        "R-26-1",
        CLASSIFY,
        "    return bool(rule) and persons_max > 1000\n",
        "    return False\n",
        (
            f"{TEST_CLASSIFY}::test_1001_peoples_emails_exposed_by_a_misconfiguration_is_trigger_4_R_26_1",
            f"{TEST_CLASSIFY}::test_an_estimate_of_at_most_1001_with_10_counted_is_trigger_4_R_26_1",
        ),
        "more than 1,000 people (counted or at most) never makes an incident reportable",
    ),
    Mutant(
        "R-26-1",
        CLASSIFY,
        '    if financial >= 1:\n        found.append("financial")\n',
        '    if False:\n        found.append("financial")\n',
        (f"{TEST_CLASSIFY}::test_a_card_number_of_one_person_is_trigger_2_R_26_1",),
        "a card number (data whose misuse may cause financial loss) of one person is not reportable",
    ),
    Mutant(
        "R-26-3",
        CLOCK,
        "    days = FINAL_DAYS_WRONGFUL if wrongful else FINAL_DAYS\n",
        "    days = FINAL_DAYS\n",
        (f"{TEST_CLOCK}::test_a_wrongful_purpose_gives_60_days_even_with_other_triggers_R_26_3",),
        "the final report of a wrongful-purpose incident is due in 30 days instead of 60",
    ),
    Mutant(
        "R-26-3",
        CLOCK,
        "    return roll_forward(day_n(known_day, days))\n",
        "    return day_n(known_day, days)\n",
        (
            f"{TEST_CLOCK}::test_final_due_day_30_in_the_year_end_closure_moves_to_4_january_R_26_3",
            f"{TEST_CLOCK}::test_final_due_day_30_on_a_saturday_moves_to_monday_R_26_3",
            f"{TEST_CLOCK}::test_final_due_day_30_on_a_holiday_moves_to_the_next_business_day_R_26_3",
        ),
        "a final-report deadline on a weekend, a holiday or 29 Dec – 3 Jan is not moved to the next working day",
    ),
)
