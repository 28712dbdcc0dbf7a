"""Composition helpers: register every slice with the kernel registries, resolve actors, mount optional apps.

Importing this module is cheap (the CLI imports it for ``--help``): the slices are imported by the functions that
need them — ``register_all`` when a command opens the runtime (issue 16).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    import typer

    from mamori.contact.service.lists import SavedSegment
    from mamori.kernel.context import Actor, Context
    from mamori.kernel.notice import NoticeVersion
    from mamori.kernel.registry import DatasetUse, Hold, StaffHolding, TextFinding
    from mamori.kernel.runtime import Runtime

_registered = False


def _staff_article(rule_id: str, lang: str) -> str:
    from mamori.law import articles

    text = articles.article(rule_id, lang)
    return f"法{text}" if lang != "en" and text.startswith("第") else text


def register_all() -> None:
    global _registered
    if _registered:
        return
    from mamori.analytics import permissions as analytics_permissions
    from mamori.analytics import sources as analytics_sources
    from mamori.consent import permissions as consent_permissions
    from mamori.consent import sources as consent_sources
    from mamori.contact import permissions as contact_permissions
    from mamori.contact import sources as contact_sources
    from mamori.contact.service import campaigns as _campaign_mail  # noqa: F401  (the "campaign" mail hooks)
    from mamori.contact.service.lists import register_segment_source
    from mamori.customers import permissions as customers_permissions
    from mamori.customers import sources as customers_sources
    from mamori.deid import permissions as deid_permissions
    from mamori.incidents import permissions as incidents_permissions
    from mamori.incidents import sources as incidents_sources
    from mamori.inventory import permissions as inventory_permissions
    from mamori.jobs import register_jobs
    from mamori.kernel import errors, registry, rulebook
    from mamori.kernel import notice as kernel_notice
    from mamori.kernel import permissions as kernel_permissions
    from mamori.law import rules as law_rules
    from mamori.lifecycle import permissions as lifecycle_permissions
    from mamori.lifecycle import sources as lifecycle_sources
    from mamori.monitoring import permissions as monitoring_permissions
    from mamori.notice import permissions as notice_permissions
    from mamori.processors import permissions as processors_permissions
    from mamori.processors import sources as processors_sources
    from mamori.provision import permissions as provision_permissions
    from mamori.provision import sources as provision_sources
    from mamori.purposes import permissions as purposes_permissions
    from mamori.rights import permissions as rights_permissions
    from mamori.staff import permissions as staff_permissions

    # Actions and role grants first, in DESIGN order (a slice may grant an earlier slice's action; ADR 0008).
    kernel_permissions.register()
    staff_permissions.register()
    purposes_permissions.register()
    customers_permissions.register()
    consent_permissions.register()
    provision_permissions.register()
    processors_permissions.register()
    rights_permissions.register()
    deid_permissions.register()
    inventory_permissions.register()
    notice_permissions.register()
    contact_permissions.register()
    incidents_permissions.register()
    lifecycle_permissions.register()
    analytics_permissions.register()
    monitoring_permissions.register()
    customers_sources.register()
    consent_sources.register()
    provision_sources.register()
    processors_sources.register()
    contact_sources.register()
    incidents_sources.register()
    lifecycle_sources.register()
    analytics_sources.register()
    register_segment_source(_saved_segment)  # issue 24: ``--segment @name`` in contact lists
    registry.register_retention_hold(_RightsHold())  # R-22-1: an open request stops a retention disposal
    registry.register_staff_holdings(_customers_owned)  # issue 21: customers owned, shown when disabling
    register_jobs()  # issue 21: the action jobs.manage and every slice's scheduled job (docs/scheduler.md)
    # The deid slice's text scanner and dataset guard are registered as thin wrappers that import the slice at
    # their first use: deid.text loads its dictionaries and deid.service the tabular engine (issue 16).
    registry.register_text_scanner(_scan_text)  # R-2.3-1: 要配慮 and PII in free text
    registry.register_dataset_guard(_dataset_guard)  # R-41-5, R-43-5: de-identified data stays out
    registry.register_sensitive_consent_recorder(_record_sensitive_consent)  # R-20-2 consent at collection
    rulebook.register_rule_book(law_rules.in_force)  # rules checked with their effective dates (ADR 0009)
    errors.register_citer(_staff_article)  # staff texts: the rule id with the article it implements
    kernel_notice.register_notice_versions(_NoticeVersions())  # R-21-2: the versions of the published notice
    _registered = True


def _scan_text(text: str) -> list[TextFinding]:
    """The deid text scanner (``mamori.deid.text.scan``: PII findings and 要配慮 flags, R-2.3-1)."""
    from mamori.deid import text as deid_text

    return deid_text.scan(text)


def _saved_segment(ctx: Context, name: str) -> SavedSegment | None:
    """The analytics slice's saved segments (``mamori.analytics.service.segments.for_contact``), imported at first
    use (the analytics service loads the deid slice)."""
    from mamori.analytics.service import segments

    return segments.for_contact(ctx, name)


def _dataset_guard(ctx: Context, use: DatasetUse) -> None:
    """The deid dataset guard (``mamori.deid.service.dataset_guard``): refuses 仮名加工情報 / 匿名加工情報 taken
    back in as customers (R-41-5, R-43-5), the denial audited."""
    from mamori.deid import service as deid_service

    deid_service.dataset_guard(ctx, use)


def _record_sensitive_consent(ctx: Context, customer_id: str, method: str, evidence: str | None) -> None:
    """customers → consent (R-20-2): the 要配慮 consent given at collection, written to the ledger."""
    from mamori.consent import service as consent_service
    from mamori.consent.schemas import ConsentIn

    consent_service.grant_sensitive(
        ctx, customer_id, ConsentIn.model_validate({"method": method, "evidence": evidence})
    )


class _NoticeVersions:
    """The notice slice's published versions (``mamori.notice.service.Versions``), imported at first use."""

    def current(self, ctx: Context) -> NoticeVersion | None:
        from mamori.notice import service as notice_service

        return notice_service.Versions().current(ctx)

    def get(self, ctx: Context, version: int) -> NoticeVersion | None:
        from mamori.notice import service as notice_service

        return notice_service.Versions().get(ctx, version)


