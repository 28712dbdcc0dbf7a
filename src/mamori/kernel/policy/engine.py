"""The policy engine.

``decide`` is pure: the owning slice gathers the facts about the resource (owner, purposes notified to this
person, consent and stop state, which category each field belongs to) and the engine combines them with the
actor's role and declared purpose. It denies by default and every denial names the rule that refused it.

The actions, what each one touches (personal data, writes, 要配慮 data) and which role may do them within which row
scope come from the slices' ``permissions.py`` through ``mamori.kernel.policy.actions`` (ADR 0008): this module
names no slice's action.

Order of checks (the first failing one is reported):
1. a registered action, role permission and row scope ........ R-23-2 (each staff member's data scope)
2. a purpose must be declared for personal-data access ....... R-18-1
3. the purpose must exist and not be retired ................. R-17-1
4. the purpose must have been notified to this person ........ R-21-1 (use beyond it: R-18-1)
5. no stop-use request applies ............................... R-35-1
6. a GDPR lawful basis, then consent where the purpose needs it R-18-1 / R-CNS-1 (APPI), G-6 / G-7 (GDPR)
7. writing 要配慮 data needs consent or a recorded exception . R-20-2
8. a contact on a channel (``Resource.channel``, issue 20): the purpose names the channel (R-18-1), a channel
   that needs prior opt-in has it (TE-3 / R-CNS-1: 特定電子メール法 Art. 3), no do-not-contact (R-35-1)
Then, for reads, fields whose data category the purpose does not cover are masked (data minimisation), and
要配慮 fields are masked unless the purpose covers them and consent exists (R-20-2) — and, for a GDPR subject,
unless the purpose has an Art. 9(2) condition (G-6). The purpose facts are those of the version notified to this
person (R-17-2): a write to a category only a later version covers is refused under R-17-2 / R-21-1, any other
masked field under R-18-1. In a read under a purpose that names contact channels, a contact field
(``Resource.field_channels``) is masked too when a channel of the purpose it serves is blocked for this person
(do-not-contact, or an opt-in the channel needs and the person has not given): the phone number of someone who
said 「もう電話しないで」 is not shown for outbound work, and stays visible for purposes without channels (billing,
support). A contact on a named channel (``Resource.channel``) sees that channel's fields once step 8 allowed it.

Rules as data (ADR 0009): each check from 2 on (bar "the purpose must exist", without which nothing can be
decided) and the write refusal of fields outside the purpose run only while their rule is in force on
ctx.clock's JST date, asked through ``mamori.kernel.rulebook.applies`` (the law's lookup, registered by
composition; with none registered every rule applies). Step 1 — the action registry, role permission, row
scope and an outsourcee's contract grant (R-25-1) — is the system's access control and stands whatever the date.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from mamori.kernel.context import ActorKind, Context, Role
from mamori.kernel.errors import PolicyDenied
from mamori.kernel.policy.actions import Action, scope_for, spec
from mamori.kernel.policy.actions import Scope as Scope  # re-exported: older imports name it from the engine
from mamori.kernel.registry import AccessGrant, ConsentState, PurposeState
from mamori.kernel.rulebook import applies

# Issue 20: the ways a person can be reached. A purpose that contacts people names its channels.
CHANNELS: tuple[str, ...] = ("phone", "email", "post", "sms", "visit")
# 特定電子メール法 Art. 3: advertising by e-mail (SMS included) needs the recipient's prior opt-in.
OPT_IN_CHANNELS: frozenset[str] = frozenset({"email", "sms"})


class Category(StrEnum):
    IDENTIFIER = "identifier"
    CONTACT = "contact"
    ATTRIBUTE = "attribute"
    BEHAVIOUR = "behaviour"
    SENSITIVE = "sensitive"  # 要配慮個人情報 (R-2.3-1)


@dataclass(frozen=True)
class PurposeFacts:
    """A purpose as it applies to one person: the version they were notified of, with any stricter consent
    need of the current version (R-17-2 / R-21-1; built by ``mamori.purposes.service``)."""

    code: str
    categories: frozenset[Category]
    consent_required_appi: bool = False
    consent_required_gdpr: bool = False
    retired: bool = False
    version: int = 0
    lawful_basis: str | None = None  # G-6: the GDPR Art. 6(1) basis (None: none recorded)
    art9_condition: str | None = None  # G-6: the GDPR Art. 9(2) condition for special categories
    unnotified: frozenset[Category] = frozenset()  # categories of the current version this person wasn't told
    channels: frozenset[str] = (
        frozenset()
    )  # issue 20: the contact channels the purpose names (none: not a contact)
    marketing: bool = (
        False  # advertising (広告宣伝): e-mail / SMS need prior opt-in (特定電子メール法 Art. 3)
    )
    # issue 24: the notice says the purpose includes analysis / profiling of behaviour or interests (R-17-1);
    # only then may the analytics slice analyse personal data under it.
    profiling: bool = False

    @property
    def opt_in_channels(self) -> frozenset[str]:
        """The channels of this purpose that need the person's prior opt-in (TE-3)."""
        return self.channels & OPT_IN_CHANNELS if self.marketing else frozenset()


