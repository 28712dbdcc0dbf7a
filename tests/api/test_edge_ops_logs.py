"""The log formatter of `mamori serve` (MAMORI_LOG_FORMAT json | text) on the access line of a real request made
through the app, in-process: the request id in the line and in the header, the route template, no raw path or
query (the subprocess test in test_edge_ops_server.py checks the whole stream)."""

from __future__ import annotations

import io
import json
import logging

import pytest
from fastapi.testclient import TestClient

from mamori.kernel import observability

MARKER = "zqx.marker4711@example.com"


@pytest.fixture
def captured():
    """The server's logging configuration on a string stream; the previous root configuration afterwards."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    clients = {name: logging.getLogger(name).level for name in ("httpx", "httpcore")}
    stream = io.StringIO()
    yield stream
    for name, level in clients.items():
        logging.getLogger(name).setLevel(level)
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in saved[0]:
        root.addHandler(handler)
    root.setLevel(saved[1])
    logging.getLogger("uvicorn.access").disabled = False


def _request(api) -> str:
    c = TestClient(api.app, base_url="https://testserver", raise_server_exceptions=False)
    r = c.get(
        f"/api/v1/customers/{'ab' * 16}", params={"email": MARKER}, headers={"X-Request-ID": "not valid!"}
    )
    assert r.status_code == 401
    assert r.headers["x-request-id"] != "not valid!"
    return r.headers["x-request-id"]


def test_json_access_line(api, captured):
    observability.configure_logging(
        api.rt.settings.model_copy(update={"log_format": "json"}), stream=captured
    )
    request_id = _request(api)
    lines = [json.loads(line) for line in captured.getvalue().splitlines() if line.strip()]
    access = [rec for rec in lines if rec.get("logger") == "mamori.access"]
    assert access and access[-1]["request_id"] == request_id
    assert access[-1]["route"] == "/api/v1/customers/{customer_id}" and access[-1]["status"] == 401
    assert MARKER not in captured.getvalue() and "ab" * 16 not in captured.getvalue()


def test_text_format_and_level(api, captured):
    settings = api.rt.settings.model_copy(update={"log_format": "text", "log_level": "WARNING"})
    observability.configure_logging(settings, stream=captured)
    _request(api)
    assert captured.getvalue() == ""  # the access line is INFO: below WARNING
    observability.configure_logging(settings.model_copy(update={"log_level": "INFO"}), stream=captured)
    request_id = _request(api)
    text = captured.getvalue()
    assert (
        request_id in text and "/api/v1/customers/{customer_id}" in text and not text.lstrip().startswith("{")
    )
    assert MARKER not in text


@pytest.mark.parametrize(
    ("incoming", "kept"),
    [
        ("0123456789abcdef", True),
        ("123e4567-e89b-12d3-a456-426614174000", True),
        ("0123456789abcde", False),  # too short
        ("x" * 16, False),
        (MARKER, False),
        ("+819047114711000", False),
        ("0" * 65, False),
        ("", False),
        (None, False),
    ],
)
def test_request_id_pattern(incoming, kept):
    got = observability.accept_request_id(incoming)
    assert (got == incoming) is kept
    assert observability.REQUEST_ID_PATTERN.fullmatch(got)
