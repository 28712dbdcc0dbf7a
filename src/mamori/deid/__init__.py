"""deid: personal information in free text (detect, redact) and in tables (pseudonymise, anonymise, risk)."""
