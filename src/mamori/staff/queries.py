from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, func, select

from mamori.staff.models import StaffApiToken, StaffSession, StaffSignInFailure, StaffSignInMiss, StaffUser


def by_username(username: str) -> Select[StaffUser]:
    return select(StaffUser).where(StaffUser.username == username)


def by_id(staff_id: str) -> Select[StaffUser]:
    return select(StaffUser).where(StaffUser.id == staff_id)


def all_staff() -> Select[StaffUser]:
    return select(StaffUser).order_by(StaffUser.username)


def failures_since(staff_id: str, since: datetime) -> Select[int, datetime]:
    """How many sign-in failures the account had after ``since``, and the oldest of them."""
    return select(func.count(StaffSignInFailure.id), func.min(StaffSignInFailure.at)).where(
        StaffSignInFailure.staff_id == staff_id, StaffSignInFailure.at > since
    )


def misses_since(since: datetime) -> Select[int, datetime]:
    """How many failed sign-ins not charged to an account came after ``since`` (and the oldest of them)."""
    return select(func.count(StaffSignInMiss.id), func.min(StaffSignInMiss.at)).where(
        StaffSignInMiss.at > since
    )


def session_with_user(token_hash: str) -> Select[StaffSession, StaffUser]:
    return (
        select(StaffSession, StaffUser)
        .join(StaffUser, StaffUser.id == StaffSession.staff_id)
        .where(StaffSession.token_hash == token_hash)
    )


def token_with_user(token_hash: str) -> Select[StaffApiToken, StaffUser]:
    return (
        select(StaffApiToken, StaffUser)
        .join(StaffUser, StaffUser.id == StaffApiToken.staff_id)
        .where(StaffApiToken.token_hash == token_hash)
    )


def token_by_id(token_id: str) -> Select[StaffApiToken, StaffUser]:
    return (
        select(StaffApiToken, StaffUser)
        .join(StaffUser, StaffUser.id == StaffApiToken.staff_id)
        .where(StaffApiToken.id == token_id)
    )


def tokens(username: str | None = None, *, staff_id: str | None = None) -> Select[StaffApiToken, StaffUser]:
    stmt = select(StaffApiToken, StaffUser).join(StaffUser, StaffUser.id == StaffApiToken.staff_id)
    if username is not None:
        stmt = stmt.where(StaffUser.username == username)
    if staff_id is not None:
        stmt = stmt.where(StaffUser.id == staff_id)
    return stmt.order_by(StaffApiToken.created_at, StaffApiToken.id)


def open_sessions(staff_id: str) -> Select[StaffSession]:
    return select(StaffSession).where(StaffSession.staff_id == staff_id, StaffSession.revoked_at.is_(None))
