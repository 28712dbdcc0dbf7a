"""Use cases of the processors slice (Context first; flush, never commit): 委託先の監督 (R-25-1).

- A contract with an outsourcee counterparty runs only after its checklist is complete and a selection
  evaluation against the GL-T 10 items has passed; a failed audit suspends it until remedied (and ``suspend`` / ``resume`` do it directly, e.g. to contain an
  incident); ending it records
  the return or deletion of the data, and access ends at once (``contracts``, ``oversight``).
- The grant provider (``access.running_grant``, registered by ``mamori.processors.sources``) tells the policy
  engine which customers, fields and purposes an outsourcee operator's running contract covers (R-25-1,
  R-27-2(a)); nothing else lets an outsourcee see a customer.
- A handover exports only the fields the entrusted work needs, for the covered customers whose data may be used
  for a contract purpose; a foreign outsourcee also needs the R-28-1 basis for each person (``access``).
"""

from __future__ import annotations

from mamori.processors.service.access import handover, list_handovers, running_grant
from mamori.processors.service.common import window
from mamori.processors.service.contracts import (
    activate,
    add_contract,
    assign_customers,
    covered_customers,
    end,
    evaluate,
    list_contracts,
    remove_customers,
    resume,
    show_contract,
    suspend,
)
from mamori.processors.service.oversight import (
    add_operator,
    approve_subcontract,
    list_audits,
    list_operators,
    record_audit,
    refuse_subcontract,
    remedy_audit,
    request_subcontract,
    schedule_audit,
)

__all__ = [
    "activate",
    "add_contract",
    "add_operator",
    "approve_subcontract",
    "assign_customers",
    "covered_customers",
    "end",
    "evaluate",
    "handover",
    "list_audits",
    "list_contracts",
    "list_handovers",
    "list_operators",
    "record_audit",
    "refuse_subcontract",
    "remedy_audit",
    "remove_customers",
    "request_subcontract",
    "resume",
    "running_grant",
    "schedule_audit",
    "show_contract",
    "suspend",
    "window",
]
