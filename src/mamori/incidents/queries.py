"""Select statements of the incidents slice (scoped reads only; ids, counts and codes)."""

from __future__ import annotations
