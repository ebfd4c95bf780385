"""Stopping a check on SIGINT or SIGTERM: the running worker is ended, what finished is kept.

Under ``stop_on_signals`` (``harness check``) a signal is recorded in ``STOP``; while a
worker runs (``WAITING`` is not empty) the runner notices it, ends the worker and starts no
other; outside a worker's run it raises ``Interrupted`` at once.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

STOP: list[int] = []  # signals received under ``stop_on_signals``
WAITING: list[bool] = []  # non-empty while the runner may notice STOP itself


class Interrupted(Exception):  # a signal, not an error of the lesson
    """The check was interrupted (SIGINT or SIGTERM): no new worker starts."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal_name(signum))
        self.signum = signum


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


@contextlib.contextmanager
def deferred_signals() -> Iterator[None]:
    """Under ``stop_on_signals``: a signal only records itself (writing the results)."""
    WAITING.append(True)
    try:
        yield
    finally:
        WAITING.pop()


@contextlib.contextmanager
def stop_on_signals() -> Iterator[list[int]]:
    """``harness check``: SIGINT and SIGTERM stop the check instead of killing it.

    The running worker is ended, the blocks it finished are kept (and cached), and no other
    worker starts: ``check_lesson`` returns what it has. Yields the signals received. Outside
    a worker's run (parsing, writing results), the signal raises ``Interrupted`` at once.
    """
    if threading.current_thread() is not threading.main_thread():
        yield STOP
        return
    STOP.clear()

    def stop(signum: int, frame: object) -> None:
        if not STOP:
            STOP.append(signum)
        if not WAITING:
            raise Interrupted(signum)

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield STOP
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        STOP.clear()  # the next check (in this process) starts afresh
