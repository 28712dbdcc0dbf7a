"""Small in-process caches shared by the threads of one Runtime (hot-path facts that change rarely).

A cache here never decides on its own how long a fact stays true: every entry is either checked against a stamp
read in the same statement as the data it goes with (:class:`StampedCache`), or has a short lifetime chosen by its
owner and is cleared by the owner's own writes (:class:`TtlCache`). Values are ids, codes and facts — never
personal values (those stay sealed in the stores).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import datetime, timedelta
from typing import Generic, TypeVar

V = TypeVar("V")


class StampedCache(Generic[V]):
    """Entries valid for one stamp (a value that changes whenever the underlying rows change); a new stamp
    drops every entry of the old one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stamp: Hashable | None = None
        self._entries: dict[Hashable, V] = {}

    def get(self, stamp: Hashable, key: Hashable, load: Callable[[], V]) -> V:
        with self._lock:
            if stamp == self._stamp and key in self._entries:
                return self._entries[key]
        value = load()
        with self._lock:
            if stamp != self._stamp:
                self._stamp, self._entries = stamp, {}
            self._entries[key] = value
        return value

    def clear(self) -> None:
        with self._lock:
            self._stamp, self._entries = None, {}


class TtlCache(Generic[V]):
    """Entries trusted for ``lifetime`` on the runtime's clock, at most ``max_entries`` (oldest dropped)."""

    def __init__(self, lifetime: timedelta, max_entries: int = 10_000) -> None:
        self.lifetime = lifetime
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, tuple[datetime, V]] = OrderedDict()

    def get(self, key: Hashable, now: datetime) -> V | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            at, value = found
            if not (at <= now < at + self.lifetime):
                del self._entries[key]
                return None
            return value

    def put(self, key: Hashable, value: V, now: datetime) -> None:
        with self._lock:
            self._entries[key] = (now, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class Caches:
    """The named caches of one Runtime (created on first use)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._named: dict[str, object] = {}

    def stamped(self, name: str) -> StampedCache[object]:
        with self._lock:
            found = self._named.setdefault(name, StampedCache[object]())
        assert isinstance(found, StampedCache)
        return found

    def ttl(self, name: str, lifetime: timedelta) -> TtlCache[object]:
        with self._lock:
            found = self._named.setdefault(name, TtlCache[object](lifetime))
        assert isinstance(found, TtlCache)
        return found

    def clear(self) -> None:
        with self._lock:
            for cache in self._named.values():
                cache.clear()  # type: ignore[attr-defined]
