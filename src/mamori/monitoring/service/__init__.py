"""The monitoring slice's services (issue 25): settings, evaluation, alerts, access reviews, the governance
report. Each takes a Context first, authorises, audits and never commits (the edge does)."""
