"""`mamori serve` seen from outside (issue 17): a real server in a subprocess on a free loopback port.

- X-Forwarded-For is believed only from MAMORI_FORWARDED_ALLOW_IPS: by default a client rotating the header is
  still counted under its own address by the public endpoint's per-IP limit; with 127.0.0.1 configured as the
  proxy, the header is used.
- A body over the limit is answered 413 from the headers alone (Content-Length) or as soon as a chunked body
  passes the limit, the rest never sent.
- The log stream is JSON lines with a request id, and no name, phone, e-mail or id from a path, query or body.
- /metrics is labelled by route template only and answers only a direct loopback client.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.edge_ops_support import store_env
from tests.rights.notice_support import publish

NAME = "山田マーカー太郎"
PHONE = "+819047110815"
EMAIL = "zqx.marker4711@example.com"
CUSTOMER_ID = "c0ffee" + "7" * 26
MARKERS = (NAME, PHONE, EMAIL, "zqx.marker4711", CUSTOMER_ID, "9047110815")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def served(runtime, tmp_path: Path, **extra: str) -> Iterator[tuple[str, Path]]:
    """``mamori serve`` on a free port; yields its base URL and the file its stderr (the log stream) goes to."""
    port = _free_port()
    env = store_env(runtime, **extra)
    log = tmp_path / f"server-{port}.log"
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "mamori", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                if proc.poll() is not None:
                    pytest.fail(f"mamori serve exited: {log.read_text(errors='replace')[-2000:]}")
                try:
                    if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail("mamori serve did not start")
                time.sleep(0.2)
            yield base, log
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _file_requests(base: str, n: int, notice_version: int) -> list[int]:
    statuses = []
    with httpx.Client(base_url=base, timeout=30) as c:
        for i in range(n):
            r = c.post(
                "/api/v1/privacy-requests",
                json={
                    "kind": "disclosure",
                    "email": f"person{i}@example.com",
                    "notice_version": notice_version,
                },
                headers={"X-Forwarded-For": f"203.0.113.{i + 1}"},
            )
            statuses.append(r.status_code)
    return statuses


def test_forwarded_for_is_ignored_unless_the_proxy_is_configured(runtime, tmp_path):
    from mamori.rights.api import FILE_PER_IP

    version = publish(runtime)  # the public intake needs the notice its form showed (R-21-2)
    with served(runtime, tmp_path) as (base, _log):
        statuses = _file_requests(base, FILE_PER_IP + 1, version)
    # every request came from 127.0.0.1, whatever the header said: the 21st is over the per-IP limit
    assert statuses[:FILE_PER_IP] == [202] * FILE_PER_IP, statuses
    assert statuses[FILE_PER_IP] == 429, statuses


def test_forwarded_for_is_used_from_a_configured_proxy(settings_factory, clock, tmp_path):
    from mamori import composition as bootstrap
    from mamori.kernel.runtime import Runtime
    from mamori.rights.api import FILE_PER_IP

    bootstrap.register_all()
    rt = Runtime(settings_factory(), clock=clock)
    rt.init()
    try:
        version = publish(rt)  # the public intake needs the notice its form showed (R-21-2)
        with served(rt, tmp_path, MAMORI_FORWARDED_ALLOW_IPS="127.0.0.1") as (base, _log):
            statuses = _file_requests(base, FILE_PER_IP + 1, version)
    finally:
        rt.close()
    # each request is counted under the address the trusted proxy forwarded
    assert statuses == [202] * (FILE_PER_IP + 1), statuses


def _raw(base: str, head: bytes, body_parts: list[bytes], wait: float = 10.0) -> bytes:
    """Send a request's head and some body bytes, then read what the server answers without sending more."""
    url = urllib.parse.urlsplit(base)
    with socket.create_connection((url.hostname, url.port), timeout=wait) as s:
        s.sendall(head)
        for part in body_parts:
            s.sendall(part)
        answer = b""
        with contextlib.suppress(TimeoutError, ConnectionResetError):
            while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                answer += chunk
    return answer


