"""One worker process: start it on a request, read its events to its end, end its session.

The worker runs in a session of its own, ended (with every process the lesson left) once it
said it was done and a short grace period passed, or at once when it crashed, ran out of time
or the check was interrupted. What it reported, and how it ended, is kept in a ``WorkerRun``.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from harness.lesson import Lesson
from harness.results import BlockResult, ClaimResult
from harness.run import protocol
from harness.run.resources import TIME_LIMIT, worker_environment
from harness.run.signals import STOP, WAITING
from harness.run.warm import Forked, current

Progress = Callable[[Lesson, str, int], None]
Worker = subprocess.Popen[bytes] | Forked  # a worker process: new, or forked warm
GRACE = 2.0  # seconds the lesson's threads and processes get after its last block
# seconds a worker that closed its events without finishing gets to exit by itself, so its own
# exit status is reported (killed by signal 2, exit code 3): Python's shutdown after a real
# SIGINT took over 1 s on a 2-core machine at load 11
EXITING = 10.0
_POLL = 0.1  # seconds between looks at the worker and at the signals received


@dataclass
class WorkerRun:
    """One worker process and what it reported."""

    process: Worker | None = None
    running: int | None = None
    limit: Callable[[], float] = lambda: TIME_LIMIT
    available: list[str] = field(default_factory=list)
    unavailable: str = ""
    finished: list[tuple[int, BlockResult, dict[int, ClaimResult]]] = field(default_factory=list)
    done: bool = False
    timed_out: bool = False
    interrupted: int = 0
    start_error: str = ""
    stderr: str = ""

    def end(self) -> None:
        """End the worker's session (every process the lesson left in it), reap the worker."""
        process = self.process
        if process is None:
            return
        if self.done:  # its threads and processes may finish what they were doing
            deadline = time.monotonic() + GRACE
            while time.monotonic() < deadline and (process.poll() is None or _alive(process)):
                time.sleep(0.02)
        _kill(process)
        process.wait()
        deadline = time.monotonic() + 1.0  # until the killed are gone (reaped by init)
        while _alive(process) and time.monotonic() < deadline:
            time.sleep(0.01)

    def take(
        self, event: protocol.Event, lesson: Lesson, device: str, progress: Progress | None
    ) -> None:
        """Take one event in."""
        match event:
            case protocol.Available(devices):
                self.available = list(devices)
            case protocol.Unavailable(reason):
                self.unavailable = reason
            case protocol.Started(line):
                self.running = line
                if progress is not None:
                    progress(lesson, device, line)
            case protocol.Finished(line, result, claims):
                self.finished.append((line, result, claims))
                self.running = None
            case protocol.Done():
                self.done = True


_ACTIVE: list[WorkerRun] = []  # the workers running now


def launch(
    request: protocol.Request,
    lesson: Lesson,
    progress: Progress | None,
    block_limit: dict[int, float],
    time_limit: float,
) -> WorkerRun:
    """Start a worker on ``request`` and watch it to its end (each block's time limit from
    ``block_limit``, else ``time_limit``; worker start included)."""
    run = WorkerRun()
    run.limit = lambda: (
        block_limit.get(run.running, time_limit) if run.running is not None else time_limit
    )
    _ACTIVE.append(run)
    WAITING.append(True)  # a signal now only asks the loop to stop: the worker is ended
    try:
        with _ending_on_sigterm():
            _watch(run, request, lesson, progress)
    finally:
        try:
            run.end()
        finally:
            _ACTIVE.remove(run)
            WAITING.pop()
    return run


