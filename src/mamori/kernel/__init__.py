"""Mechanisms with no business rule: settings, db, Context, crypto, audit, policy, registry, clock, errors.

The kernel imports nothing above it (checked by import-linter).
"""
