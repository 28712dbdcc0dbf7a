"""Intake, identity verification, scope, the board, refusal, extension and fees of requests from the person.

Identity (R-37-1): nothing is shown or changed before the requester is verified, and every identifier used to
find the person's data is itself verified. The subject set of a request is exactly the customers reached by
verified identifiers: an email proven by a one-time code, a phone confirmed by a call-back to the registered
number, or a customer id chosen by staff after checking an ID document. A claimed but unverified identifier
reaches nobody.
"""

from __future__ import annotations

from mamori.rights.service.core.common import _LEGAL_REP_DOCS as _LEGAL_REP_DOCS
from mamori.rights.service.core.common import _MANDATE_DOCS as _MANDATE_DOCS
from mamori.rights.service.core.common import CODE_MAX_ATTEMPTS as CODE_MAX_ATTEMPTS
from mamori.rights.service.core.common import CODE_TTL as CODE_TTL
from mamori.rights.service.core.common import TooManyAttempts as TooManyAttempts
from mamori.rights.service.core.common import _identifiers as _identifiers
from mamori.rights.service.core.common import _load as _load
from mamori.rights.service.core.common import _not_found as _not_found
from mamori.rights.service.core.common import event as event
from mamori.rights.service.core.common import subject_ids as subject_ids
from mamori.rights.service.core.common import view as view
from mamori.rights.service.core.decisions import _notify_person as _notify_person
from mamori.rights.service.core.decisions import board as board
from mamori.rights.service.core.decisions import check_ground as check_ground
from mamori.rights.service.core.decisions import close as close
from mamori.rights.service.core.decisions import extend as extend
from mamori.rights.service.core.decisions import refuse as refuse
from mamori.rights.service.core.decisions import require_explanation as require_explanation
from mamori.rights.service.core.decisions import set_fee as set_fee
from mamori.rights.service.core.decisions import sha256_hex as sha256_hex
from mamori.rights.service.core.decisions import show as show
from mamori.rights.service.core.opening import _add_identifier as _add_identifier
from mamori.rights.service.core.opening import _check_open as _check_open
from mamori.rights.service.core.opening import _create as _create
from mamori.rights.service.core.opening import _default_scope as _default_scope
from mamori.rights.service.core.opening import _due as _due
from mamori.rights.service.core.opening import _ident as _ident
from mamori.rights.service.core.opening import _open_request as _open_request
from mamori.rights.service.core.opening import _send_code as _send_code
from mamori.rights.service.core.opening import add_identifier as add_identifier
from mamori.rights.service.core.opening import open_public as open_public
from mamori.rights.service.core.opening import open_request as open_request
from mamori.rights.service.core.opening import send_code as send_code
from mamori.rights.service.core.scope import FILE_PER_IDENTIFIER as FILE_PER_IDENTIFIER
from mamori.rights.service.core.scope import FILE_PER_IP as FILE_PER_IP
from mamori.rights.service.core.scope import PACKAGE_PER_REQUEST as PACKAGE_PER_REQUEST
from mamori.rights.service.core.scope import STATUS_PER_IP as STATUS_PER_IP
from mamori.rights.service.core.scope import VERIFY_PER_IP as VERIFY_PER_IP
from mamori.rights.service.core.scope import VERIFY_PER_REQUEST as VERIFY_PER_REQUEST
from mamori.rights.service.core.scope import _by_token as _by_token
from mamori.rights.service.core.scope import _held as _held
from mamori.rights.service.core.scope import _scope as _scope
from mamori.rights.service.core.scope import held_categories as held_categories
from mamori.rights.service.core.scope import person as person
from mamori.rights.service.core.scope import public_scope as public_scope
from mamori.rights.service.core.scope import public_status as public_status
from mamori.rights.service.core.scope import public_verify as public_verify
from mamori.rights.service.core.scope import set_scope as set_scope
from mamori.rights.service.core.scope import throttle as throttle
from mamori.rights.service.core.verify import VerifyResult as VerifyResult
from mamori.rights.service.core.verify import _check_code as _check_code
from mamori.rights.service.core.verify import _mark_verified as _mark_verified
from mamori.rights.service.core.verify import _require_verified as _require_verified
from mamori.rights.service.core.verify import _resolve_regime as _resolve_regime
from mamori.rights.service.core.verify import notified_purposes as notified_purposes
from mamori.rights.service.core.verify import verify_callback as verify_callback
from mamori.rights.service.core.verify import verify_code as verify_code
from mamori.rights.service.core.verify import verify_document as verify_document
from mamori.rights.service.core.verify import verify_login as verify_login
