"""``audit verify`` as the CLI runs it, for the restore (one place to follow its signature)."""

from __future__ import annotations

from mamori.kernel.audit import VerifyReport, verify
from mamori.kernel.runtime import Runtime


def verify_audit(rt: Runtime, *, drain: bool = True) -> VerifyReport:
    """Drain the outbox (unless ``drain`` is False: the data store may not exist yet), then verify the whole log
    against its MACs, its checkpoints and the anchor file."""
    if drain:
        rt.drain_outbox()
    return verify(
        rt.audit_engine,
        rt.audit.public_key_bytes(),
        rt.anchor_path,
        mac_key=rt.keystore.system_key("audit_mac"),
    )
