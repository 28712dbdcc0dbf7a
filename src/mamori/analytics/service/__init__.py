"""The analytics slice's use cases (Context first; they never commit)."""
