"""The notice slice registers no subject data source: it holds no personal data of customers.

A published version (``published_notices``) keeps the operator's public facts (name, address, representative,
contact point — public by law, R-32-1), the registries' wording (purposes, joint uses, foreign countries) and who
published it (a staff member's sign-in label); nothing in it is about a customer, so a person's disclosure or
erasure has nothing to find here. The registry's subject data sources (``mamori.kernel.registry.SubjectDataSource``)
are for slices that store data about a customer. The slice's one registration with the kernel — the published
versions for the R-21-2 check (``mamori.kernel.notice``) — is made by ``mamori.composition.register_all``.
"""
