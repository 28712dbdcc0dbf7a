"""What the contact slice lets each role do (issue 20). Registered by ``mamori.composition.register_all``.

A list build and the check before a contact use personal data for a contact purpose: the policy engine applies
the purpose, its channels, consent, stop-use and do-not-contact (``Resource.channel``). A campaign draft holds
no personal value; sending one reaches people.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from mamori.kernel.context import Role
from mamori.kernel.policy import Action, ActionSpec, Scope, register_actions, register_grants

CONTACT_LIST: Final = Action("contact.list")
CONTACT_REACH: Final = Action("contact.reach")
CAMPAIGN_MANAGE: Final = Action("contact.campaign")
CAMPAIGN_SEND: Final = Action("contact.campaign_send")

ACTIONS: Final[tuple[ActionSpec, ...]] = (
    ActionSpec("CONTACT_LIST", CONTACT_LIST, personal_data=True),
    ActionSpec("CONTACT_REACH", CONTACT_REACH, personal_data=True),
    ActionSpec("CAMPAIGN_MANAGE", CAMPAIGN_MANAGE),
    ActionSpec("CAMPAIGN_SEND", CAMPAIGN_SEND, personal_data=True),
)

# Role -> action -> row scope. Anything absent is denied (deny by default).
GRANTS: Final[Mapping[Role, Mapping[Action, Scope]]] = {
    Role.PRIVACY_OFFICER: {
        CONTACT_LIST: Scope.ALL,
        CONTACT_REACH: Scope.ALL,
        CAMPAIGN_MANAGE: Scope.ALL,
        CAMPAIGN_SEND: Scope.ALL,
    },
    Role.SUPPORT: {  # the call center: inbound and outbound calls
        CONTACT_LIST: Scope.ALL,
        CONTACT_REACH: Scope.ALL,
    },
    Role.SALES: {  # a rep calls and mails their own customers only (R-23-2)
        CONTACT_LIST: Scope.OWN,
        CONTACT_REACH: Scope.OWN,
        # issue 21: a successor's greeting to the customers handed over — a message the rep wrote, to explicit
        # customers, each of them theirs (campaigns.send refuses anything else; the list builder decides each person)
        CAMPAIGN_SEND: Scope.OWN,
    },
    Role.ANALYST: {  # marketing: mailing lists and campaigns
        CONTACT_LIST: Scope.ALL,
        CAMPAIGN_MANAGE: Scope.ALL,
        CAMPAIGN_SEND: Scope.ALL,
    },
}


def register() -> None:
    register_actions(ACTIONS)
    register_grants(GRANTS)
