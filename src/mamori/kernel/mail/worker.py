"""The delivery worker: a daemon thread the server's lifespan starts (one per process, per runtime).

It runs :func:`deliver_due` every ``interval`` seconds — at once when a transaction that enqueued mail commits
(:func:`after_commit` wakes it). The registered periodic jobs are run by the scheduler (``mamori worker``, issue
21: kernel/scheduler; ``mamori mail deliver`` from cron runs them too), not by this thread. Without a running worker
(the CLI, a TestClient without lifespan), :func:`after_commit` delivers the new messages itself, right after the
commit; a failure there is recorded and retried, never raised into the caller.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING

from mamori.kernel.mail.queue import deliver_due

if TYPE_CHECKING:
    from mamori.kernel.runtime import Runtime

log = logging.getLogger("mamori.mail")

INTERVAL = 30.0

_workers: weakref.WeakKeyDictionary[Runtime, DeliveryWorker] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


class DeliveryWorker:
    def __init__(self, rt: Runtime, *, interval: float = INTERVAL) -> None:
        self.rt = rt
        self.interval = interval
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="mamori-mail", daemon=True)
        self.passes = 0

    def start(self) -> None:
        self._thread.start()

    def is_alive(self) -> bool:
        return self._thread.is_alive() and not self._stop.is_set()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            self.run_once()
            self._wake.wait(self.interval)

    def run_once(self) -> None:
        try:
            while (
                True
            ):  # a full pass may leave more due messages: go on until a pass finds fewer than its limit
                report = deliver_due(self.rt)
                if self._stop.is_set() or report.sent + report.retried + report.failed < 100:
                    break
        except Exception as exc:  # the worker must survive a broken pass; the next one retries
            log.warning("mail delivery pass failed: %s", getattr(exc, "code", type(exc).__name__))
        finally:
            self.passes += 1


def start_worker(rt: Runtime, *, interval: float = INTERVAL) -> DeliveryWorker:
    """Start this runtime's delivery worker (once; a running one is returned as it is)."""
    with _lock:
        worker = _workers.get(rt)
        if worker is not None and worker.is_alive():
            return worker
        worker = DeliveryWorker(rt, interval=interval)
        _workers[rt] = worker
        worker.start()
        return worker


def stop_worker(rt: Runtime, timeout: float = 30.0) -> None:
    with _lock:
        worker = _workers.pop(rt, None)
    if worker is not None:
        worker.stop(timeout)


def worker_for(rt: Runtime) -> DeliveryWorker | None:
    worker = _workers.get(rt)
    return worker if worker is not None and worker.is_alive() else None


def after_commit(rt: Runtime, ids: Sequence[str]) -> None:
    """A transaction that enqueued ``ids`` committed: wake the worker, or deliver them now. Never raises."""
    if not ids:
        return
    worker = worker_for(rt)
    if worker is not None:
        worker.wake()
        return
    try:
        deliver_due(rt, ids=list(ids))
    except Exception as exc:  # recorded on the row and retried by the next pass; the caller's work is done
        log.warning("mail delivery after commit failed: %s", getattr(exc, "code", type(exc).__name__))