class _RightsHold:
    """rights → lifecycle (issue 21): an open request holds the person from a retention disposal (R-22-1)."""

    name = "rights"

    def held(self, ctx: Context, subject_ids: Sequence[str]) -> Mapping[str, Hold]:
        from mamori.rights.service.holds import RIGHTS_HOLD

        return RIGHTS_HOLD.held(ctx, subject_ids)


def resolve_actor(runtime: Runtime, username: str) -> Actor:
    from mamori.kernel.context import SYSTEM_ACTOR
    from mamori.staff import service as staff_service

    with runtime.transaction(SYSTEM_ACTOR, readonly=True) as ctx:
        return staff_service.actor_for(ctx, username)


def ensure_admin(runtime: Runtime) -> bool:
    """The first administrator, created by `mamori init` when there is no staff user yet."""
    from mamori.kernel.context import SYSTEM_ACTOR, Role
    from mamori.staff import service as staff_service
    from mamori.staff.schemas import StaffCreate

    with runtime.transaction(SYSTEM_ACTOR) as ctx:
        if staff_service.any_staff(ctx):
            return False
        staff_service.add(ctx, StaffCreate(username="admin", display_name="管理者", role=Role.ADMIN))
        return True


def mount_deid(app: typer.Typer) -> None:
    """Mount the deid command groups (text PII and tabular de-identification). The tabular commands reach the
    keystore's 削除情報等 (pseudonym keys, R-41-2) only through ``mamori.deid.service``, after authorisation."""
    from mamori.deid import cli as deid_cli

    app.add_typer(deid_cli.text_app, name="text")
    app.add_typer(deid_cli.app, name="deid")


__all__ = ["ensure_admin", "mount_deid", "register_all", "resolve_actor"]


def _customers_owned(ctx: Context, staff_id: str) -> StaffHolding | None:
    """lifecycle → staff (issue 21): the customers a staff member owns and the handover wizard, for the disable
    screens (None when they own none or the actor may not move them)."""
    from mamori.kernel import registry
    from mamori.lifecycle.service import handover

    found = handover.departure_holding(ctx, staff_id)
    if found is None:
        return None
    return registry.StaffHolding(found[0], "件の顧客を担当しています", "customer(s) owned", found[1])
