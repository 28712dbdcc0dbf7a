"""staff: users and roles (sign-in, MFA and sessions come with the REST API)."""
