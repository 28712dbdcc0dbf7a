"""The REST API: composition only (mounts each slice's router, auth, problem+json)."""
