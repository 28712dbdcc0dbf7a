"""A published notice (公表事項, R-32-1) for the tests that file requests from the person: the public intake
refuses a request whose form did not show a published version (R-21-2). Published by the notice slice's own
service, as ``mamori demo`` and the privacy officer do."""

from __future__ import annotations

import pytest

from mamori.kernel.context import SYSTEM_ACTOR


def publish(runtime) -> int:
    """Publish the notice in ``runtime``'s store (the version in force when nothing changed); its number."""
    from mamori.notice import service as notice_service

    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        return notice_service.publish(ctx).version


@pytest.fixture
def published_notice(runtime) -> int:
    return publish(runtime)
