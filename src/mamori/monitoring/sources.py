"""The monitoring slice registers no subject data source.

It keeps no customer's personal data: alerts name audit entries by their sequence numbers and counts (the customer
ids stay in the audit log, which the audit slice answers for), the daily rows count people without naming them,
access reviews list staff accounts and the report holds aggregates. A request from a customer (rights) therefore
has nothing to disclose, correct or erase here. What the slice keeps about staff members — their activity counts
per day, the alerts about them, their lines in an access review — is the company's record of its own safety
measures (R-23-2), not customer data.
"""
