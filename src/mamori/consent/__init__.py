"""consent: an append-only ledger of consents and do-not-contact choices; current state is derived from it."""
