"""Shared HTTP plumbing: problem+json errors, the request's Context, purpose header, pagination, headers."""
