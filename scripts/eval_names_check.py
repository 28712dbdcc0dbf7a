"""Which of the given names appear in any name list a text detector uses (issue 23's independence rule).

    .venv/bin/python scripts/eval_names_check.py 桑島 ツキミ Tsukimi ...     # prints the ones found in a list
    .venv/bin/python scripts/eval_names_check.py --corpus corpus/pii-independent

Every public function of ``mamori.deid.text.names`` that takes no argument and returns a collection is a list
a detector uses; its keys, members and (for dicts) values are compared, case-insensitively for Latin letters.
SudachiDict (a general dictionary, not a list we wrote) is not part of the check; how many of the names it tags
人名 is printed. With ``--corpus``, every ``⟦person:…⟧`` span of the independent corpus is split on spaces and middle dots and
each part is checked. Exit 1 when anything is found.
"""

from __future__ import annotations

import inspect
import re
import sys
from pathlib import Path

from mamori.deid.text import names


def detector_names() -> dict[str, str]:
    """name (lower-cased) → the list it is in."""
    out: dict[str, str] = {}
    for fname, fn in inspect.getmembers(names, callable):
        if fname.startswith("_") or getattr(fn, "__module__", None) != names.__name__ or inspect.isclass(fn):
            continue
        if any(p.default is inspect.Parameter.empty for p in inspect.signature(fn).parameters.values()):
            continue
        value = fn()
        parts: list[object] = []
        if isinstance(value, dict):
            parts += list(value.keys()) + list(value.values())
        elif isinstance(value, (set, frozenset, list, tuple)):
            for v in value:
                parts += list(v) if isinstance(v, (set, frozenset, list, tuple)) else [v]
        for p in parts:
            if isinstance(p, str) and p:
                out.setdefault(p.lower(), fname)
    return out


_SPAN = re.compile(r"⟦person:([^⟧]*)⟧")


def corpus_names(root: Path) -> list[str]:
    found: list[str] = []
    for f in sorted(root.rglob("*.txt")):
        for m in _SPAN.finditer(f.read_text(encoding="utf-8")):
            found += [p for p in re.split(r"[\s　・,.]+", m.group(1)) if p]
    return found


def main(argv: list[str]) -> int:
    if argv[:1] == ["--corpus"]:
        candidates = corpus_names(Path(argv[1]))
    else:
        candidates = argv
    lists = detector_names()
    hits = sorted({(c, lists[c.lower()]) for c in candidates if c.lower() in lists})
    for c, where in hits:
        print(f"{c}\t{where}")
    print(f"checked {len(set(candidates))} names; {len(hits)} in a detector list", file=sys.stderr)
    # Not a list we wrote, so not a failure: how many of them the general dictionary (SudachiDict) tags 人名.
    from mamori.deid.text.detect import morph  # noqa: PLC0415

    unique = sorted(set(candidates))
    known = [c for c in unique if morph.tags(c) & morph.NAME]
    print(f"SudachiDict tags {len(known)} of {len(unique)} of them as a person name (人名)", file=sys.stderr)
    return 1 if hits else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
