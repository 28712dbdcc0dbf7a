"""The incidents slice's services (issue 22). Each module takes ``ctx`` first, authorises through the policy
engine, audits explicitly with the incident id, and never commits.

- ``register``: register, show, change, close (R-26-1, R-26-2)
- ``scope``: the people and items concerned, from the audit log, provision records, outsourcee handovers, ids, a
  filter or an estimate (R-26-1, R-26-7)
- ``classify``: the four triggers, the exemptions, the GDPR assessment (R-26-1, G-33)
- ``clock``: 速報 / 確報 / 72-hour deadlines and the board (R-26-2, R-26-3, G-33)
- ``report``: the PPC report's nine items, 速報 and 確報 versions, the entrustor notice (R-26-4, R-26-5)
- ``notices``: notices to the people and substitute measures (R-26-6, G-34)
- ``containment``: steps taken from the incident
- ``holds``: people in scope of an open incident are held from retention disposal
"""
