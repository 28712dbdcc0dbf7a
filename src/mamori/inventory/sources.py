"""The inventory slice registers no subject data source: it holds no personal data.

Storage locations, data items and the generated record of processing activities describe the organisation's
handling of data (places, field names, tags, recipients), never a person; the registry's subject data sources
(``mamori.kernel.registry.SubjectDataSource``) are for slices that store data about a customer.
"""
