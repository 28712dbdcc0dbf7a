"""The staff slice registers no subject data source.

Staff accounts, sessions and API tokens are personal data of employees, handled under the staff slice's own
rules (SECURITY.md §3); the registry's subject data sources (``mamori.kernel.registry.SubjectDataSource``) answer
requests from customers (本人からの請求, keyed by customer id), which the staff tables never hold.
"""
