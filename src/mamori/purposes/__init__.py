"""purposes: the 利用目的 registry (R-17-1) — versioned, retired never deleted."""