@dataclass(frozen=True)
class Resource:
    """What the owning slice knows about the thing acted on."""

    kind: str
    subject_id: str | None = None
    owner_id: str | None = None
    team: str | None = None
    purpose: PurposeFacts | None = None  # facts about ctx.purpose, if it exists
    notified_purposes: frozenset[str] = frozenset()
    state: PurposeState = field(default_factory=PurposeState)
    gdpr: bool = False  # data subject to the GDPR (EU/UK origin, G-45)
    fields: Mapping[str, Category] = field(default_factory=dict)
    sensitive_exception: str | None = None  # a recorded R-18-1 ③…⑥ / 政令9 exception for 要配慮 writes
    grant: AccessGrant | None = None  # for an outsourcee actor: its running contract's grant (R-25-1)
    channel: str | None = (
        None  # issue 20: the action contacts the person on this channel (a call, a mail, a list)
    )
    field_channels: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # field -> channels it serves


@dataclass(frozen=True)
class Decision:
    allowed: bool
    rule_ids: tuple[str, ...] = ()
    masked_fields: frozenset[str] = frozenset()
    reason_ja: str = ""
    reason_en: str = ""
    code: str = "allowed"
    obligations: tuple[str, ...] = ("audit",)

    def raise_if_denied(self) -> None:
        if not self.allowed:
            raise PolicyDenied(
                self.reason_ja,
                self.reason_en,
                rule_id=self.rule_ids[0] if self.rule_ids else None,
                code=self.code,
                details={"rule_ids": list(self.rule_ids)},
            )


# The consent check stands while any of the rules it enforces is in force (APPI or GDPR).
CONSENT_RULES = ("R-18-1", "R-CNS-1", "G-6", "G-7")


def _deny(code: str, rules: tuple[str, ...], ja: str, en: str) -> Decision:
    return Decision(False, rules, frozenset(), ja, en, code)


_TRAINING_REQUIRED = (
    "個人データを扱うには有効な研修の受講と誓約書の提出が必要です。",
    "Personal data may be handled only with a current training and a signed pledge.",
)


def training_refusal(ctx: Context) -> Decision | None:
    """The refusal ``decide`` gives every personal-data action of an actor the training policy does not clear
    (R-23-3), for a caller that must refuse a whole listing up front rather than drop its rows one by one."""
    if ctx.actor.cleared:
        return None
    return _deny("training_required", ("R-23-3",), *_TRAINING_REQUIRED)


def blocked_channels(facts: PurposeFacts, state: PurposeState) -> frozenset[str]:
    """The purpose's channels this person may not be contacted on: do-not-contact (R-35-1), or an opt-in the
    channel needs under a marketing purpose and the person has not given or has withdrawn (TE-3)."""
    return frozenset(
        c
        for c in facts.channels
        if c in state.channels_out or (c in facts.opt_in_channels and not _opted_in(state, c))
    )


def _opted_in(state: PurposeState, channel: str) -> bool:
    """TE-3: an opt-in line for the channel, or consent to the advertising purpose itself (the person agreed to
    receive what the purpose says it sends) — unless a later do-not-contact line took it back."""
    if channel in state.channels_out:
        return False
    return channel in state.channels_in or state.consent == ConsentState.GRANTED


def _channel_refusal(ctx: Context, facts: PurposeFacts, state: PurposeState, channel: str) -> Decision | None:
    """Step 8: may the person be contacted on ``channel`` for this purpose? (issue 20)"""
    purpose = facts.code
    if channel not in facts.channels and applies(ctx, "R-18-1"):
        return _deny(
            "channel_not_in_purpose",
            ("R-18-1",),
            f"利用目的「{purpose}」は連絡手段「{channel}」での連絡を含みません。",
            f"Purpose '{purpose}' does not include contact by '{channel}'.",
        )
    if channel in facts.opt_in_channels and not _opted_in(state, channel) and applies(ctx, "TE-3", "R-CNS-1"):
        withdrawn = channel in state.channels_out
        return _deny(
            "optin_withdrawn" if withdrawn else "optin_missing",
            ("TE-3", "R-CNS-1"),
            f"広告宣伝の{channel}送信には本人の事前の同意が必要です（{'配信停止済み' if withdrawn else '未取得'}・特定電子メール法第3条）。",
            f"Advertising by {channel} needs the person's prior opt-in ({'withdrawn' if withdrawn else 'not given'}).",
        )
    if channel in state.channels_out and applies(ctx, "R-35-1"):
        return _deny(
            "do_not_contact",
            ("R-35-1",),
            f"本人の申出により「{channel}」での連絡は停止されています。",
            f"The person asked not to be contacted by '{channel}'.",
        )
    return None


