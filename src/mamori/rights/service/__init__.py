"""Use cases of the rights slice (Context first; flush, never commit): requests from the person (本人からの請求)."""

from __future__ import annotations

from mamori.rights.service.core import (
    TooManyAttempts,
    add_identifier,
    board,
    extend,
    held_categories,
    open_public,
    open_request,
    public_scope,
    public_status,
    public_verify,
    refuse,
    send_code,
    set_fee,
    set_scope,
    show,
    throttle,
    verify_callback,
    verify_code,
    verify_document,
    verify_login,
)
from mamori.rights.service.fulfil import fulfil, public_package

__all__ = [
    "TooManyAttempts",
    "add_identifier",
    "board",
    "extend",
    "fulfil",
    "held_categories",
    "open_public",
    "open_request",
    "public_package",
    "public_scope",
    "public_status",
    "public_verify",
    "refuse",
    "send_code",
    "set_fee",
    "set_scope",
    "show",
    "throttle",
    "verify_callback",
    "verify_code",
    "verify_document",
    "verify_login",
]
