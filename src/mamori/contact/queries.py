"""SELECTs of the contact slice's list builds (ids, codes and counts only) and the staff lookup a segment needs."""

from __future__ import annotations

from sqlalchemy import Select, select

from mamori.contact.models import ContactListBuild
from mamori.staff.models import StaffUser


def build(build_id: str) -> Select[ContactListBuild]:
    return select(ContactListBuild).where(ContactListBuild.id == build_id)


def recent_builds(limit: int = 20) -> Select[ContactListBuild]:
    return select(ContactListBuild).order_by(ContactListBuild.built_at.desc()).limit(limit)


def staff_id_of(username: str) -> Select[str]:
    """A staff member's id by username (a segment ``owner=<username>``)."""
    return select(StaffUser.id).where(StaffUser.username == username)