def _in_scope(ctx: Context, scope: Scope, resource: Resource) -> bool:
    if scope == Scope.ALL:
        return True
    if scope == Scope.NONE:
        return False
    if resource.subject_id is None and resource.owner_id is None:
        return True  # creating: the creator becomes the owner
    if scope == Scope.OWN:
        return resource.owner_id == ctx.actor.id
    return resource.team is not None and resource.team == ctx.actor.team


def grant_refusal(ctx: Context, action: Action, resource: Resource) -> Decision | None:
    """An outsourcee operator acts only under a running contract, on its customers and purposes (R-25-1)."""
    grant = resource.grant
    if grant is None or not grant.active_at(ctx.clock.now()):
        return _deny(
            "no_running_contract",
            ("R-25-1",),
            "有効な委託契約がないため、個人データを取り扱えません。",
            "No running outsourcing contract covers this operator.",
        )
    registered = spec(action)
    if registered is None or (registered.writes and not grant.activity_write):  # writing needs a write grant
        return _deny(
            "outside_contract",
            ("R-25-1",),
            "委託契約の範囲外の操作です。",
            "The outsourcing contract does not cover this action.",
        )
    if resource.subject_id is not None and resource.subject_id != "*":
        if resource.subject_id not in grant.customer_ids:
            return _deny(
                "outside_contract",
                ("R-25-1",),
                "この顧客は委託契約の対象外です。",
                "This customer is not covered by the outsourcing contract.",
            )
    if ctx.purpose is not None and ctx.purpose not in grant.purposes:
        return _deny(
            "outside_contract",
            ("R-25-1", "R-27-2"),
            f"利用目的「{ctx.purpose}」は委託された業務の範囲外です。",
            f"Purpose '{ctx.purpose}' is outside the entrusted work.",
        )
    return None


