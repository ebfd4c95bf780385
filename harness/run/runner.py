"""Check a lesson on each device, each run in its own worker process.

The worker (``harness.run.worker``) runs the blocks; this side collects its events, so a lesson
that crashes or exits its process is reported as that block's failure while every other
lesson and device still runs. Claims are found here too, so even a crashed run lists them.

With a ``Cache`` (``harness check``; the pytest plugin runs without one), blocks whose key is
stored are answered from it, and only the others run, each from its snippet prelude in one
worker; should one of those fail, the lesson runs again in full, in reader order, so every
failure reported is a reader-order one. Claim verdicts are folded from each block's
contribution, cached or fresh.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from harness.claims import read_comments
from harness.config import Setup
from harness.lesson import Lesson
from harness.results import BlockResult, ClaimResult, ErrorInfo, LessonResult
from harness.run.cache import Cache, Entry, block_keys
from harness.run.settle import Contributions, fold, settle
from harness.static.depends import Dependencies, dependency_map
from harness.static.lint import device_fragile

Progress = Callable[[Lesson, str, int], None]
TIME_LIMIT = 300.0  # seconds per block (worker start included): the lesson's own loop is ~3 s
ENDED = "an earlier block ended the process"


def default_memory_limit() -> int:
    """Half of this machine's memory (or of its cgroup's ``memory.max``), in MB; 0: unknown.

    A worker that imports torch and runs lessons/dl.md uses about 330 MB of data memory.
    """
    try:
        total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, OSError, ValueError):  # pragma: no cover - not POSIX
        return 0
    try:
        cgroup = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if cgroup.isdigit():
            total = min(total, int(cgroup))
    except OSError:
        pass
    return max(total // 2 // 2**20, 0)


MEMORY_LIMIT = default_memory_limit()


@dataclass(frozen=True)
class Limits:
    time: float  # seconds per block, unless its ``time-limit`` directive says otherwise
    memory: int  # MB of data memory per worker; 0: no limit
    setup: Setup | None = None  # the project configuration's code, run before the blocks


def check_lesson(
    lesson: Lesson,
    devices: Sequence[str],
    progress: Progress | None = None,
    isolated: bool = False,
    only: int | None = None,
    time_limit: float = TIME_LIMIT,
    memory_limit: int = MEMORY_LIMIT,
    cache: Cache | None = None,
    setup: Setup | None = None,
) -> LessonResult:
    """Run ``lesson`` on every device and gather block results and claim verdicts.

    ``isolated``: each block runs alone from its snippet; ``only``: just that block (isolated).
    ``cache``: answer unchanged blocks from it (ignored with ``only``). ``setup``: the project
    configuration's code (``harness.config``), run before the blocks in the worker.
    """
    deps = dependency_map(lesson)
    needs = {line: d.needs for line, d in deps.items()}
    mode = "isolated" if isolated or only is not None else "reader"
    claims, prose = read_comments(lesson)
    result = LessonResult(lesson, claims, [], needs=needs, mode=mode, prose=prose)
    result.notes = device_fragile(lesson)
    limits = Limits(time_limit, memory_limit, setup)
    every = "all" in devices
    queue = ["cpu", *[d for d in devices if d not in ("all", "cpu")]] if every else list(devices)
    python = {fence.line for fence in lesson.python_fences}
    for device in queue:  # grows when "all" learns what is available
        result.devices.append(device)
        for fence in lesson.fences:
            if not fence.is_python:
                kind = f"a {fence.language} fence" if fence.language else "a fence, no language"
                reason = f"{kind}: only Python blocks are run"
                result.blocks.setdefault(fence.line, {})[device] = BlockResult(
                    "skipped", reason=reason
                )
        if only is not None and only not in python:
            continue
        contributions: Contributions = {}
        try:
            if cache is not None and only is None:
                available = _cached_run(
                    result, device, progress, limits, cache, deps, contributions
                )
            else:
                lines = None if only is None else {only}
                available = _run_on(result, device, progress, lines, limits, contributions)
        except Interrupted as stopped:  # keep what finished; the rest did not run
            reason = f"the check was interrupted ({stopped})"
            for line in python if only is None else {only}:
                result.blocks.setdefault(line, {}).setdefault(
                    device, BlockResult("not-run", reason=reason)
                )
            available = []
        if every:
            if cache is not None and available:
                cache.store_devices(available)
            elif cache is not None:
                available = _available(cache)
            queue += [d for d in available if d not in queue]
        fold(result, device, contributions)
        settle(result, device, only)
    return result


def cache_summary(result: LessonResult) -> str:
    """``path.md: 2 blocks ran, 15 from the cache`` (block runs, over every device)."""
    ran = cached = 0
    for fence in result.lesson.python_fences:
        for block in result.blocks.get(fence.line, {}).values():
            if block.cached:
                cached += 1
            elif block.status in ("passed", "failed", "unsupported", "needs"):
                ran += 1
    blocks = "block" if ran == 1 else "blocks"
    return f"{result.lesson.path}: {ran} {blocks} ran, {cached} from the cache"


def worker_environment() -> dict[str, str]:
    """The worker's environment: its share of the cores when pytest-xdist runs several.

    Two torch processes each spinning two OpenMP threads on two cores run many times slower
    than one (measured: 4.5 s alone, over 60 s each side by side).
    """
    env = dict(os.environ)
    parallel = int(env.get("PYTEST_XDIST_WORKER_COUNT", "1") or "1")
    if parallel > 1 and "OMP_NUM_THREADS" not in env:
        env["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // parallel))
    return env


def _cached_run(
    result: LessonResult,
    device: str,
    progress: Progress | None,
    limits: Limits,
    cache: Cache,
    deps: dict[int, Dependencies],
    contributions: Contributions,
) -> list[str]:
    """Answer what the cache holds, run the rest; store what ran. Returns available devices.

    Reader order is all or nothing: when one block's key is missing (its fence or an earlier
    one changed), the whole lesson runs, so every verdict is the one a reader meets. Isolated,
    only the blocks whose key is missing run, each from its snippet, as they always do.
    """
    lesson = result.lesson
    setup = limits.setup.to_json() if limits.setup else None
    keys = block_keys(
        lesson, result.claims, deps, device, result.mode, limits.time, limits.memory, setup
    )
    if keys is None:  # the lesson reads the whole environment: no key can cover it
        return _run_on(result, device, progress, None, limits, contributions)
    stored = cache.entries(lesson.path, device, result.mode)
    fresh = {line for line, key in keys.items() if _found(stored, key, line) is None}
    if fresh and result.mode == "reader":
        available = _run_on(result, device, progress, None, limits, contributions)
    else:
        for line, key in keys.items():
            entry = _found(stored, key, line)
            if entry is not None:
                result.blocks.setdefault(line, {})[device] = entry.result
                contributions[line] = entry.claims
        available = _run_on(result, device, progress, fresh, limits, contributions) if fresh else []
    entries = {
        key: Entry(line, result.blocks[line][device], contributions[line])
        for line, key in keys.items()
        if line in contributions and device in result.blocks.get(line, {})
    }
    cache.store(lesson.path, device, result.mode, entries)
    return available


def _found(stored: dict[str, Entry], key: str, line: int) -> Entry | None:
    entry = stored.get(key)
    return entry if entry is not None and entry.line == line else None


def protected_folder() -> str | None:
    """The folder lesson code may not write into: the one harness was started from, unless
    that is the home folder or the root (caches such as ~/.cache/torch live there)."""
    here = os.path.realpath(os.getcwd())
    if here in (os.path.realpath(os.path.expanduser("~")), os.path.realpath(os.sep)):
        return None
    return here


def _available(cache: Cache) -> list[str]:
    """The devices torch finds here: from the cache, or (once) from a short process."""
    found = cache.devices()
    if found is not None:
        return found
    code = "import json; from harness.run.devices import available; print(json.dumps(available()))"
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=worker_environment(),
        capture_output=True,
        text=True,
        timeout=TIME_LIMIT,
        check=False,
    )
    try:
        found = [str(d) for d in json.loads(done.stdout.splitlines()[-1])]
    except (IndexError, ValueError, TypeError):
        return []
    cache.store_devices(found)
    return found


def _run_on(
    result: LessonResult,
    device: str,
    progress: Progress | None,
    only: set[int] | None,
    limits: Limits,
    contributions: Contributions,
) -> list[str]:
    """Run one worker (``only``: just those blocks, each from its snippet); returns the
    devices it found available. Each block's claim checks go to ``contributions``.

    Whatever happens, every block asked for ends with a result: its own, or a failure with
    the reason (``TimeLimit``, ``WorkerCrash``) at the first block the worker did not finish,
    the blocks after it not run. After a block's time limit the rest is not lost: a new
    worker resumes from the next block, from its snippet's prelude (``execute.run_lesson``,
    ``resume``), and each block it runs says so (``resumed_after``). A crash does not resume:
    a process that dies (``os._exit``, a signal, native code) may have been ended on purpose,
    and a lesson that ends every worker it gets would start one per block. The worker runs
    in a session of its own, ended (with every process the lesson left) once it said it was
    done and a short grace period passed, or at once when it crashed, ran out of time or the
    check was interrupted.
    """
    lesson = result.lesson
    wanted = [f.line for f in lesson.python_fences if only is None or f.line in only]
    if _STOP:  # interrupted before this run: start nothing
        raise Interrupted(_STOP[0])
    block_limit = {f.line: f.time_limit or limits.time for f in lesson.python_fences}
    timed_out: list[int] = []  # blocks that ran past their time limit: the rest resumed
    resume: int | None = None  # reader order: the block a new worker resumes from
    while True:
        run = _launch(result, device, progress, only, limits, block_limit, resume, timed_out)
        for line, block, claims in run.finished:
            if timed_out:
                _resumed(block, timed_out[-1])
            result.blocks.setdefault(line, {})[device] = block
            contributions[line] = claims
        if run.unavailable:
            result.absent[device] = run.unavailable
            for fence in lesson.python_fences:
                skipped = BlockResult("skipped", reason=run.unavailable)
                result.blocks.setdefault(fence.line, {})[device] = skipped
            for claim in result.claims:
                verdict = ClaimResult("not-run", message=run.unavailable)
                result.verdicts.setdefault(claim.line, {})[device] = verdict
            return run.available
        unfinished = [line for line in wanted if device not in result.blocks.get(line, {})]
        if not unfinished:
            return run.available
        first, *rest = unfinished
        if run.interrupted:
            reason = f"the check was interrupted ({_signal_name(run.interrupted)})"
            for line in unfinished:
                result.blocks.setdefault(line, {})[device] = BlockResult("not-run", reason=reason)
            return run.available
        resumes = bool(run.timed_out and run.running == first and rest)
        if run.timed_out:
            seconds = run.limit()
            if run.running == first:
                message = f"the block ran longer than {seconds:g} s"
                if resumes and not _STOP:
                    message += f" (the blocks after it ran in a new worker, from line {rest[0]})"
                error = ErrorInfo("TimeLimit", message, first)
            else:
                error = ErrorInfo(
                    "TimeLimit",
                    f"the worker process did not start the block within {seconds:g} s "
                    "(--time-limit, worker start included)",
                    first,
                )
            block = BlockResult("failed", seconds, "", error)
        else:
            block = BlockResult("failed", error=_crash(run, first))
        if timed_out:
            block.resumed_after = timed_out[-1]
        result.blocks.setdefault(first, {})[device] = block
        if resumes and _STOP:  # interrupted meanwhile: no new worker starts
            reason = f"the check was interrupted ({_signal_name(_STOP[0])})"
            for line in rest:
                result.blocks.setdefault(line, {})[device] = BlockResult("not-run", reason=reason)
            return run.available
        if resumes:  # the rest of the lesson is not lost: a new worker runs it
            timed_out.append(first)
            if only is None and result.mode == "reader":
                resume = rest[0]
            else:
                only = set(rest)
            continue
        for line in rest:
            result.blocks.setdefault(line, {})[device] = BlockResult("not-run", reason=ENDED)
        return run.available


def _launch(
    result: LessonResult,
    device: str,
    progress: Progress | None,
    only: set[int] | None,
    limits: Limits,
    block_limit: dict[int, float],
    resume: int | None,
    timed_out: Sequence[int],
) -> _Run:
    """Start a worker on the lesson and watch it to its end (``resume``, ``timed_out``:
    after a time limit, see ``execute.run_lesson``)."""
    lesson = result.lesson
    request = json.dumps(
        {
            "path": lesson.path,
            "source": lesson.source,
            "device": device,
            "isolated": result.mode == "isolated",
            "only": None if only is None else sorted(only),
            "memory_limit": limits.memory,
            "protect": protected_folder(),
            "setup": limits.setup.to_json() if limits.setup else None,
            "resume": resume,
            "timed_out": sorted(timed_out),
        }
    )
    run = _Run()
    _ACTIVE.append(run)
    _WAITING.append(True)  # a signal now only asks the loop to stop: the worker is ended
    try:
        with _ending_on_sigterm():
            _watch(run, request, lesson, device, progress, block_limit, limits)
    finally:
        try:
            run.end()
        finally:
            _ACTIVE.remove(run)
            _WAITING.pop()
    return run


def _resumed(block: BlockResult, after: int) -> None:
    """Say that a block ran in a new worker, from its snippet, after a time limit."""
    block.resumed_after = after
    if not block.reason:
        block.reason = (
            f"ran in a new worker, from its snippet's prelude, after the block at line {after} "
            "ran past its time limit"
        )


GRACE = 2.0  # seconds the lesson's threads and processes get after its last block
# seconds a worker that closed its events without finishing gets to exit by itself, so its own
# exit status is reported (killed by signal 2, exit code 3): Python's shutdown after a real
# SIGINT took over 1 s on a 2-core machine at load 11
EXITING = 10.0
_POLL = 0.1  # seconds between looks at the worker and at the signals received


class Interrupted(Exception):  # a signal, not an error of the lesson
    """The check was interrupted (SIGINT or SIGTERM): no new worker starts."""

    def __init__(self, signum: int) -> None:
        super().__init__(_signal_name(signum))
        self.signum = signum


_STOP: list[int] = []  # signals received under ``stop_on_signals``
_ACTIVE: list[_Run] = []  # the workers running now
_WAITING: list[bool] = []  # non-empty while _run_on may notice _STOP itself


@dataclass
class _Run:
    """One worker process and what it reported."""

    process: subprocess.Popen[bytes] | None = None
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


def _alive(process: subprocess.Popen[bytes]) -> bool:
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
    run: _Run,
    request: str,
    lesson: Lesson,
    device: str,
    progress: Progress | None,
    block_limit: dict[int, float],
    limits: Limits,
) -> None:
    """Start the worker and read its events until it is done, ends, or runs out of time."""
    run.limit = lambda: (
        block_limit.get(run.running, limits.time) if run.running is not None else limits.time
    )
    read_fd, write_fd = os.pipe()
    # files, not pipes: a chatty lesson cannot block on them, nor a large request on us
    with tempfile.TemporaryFile() as errors, tempfile.TemporaryFile() as stdin:
        stdin.write(request.encode("utf-8", "surrogatepass"))
        stdin.seek(0)
        try:
            try:
                run.process = subprocess.Popen(
                    [sys.executable, "-m", "harness.run.worker", str(write_fd)],
                    env=worker_environment(),
                    stdin=stdin,
                    stdout=subprocess.DEVNULL,
                    stderr=errors,
                    pass_fds=(write_fd,),
                    start_new_session=True,  # its own process group: ended as a whole
                )
            except OSError as error:
                run.start_error = f"could not be started: {error.strerror or error}"
                return
            finally:
                os.close(write_fd)
            _read_events(run, read_fd, lesson, device, progress)
        finally:
            os.close(read_fd)
            if run.process is not None and not run.done:
                if not (run.timed_out or run.interrupted):  # it ended itself: keep its status
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        run.process.wait(timeout=EXITING)
                _kill(run.process)  # before reading its stderr: nothing more comes
                run.process.wait()
            errors.seek(0)
            run.stderr = errors.read(1_000_000).decode("utf-8", "replace")


def _read_events(
    run: _Run, read_fd: int, lesson: Lesson, device: str, progress: Progress | None
) -> None:
    process = run.process
    assert process is not None
    deadline = time.monotonic() + run.limit()
    buffer = b""
    while not run.done:
        if _STOP:
            run.interrupted = _STOP[0]
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
            if _event(run, raw, lesson, device, progress):
                deadline = time.monotonic() + run.limit()
            if run.done:  # its last word: nothing after it is read
                break


def _event(run: _Run, raw: bytes, lesson: Lesson, device: str, progress: Progress | None) -> bool:
    """Take one event line in; False when it is not one (the worker never writes those)."""
    try:
        event = json.loads(raw)
        if not isinstance(event, dict):
            return False
        if "available" in event:
            run.available = [str(d) for d in event["available"]]
        elif "unavailable" in event:
            run.unavailable = str(event["unavailable"])
        elif "start" in event:
            run.running = int(event["start"])
            if progress is not None:
                progress(lesson, device, run.running)
        elif "block" in event:
            block = BlockResult.from_json(event["result"])
            claims = {int(line): ClaimResult(**tally) for line, tally in event["claims"].items()}
            run.finished.append((int(event["block"]), block, claims))
            run.running = None
        elif "done" in event:
            run.done = True
        else:
            return False
    except (ValueError, TypeError, KeyError, AttributeError):
        return False
    return True


def _crash(run: _Run, line: int) -> ErrorInfo:
    """Why the worker ended before finishing the block at ``line``."""
    if run.start_error:
        return ErrorInfo("WorkerCrash", f"the worker process {run.start_error}", line)
    if run.done:  # only lesson code writing to the worker's event descriptor does that
        return ErrorInfo(
            "WorkerCrash", "the worker reported the lesson done before the block finished", line
        )
    code = run.process.returncode if run.process is not None else 0
    how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
    fatal = [row for row in run.stderr.splitlines() if "Error" in row or "fault" in row]
    detail = f": {fatal[-1].strip()}" if fatal else ""
    if run.running == line:
        return ErrorInfo("WorkerCrash", f"the process running the block {how}{detail}", line)
    return ErrorInfo(
        "WorkerCrash", f"the worker process {how} before the block started{detail}", line
    )


def _signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def end_workers() -> None:
    """End every worker running now, with what its lesson started (a signal handler's job)."""
    for run in list(_ACTIVE):
        if run.process is not None:
            _kill(run.process)


def _kill(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the worker's session: the worker and what the lesson started in it."""
    with contextlib.suppress(OSError):  # the session is empty: nothing left to end
        os.killpg(process.pid, signal.SIGKILL)


@contextlib.contextmanager
def _ending_on_sigterm() -> Iterator[None]:
    """While a worker runs: a SIGTERM that would end this process silently (pytest's) ends
    the workers first, then this process as before, so no worker is left behind. (SIGINT
    raises KeyboardInterrupt, and ``_run_on`` ends its worker on the way out.)"""
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


@contextlib.contextmanager
def deferred_signals() -> Iterator[None]:
    """Under ``stop_on_signals``: a signal only records itself (writing the results)."""
    _WAITING.append(True)
    try:
        yield
    finally:
        _WAITING.pop()


@contextlib.contextmanager
def stop_on_signals() -> Iterator[list[int]]:
    """``harness check``: SIGINT and SIGTERM stop the check instead of killing it.

    The running worker is ended, the blocks it finished are kept (and cached), and no other
    worker starts: ``check_lesson`` returns what it has. Yields the signals received. Outside
    a worker's run (parsing, writing results), the signal raises ``Interrupted`` at once.
    """
    if threading.current_thread() is not threading.main_thread():
        yield _STOP
        return
    _STOP.clear()

    def stop(signum: int, frame: object) -> None:
        if not _STOP:
            _STOP.append(signum)
        if not _WAITING:
            raise Interrupted(signum)

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield _STOP
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        _STOP.clear()  # the next check (in this process) starts afresh
