"""E-mail delivery (issue 18, docs/mail.md): a sealed queue in the data store, delivered after commit.

    from mamori.kernel.mail import Mail, enqueue
    message_id = enqueue(ctx, Mail(to=..., subject=..., text=..., html=..., topic="rights.code", ref=request_id))

The message is stored sealed in the caller's transaction and delivered after it commits (by the server's delivery
worker, or synchronously right after the commit when no worker runs in the process); a rolled-back transaction
sends nothing, a failed send is retried with back-off and never raises into the caller.
"""

from mamori.kernel.mail.queue import (
    DeliveryReport,
    Hook,
    Mail,
    MailStatus,
    deliver_due,
    enqueue,
    forget,
    register_delivery_hooks,
    register_periodic,
    retry,
    run_periodic,
    status,
)

__all__ = [
    "DeliveryReport",
    "Hook",
    "Mail",
    "MailStatus",
    "deliver_due",
    "enqueue",
    "forget",
    "register_delivery_hooks",
    "register_periodic",
    "retry",
    "run_periodic",
    "status",
]