def decide(ctx: Context, action: Action, resource: Resource) -> Decision:
    """Decide whether ``ctx.actor`` may perform ``action`` on ``resource`` for ``ctx.purpose``."""
    registered = spec(action)  # an action no slice registered is denied to everyone, the system too
    scope = row_scope(ctx, action) if registered is not None else None
    if registered is None or scope is None or scope == Scope.NONE:
        return _deny(
            "role_not_permitted",
            ("R-23-2",),
            f"ロール「{ctx.actor.role.value}」には操作「{action}」の権限がありません。",
            f"Role '{ctx.actor.role.value}' may not perform '{action}'.",
        )
    if scope == Scope.GRANT:
        refused = grant_refusal(ctx, action, resource)
        if refused is not None:
            return refused
    elif not _in_scope(ctx, scope, resource):
        return _deny(
            "out_of_scope",
            ("R-23-2",),
            "この顧客は担当範囲外です（取扱範囲の制限）。",
            "This customer is outside your data scope.",
        )
    if not registered.personal_data:
        return Decision(True, (), frozenset(), "許可", "allowed")
    if not ctx.actor.cleared:  # human measures (R-23-3): training and pledge before personal data
        return _deny("training_required", ("R-23-3",), *_TRAINING_REQUIRED)

    purpose = ctx.purpose
    if not purpose and applies(ctx, "R-18-1"):
        return _deny(
            "purpose_required",
            ("R-18-1",),
            "個人データの利用には利用目的の指定が必要です。",
            "A purpose must be declared to use personal data.",
        )
    facts = resource.purpose
    if facts is None or facts.code != purpose:
        return _deny(
            "purpose_unknown",
            ("R-17-1",),
            f"利用目的「{purpose}」は登録されていません。",
            f"Purpose '{purpose}' is not registered.",
        )
    if facts.retired and applies(ctx, "R-17-1"):
        return _deny(
            "purpose_retired",
            ("R-17-1",),
            f"利用目的「{purpose}」は廃止されています。",
            f"Purpose '{purpose}' has been retired.",
        )
    if purpose not in resource.notified_purposes and applies(ctx, "R-21-1", "R-18-1"):
        return _deny(
            "purpose_not_notified",
            ("R-21-1", "R-18-1"),
            f"利用目的「{purpose}」はこの本人に通知・公表されていません（目的外利用）。",
            f"Purpose '{purpose}' was not notified to this person (use beyond the purpose).",
        )
    if resource.state.stopped and applies(ctx, "R-35-1"):
        return _deny(
            "use_stopped",
            ("R-35-1",),
            f"本人の請求により利用目的「{purpose}」での利用は停止されています。",
            f"Use for '{purpose}' has been stopped at the person's request.",
        )
    if (
        resource.gdpr
        and facts.lawful_basis is None
        and not facts.consent_required_gdpr
        and applies(ctx, "G-6")
    ):
        return _deny(  # G-6: processing a GDPR subject's data needs an Art. 6(1) lawful basis
            "lawful_basis_missing",
            ("G-6",),
            f"利用目的「{purpose}」には GDPR の適法性の根拠が登録されていません（GDPR 6条）。",
            f"Purpose '{purpose}' has no GDPR lawful basis recorded (GDPR Art. 6).",
        )
    needs_consent = facts.consent_required_appi or (resource.gdpr and facts.consent_required_gdpr)
    if needs_consent and resource.state.consent != ConsentState.GRANTED and applies(ctx, *CONSENT_RULES):
        gdpr_only = not facts.consent_required_appi
        rules = ("G-6", "G-7") if gdpr_only else ("R-18-1", "R-CNS-1")
        withdrawn = resource.state.consent == ConsentState.WITHDRAWN
        return _deny(
            "consent_withdrawn" if withdrawn else "consent_missing",
            rules,
            f"利用目的「{purpose}」には本人の同意が必要です（{'撤回済み' if withdrawn else '未取得'}）。",
            f"Purpose '{purpose}' needs the person's consent ({'withdrawn' if withdrawn else 'not given'}).",
        )
    if (
        registered.sensitive
        and not (resource.state.sensitive_consent or resource.sensitive_exception)
        and applies(ctx, "R-20-2")
    ):
        return _deny(
            "sensitive_consent_missing",
            ("R-20-2",),
            "要配慮個人情報の取得には本人の同意または記録された例外事由が必要です。",
            "Special care-required data needs the person's consent or a recorded exception.",
        )

    if resource.channel is not None:
        refused = _channel_refusal(ctx, facts, resource.state, resource.channel)
        if refused is not None:
            return refused
    blocked = blocked_channels(facts, resource.state) if facts.channels else frozenset()
    if blocked and not applies(ctx, "R-35-1", "TE-3"):
        blocked = frozenset()
    masked = frozenset(
        name
        for name, category in resource.fields.items()
        if category not in facts.categories
        or (category == Category.SENSITIVE and not resource.state.sensitive_consent)
        # G-6: a GDPR subject's special-category data needs an Art. 9(2) condition of the purpose.
        or (
            category == Category.SENSITIVE
            and resource.gdpr
            and not facts.art9_condition
            and applies(ctx, "G-6")
        )
        # R-25-1: never hand an outsourcee a field the entrusted work does not need.
        or (scope == Scope.GRANT and resource.grant is not None and name not in resource.grant.fields)
    )
    # R-17-2 / R-21-1: a category a later version of the purpose added reaches this person only once they
    # are notified of that version (facts.categories are the notified version's; facts.unnotified the rest).
    unnotified = sorted(n for n in masked if resource.fields.get(n) in facts.unnotified)
    if registered.writes and unnotified and applies(ctx, "R-17-2", "R-21-1"):
        return _deny(
            "purpose_version_not_notified",
            ("R-17-2", "R-21-1"),
            "本人に通知されていない新しい版の利用目的の項目は変更できません: " + ", ".join(unnotified),
            "Fields only a version not yet notified to this person covers cannot be changed: "
            + ", ".join(unnotified),
        )
    if registered.writes and masked and applies(ctx, "R-18-1"):
        return _deny(
            "field_outside_purpose",
            ("R-18-1",),
            "利用目的の範囲外の項目は変更できません: " + ", ".join(sorted(masked)),
            "Fields outside the purpose cannot be changed: " + ", ".join(sorted(masked)),
        )
    if blocked and not registered.writes and resource.channel is None:
        # issue 20: a contact point serving a channel of this purpose that is blocked for this person is not shown
        # in a read for the purpose (the operator must not see a number they may not call). A contact on a named
        # channel (a list, a check) was decided above: it sees its own channel's fields. A write — correcting the
        # number — is not a contact and stays possible.
        masked |= frozenset(
            name for name in resource.fields if blocked.intersection(resource.field_channels.get(name, ()))
        )
    return Decision(True, (), masked, "許可", "allowed")


def require(ctx: Context, action: Action, resource: Resource) -> Decision:
    """Decide and raise PolicyDenied on denial (the caller audits the denial first)."""
    decision = decide(ctx, action, resource)
    decision.raise_if_denied()
    return decision


def row_scope(ctx: Context, action: Action) -> Scope:
    """The row scope the actor's role has for ``action`` (used to build scoped list queries)."""
    if ctx.actor.kind == ActorKind.SYSTEM and ctx.actor.role == Role.SYSTEM:
        return Scope.ALL
    return scope_for(ctx.actor.role, action) or Scope.NONE
