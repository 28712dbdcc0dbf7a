"""Reaching customers lawfully (issue 20, ADR 0019): call and mailing lists built through the policy engine, the
check before a contact, e-mail campaigns under the 特定電子メール法, one-click unsubscribe, and the call center's
inbound screen."""
