"""Keyed hashes (system keys) and sealing under each request's own key (issue 11: erasure that sticks).

What the person types into a request (claimed e-mails and phones) is sealed under a data key of that request
(keystore subject ``rights_request:<request id>``), destroyed when the request closes and when anyone it reached
is erased. Identifiers, access tokens, one-time codes and throttle counts are kept only as keyed hashes under
system keys; an erasure drops the person's (:mod:`mamori.rights.service.forget`).
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence

from mamori.kernel.context import Context
from mamori.kernel.crypto import KeyDestroyed, make_aead, normalise, open_with, seal_with
from mamori.kernel.errors import IntegrityFailure, PolicyDenied
from mamori.law.rules import R_37_1
from mamori.rights.models import RightsIdentifier

# What the person types into a request is sealed under that request's own data key (keystore subject
# REQUEST_KEY_PREFIX + request id), destroyed when the request closes or a person it reached is erased.
REQUEST_KEY_PREFIX = "rights_request:"
KEY_VALUES = "rights_identifiers"  # legacy system key: claimed values of requests taken before request keys
KEY_DIGEST = "rights_digest"  # system key: keyed hashes of identifiers and access tokens
KEY_CODES = "rights_codes"  # system key: one-time codes are stored only as keyed hashes
KEY_REASONS = (
    "rights_reasons"  # system key: refusal explanations and alternative measures (evidence of decisions)
)


# -- keyed hashes (system keys) and sealing (the request's own key) ----------------------------------------------


def mac(ctx: Context, key_name: str, *parts: str) -> bytes:
    key = ctx.runtime.keystore.system_key(key_name)
    return hmac.digest(key, "\x00".join(parts).encode("utf-8"), "sha256")


def identifier_digest(ctx: Context, kind: str, value: str) -> bytes:
    norm = value if kind == "customer" else normalise(kind, value)
    return mac(ctx, KEY_DIGEST, "identifier", kind, norm)


# Throttle kinds counted under an identifier: the count is keyed by the identifier's keyed digest, so an erasure
# can find and drop the rows of the person's addresses without knowing them in clear.
IDENTIFIER_THROTTLES = {"file-id": "email"}


def throttle_digest(ctx: Context, kind: str, value: str) -> bytes:
    ident_kind = IDENTIFIER_THROTTLES.get(kind)
    if ident_kind is not None:
        value = identifier_digest(ctx, ident_kind, value).hex()
    return mac(ctx, KEY_DIGEST, "throttle", kind, value)


def request_key_id(request_id: str) -> str:
    """The keystore subject whose data key seals what the person typed into this request."""
    return f"{REQUEST_KEY_PREFIX}{request_id}"


_TABLE, _COLUMN = "rights_identifiers", "value_enc"


def _aad(identifier_id: str) -> bytes:
    return f"{_TABLE}|{_COLUMN}|{identifier_id}".encode()


def seal_value(ctx: Context, request_id: str, identifier_id: str, value: str) -> bytes:
    key_id = request_key_id(request_id)
    cipher = ctx.runtime.cipher
    try:
        return cipher.encrypt(key_id, _TABLE, _COLUMN, identifier_id, value)
    except KeyDestroyed:
        keystore = ctx.runtime.keystore
        if keystore.is_destroyed(key_id):
            raise PolicyDenied(
                "この請求で入力された内容は、本人の消去に伴い破棄されました。新しい請求として受け付けてください。",
                "What was typed into this request was destroyed with the person's erasure; take a new request.",
                rule_id=R_37_1.id,
                code="request_key_destroyed",
            ) from None
        keystore.create_data_keys([key_id])  # a request taken before requests had keys of their own
        return cipher.encrypt(key_id, _TABLE, _COLUMN, identifier_id, value)


def open_value(ctx: Context, ident: RightsIdentifier) -> str | None:
    """The claimed value, or None once it is gone (dropped, or its request key destroyed)."""
    if ident.value_enc is None:
        return None
    blob = bytes(ident.value_enc)
    try:
        return ctx.runtime.cipher.decrypt(request_key_id(ident.request_id), _TABLE, _COLUMN, ident.id, blob)
    except (KeyDestroyed, IntegrityFailure):
        pass
    # Sealed before requests had keys of their own: under the legacy system key, if it still exists.
    keystore = ctx.runtime.keystore
    if not keystore.has_system_key(KEY_VALUES):
        return None
    try:
        return open_with(make_aead(keystore.system_key(KEY_VALUES)), blob, _aad(ident.id)).decode("utf-8")
    except IntegrityFailure:
        return None


_DESTROYED_MEMO = ("rights", "request_keys_destroyed")


def destroy_request_keys(ctx: Context, request_ids: Sequence[str]) -> int:
    """Crypto-shred what was typed into these requests (their keys, in the keystore's own committed
    transaction: "already unreadable" if the business transaction then fails). Once per unit of work."""
    done = ctx.memo.get(_DESTROYED_MEMO)
    if not isinstance(done, set):
        done = set()
        ctx.memo[_DESTROYED_MEMO] = done
    todo = [r for r in dict.fromkeys(request_ids) if r not in done]
    if not todo:
        return 0
    ctx.runtime.keystore.destroy_data_keys([request_key_id(r) for r in todo])
    done.update(todo)
    return len(todo)


# -- the reasons of a decision (法第36条, 法第35条 ただし書) -----------------------------------------------------------


def seal_reason(ctx: Context, request_id: str, column: str, text: str) -> bytes:
    """Seal a staff-written reason under the system key KEY_REASONS (bound to the request and the column): it is
    the evidence of the decision and outlives the request key, but never sits in the database in clear."""
    aead = make_aead(ctx.runtime.keystore.system_key(KEY_REASONS))
    return seal_with(aead, text.encode("utf-8"), f"rights_requests|{column}|{request_id}".encode())


def open_reason(ctx: Context, request_id: str, column: str, blob: bytes | None) -> str | None:
    if blob is None:
        return None
    aead = make_aead(ctx.runtime.keystore.system_key(KEY_REASONS))
    try:
        return open_with(aead, bytes(blob), f"rights_requests|{column}|{request_id}".encode()).decode("utf-8")
    except IntegrityFailure:
        return None