def _alive(process: Worker) -> bool:
    """Whether any process of the worker's session is left (a zombie waiting for init to
    reap it is not: it runs nothing)."""
    try:
        os.killpg(process.pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return bool(session_processes(process.pid)) if os.path.isdir("/proc/self") else True


def session_processes(session: int) -> list[int]:
    """Linux: the processes of process group ``session`` that still run (not zombies)."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as file:
                fields = file.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):  # ended meanwhile
            continue
        if len(fields) > 2 and fields[0] != b"Z" and int(fields[2]) == session:
            found.append(int(name))
    return found


def _watch(
    run: WorkerRun, request: protocol.Request, lesson: Lesson, progress: Progress | None
) -> None:
    """Start the worker and read its events until it is done, ends, or runs out of time."""
    read_fd, write_fd = os.pipe()
    # files, not pipes: a chatty lesson cannot block on them, nor a large request on us
    with tempfile.TemporaryFile() as errors, tempfile.TemporaryFile() as stdin:
        stdin.write(request.to_json().encode("utf-8", "surrogatepass"))
        stdin.seek(0)
        ended = False  # the worker ended by itself, before it was done
        try:
            try:
                run.process = _start(stdin.fileno(), errors.fileno(), write_fd)
            except OSError as error:
                run.start_error = f"could not be started: {error.strerror or error}"
                return
            finally:
                os.close(write_fd)
            _read_events(run, read_fd, lesson, request.device, progress)
            ended = not (run.done or run.timed_out or run.interrupted)
        finally:
            os.close(read_fd)
            if run.process is not None and not run.done:
                if ended:  # it ended itself (not Ctrl-C here, raised above): keep its status
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        run.process.wait(timeout=EXITING)
                _kill(run.process)  # before reading its stderr: nothing more comes
                run.process.wait()
            errors.seek(0)
            run.stderr = errors.read(1_000_000).decode("utf-8", "replace")


def _start(stdin: int, errors: int, events: int) -> Worker:
    """A worker forked by the warm process (``warm``) while one runs, else a new process."""
    warm = current()
    forked = warm.fork(stdin, errors, events) if warm is not None else None
    if forked is not None:
        return forked
    return subprocess.Popen(
        [sys.executable, "-m", "harness.run.worker", str(events)],
        env=worker_environment(),
        stdin=stdin,
        stdout=subprocess.DEVNULL,
        stderr=errors,
        pass_fds=(events,),
        start_new_session=True,  # its own process group: ended as a whole
    )


def _read_events(
    run: WorkerRun, read_fd: int, lesson: Lesson, device: str, progress: Progress | None
) -> None:
    process = run.process
    assert process is not None
    deadline = time.monotonic() + run.limit()
    buffer = b""
    while not run.done:
        if STOP:
            run.interrupted = STOP[0]
            return
        left = deadline - time.monotonic()
        if left <= 0:
            run.timed_out = True
            return
        ready, _, _ = select.select([read_fd], [], [], min(left, _POLL))
        ended = not ready and process.poll() is not None
        if ended:  # what it wrote before it ended is in the pipe: read it all
            ready, _, _ = select.select([read_fd], [], [], 0)
        chunk = os.read(read_fd, 65536) if ready else b""
        if not chunk and (ready or ended):
            return  # the worker ended (a child of it may hold the pipe open: not waited)
        buffer += chunk
        *complete, buffer = buffer.split(b"\n")
        for raw in complete:
            event = protocol.decode(raw)
            if event is not None:
                run.take(event, lesson, device, progress)
                deadline = time.monotonic() + run.limit()
            if run.done:  # its last word: nothing after it is read
                break


def end_workers() -> None:
    """End every worker running now, with what its lesson started (a signal handler's job)."""
    for run in list(_ACTIVE):
        if run.process is not None:
            _kill(run.process)


def _kill(process: Worker) -> None:
    """SIGKILL the worker's session: the worker and what the lesson started in it."""
    with contextlib.suppress(OSError):  # the session is empty: nothing left to end
        os.killpg(process.pid, signal.SIGKILL)


@contextlib.contextmanager
def _ending_on_sigterm() -> Iterator[None]:
    """While a worker runs: a SIGTERM that would end this process silently (pytest's) ends
    the workers first, then this process as before, so no worker is left behind. (SIGINT
    raises KeyboardInterrupt, and the runner ends its worker on the way out.)"""
    main = threading.current_thread() is threading.main_thread()
    if not main or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return

    def ending(signum: int, frame: object) -> None:
        end_workers()
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    signal.signal(signal.SIGTERM, ending)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
