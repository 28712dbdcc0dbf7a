"""The purposes slice registers no subject data source: it holds no personal data.

Purposes, their versions and the published notice (公表事項) describe uses of data, not a person; the
registry's subject data sources (``mamori.kernel.registry.SubjectDataSource``) are for slices that store
data about a customer.
"""
