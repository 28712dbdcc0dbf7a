"""Fixtures of the kernel tests: a runtime whose mail backend is a real SMTP server in-process (issue 18)."""

from __future__ import annotations

import pytest


@pytest.fixture
def smtp_rt(settings_factory, clock):
    """A runtime whose mail backend is SMTP at 127.0.0.1:<port> (closed at the end)."""
    from mamori import composition
    from mamori.kernel.runtime import Runtime

    made = []

    def make(port: int, **overrides):
        composition.register_all()
        values = dict(
            mail_backend="smtp",
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_security="none",
            smtp_timeout=5.0,
            mail_from="privacy@example.co.jp",
        )
        values.update(overrides)
        rt = Runtime(settings_factory(**values), clock=clock)
        rt.init()
        made.append(rt)
        return rt

    yield make
    for rt in made:
        rt.close()
