"""No input echoed in any error body (issue 17): a sweep over every operation of the OpenAPI schema.

Every path parameter, query parameter, JSON body field (nested objects and arrays included) and the
``Mamori-Purpose`` / ``If-Match`` / ``Mamori-Request-Token`` headers get a distinctive marker shaped to pass the
field's pattern where one of the shapes can (a lowercase code, 32 hex digits, an e-mail address, a phone
number), so the request gets as deep as it can. Sent signed out and signed in as each role, with the marker as
the purpose and with a real purpose, and with an API token limited to one purpose. No 4xx/5xx body may contain a marker.

Before issue 17 this sweep found: the purpose-limited token's 403 (the purpose), ``GET /purposes/{code}`` and
``/versions`` 404 (the code, from purposes/service.py), and 422 ``field`` paths naming a key the client chose for a
mapping (``items.<key>`` of processors evaluations, ``partial_refusals.<key>`` of rights fulfil). The edge now
replaces any value the request carried in a message with 「…」 and undeclared keys in a 422 location with ``*``
(kernel/http/problems.py), whichever service wrote the message.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

CODE = "zqxmarker4711"
HEX = "c0ffee4711c0ffee4711c0ffee4711ab"
EMAIL = "zqxmarker4711@example.com"
PHONE = "+819047114711"
# The hex marker is not a needle: a refusal may name mamori's own record ids (which customers a provision refused).
NEEDLES = ("zqxmarker4711", "9047114711")
SHAPES = (CODE, HEX, EMAIL, PHONE, CODE.upper(), "2026-11-23", "ZQXMARKER4711")


def _shaped(schema: dict[str, Any]) -> str:
    pattern = schema.get("pattern")
    if schema.get("format") == "email":
        return EMAIL
    if pattern:
        for candidate in SHAPES:
            try:
                if re.fullmatch(pattern, candidate):
                    return candidate
            except re.error:
                break
    return CODE


class Sweep:
    def __init__(self, openapi: dict[str, Any]):
        self.openapi = openapi

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            schema = self.openapi["components"]["schemas"][name]
        return schema

    def value(self, schema: dict[str, Any], depth: int = 0) -> Any:
        schema = self.resolve(schema)
        if depth > 6:
            return CODE
        for key in ("anyOf", "oneOf"):
            if key in schema:
                options = [self.resolve(s) for s in schema[key] if self.resolve(s).get("type") != "null"]
                return self.value(options[0], depth + 1) if options else None
        if "allOf" in schema:
            return self.value(schema["allOf"][0], depth + 1)
        if "enum" in schema:
            return schema["enum"][0]
        if "const" in schema:
            return schema["const"]
        kind = schema.get("type")
        if kind == "object" or "properties" in schema:
            props = schema.get("properties") or {}
            if not props:
                return {CODE: CODE}
            return {name: self.value(sub, depth + 1) for name, sub in props.items()}
        if kind == "array":
            return [self.value(schema.get("items") or {}, depth + 1)]
        if kind == "integer":
            return 1
        if kind == "number":
            return 1.5
        if kind == "boolean":
            return True
        return _shaped(schema)

    def requests(self) -> list[dict[str, Any]]:
        out = []
        for path, item in self.openapi["paths"].items():
            for method, op in item.items():
                if method not in ("get", "post", "put", "patch", "delete"):
                    continue
                url = path
                query: dict[str, Any] = {}
                headers = {"If-Match": f'"{CODE}"', "Mamori-Request-Token": CODE * 2}
                for param in op.get("parameters", []):
                    value = self.value(param.get("schema") or {})
                    if param["in"] == "path":
                        url = url.replace("{" + param["name"] + "}", str(value))
                    elif param["in"] == "query":
                        query[param["name"]] = value
                    elif param["in"] == "header" and param["name"].lower() != "mamori-purpose":
                        headers[param["name"]] = str(value)
                body = None
                content = (op.get("requestBody") or {}).get("content") or {}
                if "application/json" in content:
                    body = self.value(content["application/json"].get("schema") or {})
                out.append(
                    {
                        "method": method.upper(),
                        "template": path,
                        "url": url,
                        "query": query,
                        "headers": headers,
                        "json": body,
                    }
                )
        return out


def _run_sweep(api) -> tuple[dict[tuple[str, str], list[str]], int]:
    anon = TestClient(api.app, base_url="https://testserver", raise_server_exceptions=False)
    sweep = Sweep(anon.get("/openapi.json").json())
    requests = sweep.requests()
    assert len(requests) > 50  # the whole API, not a handful
    clients: list[tuple[TestClient, str, dict[str, str]]] = [(anon, "", {})]
    for user in ("admin", "po", "sato", "support"):
        client, csrf = api.client(user)
        clients.append((client, csrf, {}))
    # a machine client whose token is limited to one purpose (its refusals once echoed the purpose)
    from mamori.staff.schemas import ApiTokenCreate
    from tests.staff.helpers import own_token

    issued = own_token(
        api.rt, "support", api.secrets["support"], ApiTokenCreate(name="sweep", purposes=["contract"])
    )
    clients.append((anon, "", {"Authorization": f"Bearer {issued.token}"}))
    echoes: dict[tuple[str, str], list[str]] = {}
    sent = 0
    for client, csrf, auth in clients:
        for purpose in (CODE, "contract"):
            for req in requests:
                headers = dict(req["headers"], **auth, **{"Mamori-Purpose": purpose})
                if csrf:
                    headers["X-CSRF-Token"] = csrf
                r = client.request(
                    req["method"], req["url"], params=req["query"], json=req["json"], headers=headers
                )
                sent += 1
                if r.status_code >= 400 and any(n in r.text for n in NEEDLES):
                    key = (req["method"], req["template"])
                    echoes.setdefault(key, []).append(f"{r.status_code} {r.text[:300]}")
    return echoes, sent


def test_no_error_body_echoes_input(api):
    echoes, sent = _run_sweep(api)
    assert sent > 400
    assert not echoes, "\n".join(f"{m} {p}: {v[0]}" for (m, p), v in echoes.items())
