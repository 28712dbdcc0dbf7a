"""The names of the anonymiser's choices, in a module that imports nothing heavy (the CLI's option help and
checks use them at import time; the engine uses the same types)."""

from __future__ import annotations

from typing import Literal, get_args

Metric = Literal["loss", "precision", "arx-loss"]
LKind = Literal["distinct", "entropy"]
TDistance = Literal["equal", "hierarchical"]

METRICS: tuple[str, ...] = get_args(Metric)
L_KINDS: tuple[str, ...] = get_args(LKind)
T_DISTANCES: tuple[str, ...] = get_args(TDistance)

# The keystore name of the pseudonym key (削除情報等, R-41-2) when none is given.
DEFAULT_KEY_NAME = "deid.pseudonym.hmac"

# Metrics whose loss is a mean of per-record costs (a suppressed record's extra cost is a valid bound for every
# predecessor node); "arx-loss" aggregates per-QI means with a geometric mean and is not.
ADDITIVE_METRICS: frozenset[str] = frozenset({"loss", "precision"})
