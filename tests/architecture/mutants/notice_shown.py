"""Mutant of issue 18: the privacy center's form shows the published notice before submission (R-21-2)."""

from __future__ import annotations

from tests.architecture.mutants.base import Mutant

MUTANTS = (
    Mutant(
        "R-21-2",
        "rights/service/core/opening.py",
        "    if version is None or notice_version(ctx, version) is None:\n",
        "    if False:\n",
        (
            "tests/rights/test_api.py::test_public_request_without_the_shown_notice_is_refused_R_21_2",
            "tests/rights/test_center_pages.py::test_a_request_without_the_shown_notice_version_is_refused_R_21_2",
        ),
        "the public intake takes a request whose form showed no published notice version",
    ),
)