def test_oversized_bodies_are_refused_without_reading_them(runtime, tmp_path):
    with served(runtime, tmp_path, MAMORI_MAX_REQUEST_BYTES="4096") as (base, _log):
        # 100 MB announced, 64 bytes sent: the answer comes from the headers alone, before any sign-in
        head = (
            b"POST /api/v1/customers HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: 104857600\r\n\r\n"
        )
        answer = _raw(base, head, [b'{"name": "' + NAME.encode() + b'"'])
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
        assert b"application/problem+json" in answer and b"request_too_large" in answer
        assert NAME.encode() not in answer
        # chunked: 5 KB sent in 1 KB chunks, the terminating chunk never: 413 as soon as 4 KB is passed
        head = (
            b"POST /api/v1/privacy-requests HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        chunk = b"400\r\n" + b"x" * 1024 + b"\r\n"
        answer = _raw(base, head, [chunk] * 5)
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
        # the server still serves the next client
        assert httpx.get(base + "/healthz").json() == {"status": "ok"}


def test_logs_are_json_with_request_ids_and_no_personal_data(runtime, tmp_path):
    incoming = "0123456789abcdef0123456789abcdef"
    version = publish(runtime)  # the public intake needs the notice its form showed (R-21-2)
    with served(runtime, tmp_path, MAMORI_LOG_FORMAT="json", MAMORI_LOG_LEVEL="INFO") as (base, log):
        with httpx.Client(base_url=base, timeout=30) as c:
            r = c.get(f"/api/v1/customers/{CUSTOMER_ID}", params={"q": NAME, "phone": PHONE, "email": EMAIL})
            assert r.status_code == 401
            generated = r.headers["x-request-id"]
            assert len(generated) == 32
            r = c.get("/api/v1/customers", params={"email": EMAIL}, headers={"X-Request-ID": incoming})
            assert r.headers["x-request-id"] == incoming
            # an id that could carry personal data is replaced, never echoed
            r = c.get("/healthz", headers={"X-Request-ID": EMAIL})
            assert r.headers["x-request-id"] != EMAIL and EMAIL not in r.text
            r = c.post("/api/v1/auth/sign-in", json={"username": EMAIL, "password": PHONE, "totp": "123456"})
            assert r.status_code == 401
            r = c.post(
                "/api/v1/privacy-requests", json={"kind": "disclosure", "email": EMAIL, "purpose": NAME}
            )
            assert r.status_code == 422
            r = c.post(
                "/api/v1/privacy-requests",
                json={"kind": "disclosure", "email": EMAIL, "notice_version": version},
            )
            assert r.status_code == 202, r.text
            r = c.get(f"/no/such/{EMAIL}/{CUSTOMER_ID}", params={"n": NAME})
            assert r.status_code == 404
            r = c.post("/sign-in", data={"username": NAME, "password": PHONE})
            assert r.status_code == 401
    text = log.read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    access = [r for r in records if r.get("logger") == "mamori.access"]
    assert len(access) >= 8
    for rec in access:
        assert rec["request_id"] and rec["route"] and rec["method"] and rec["status"]
        assert "duration_ms" in rec and "timestamp" in rec and rec["level"] == "info"
    routes = {(rec["method"], rec["route"], rec["status"]) for rec in access}
    assert ("GET", "/api/v1/customers/{customer_id}", 401) in routes
    assert ("GET", "<unmatched>", 404) in routes
    assert {rec["request_id"] for rec in access} >= {generated, incoming}
    for marker in MARKERS:
        for form in {marker, urllib.parse.quote(marker), urllib.parse.quote_plus(marker), json.dumps(marker)}:
            assert form not in text, marker


def test_metrics_by_route_template_only_and_only_to_loopback(runtime, tmp_path):
    with served(runtime, tmp_path) as (base, _log):
        with httpx.Client(base_url=base, timeout=30) as c:
            assert c.get(f"/api/v1/customers/{CUSTOMER_ID}", params={"email": EMAIL}).status_code == 401
            assert c.get(f"/nothing/{CUSTOMER_ID}").status_code == 404
            r = c.get("/metrics")
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
            metrics = r.text
            # through a proxy (a forwarding header) or from elsewhere: not there
            assert c.get("/metrics", headers={"X-Forwarded-For": "198.51.100.7"}).status_code == 404
            assert c.get("/metrics", headers={"Forwarded": "for=198.51.100.7"}).status_code == 404
    assert 'handler="/api/v1/customers/{customer_id}"' in metrics
    assert 'handler="none"' in metrics  # the unmatched path, grouped
    assert "http_request_duration_seconds" in metrics
    for marker in MARKERS:
        assert marker not in metrics and urllib.parse.quote(marker) not in metrics
