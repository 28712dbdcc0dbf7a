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
    "register",
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


def register() -> None:
    """Register this slice with the kernel registries (called once by mamori.composition.register_all).

    The rights slice holds no data about a person beyond its own request records, so it registers no subject
    data source; it iterates the others.
    """
