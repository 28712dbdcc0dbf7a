"""The lifecycle slice registers no subject data source (issue 21).

What it stores refers to people only by id and describes the organisation's handling, not the person: retention
rules (purpose, category, period), disposal records (counts, dates, who ran them, the method — never an id list),
handovers (staff ids and a count) and legal holds (a customer id, a reason code, who set and released it). A legal
hold is the organisation's own obligation to keep evidence; it holds no value of the person's data, and an
erasure leaves the customer row as a tombstone the hold can still point at. Retention disposal itself goes
through every other slice's source (``mamori.kernel.registry.erase_subjects``).
"""


def register() -> None:
    """Nothing to register: see the module docstring."""
