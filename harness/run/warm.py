"""The warm worker: a process that imported torch and harness's worker once, and forks a fresh
worker from itself for each run, so a check does not wait for torch's import (``harness
watch``; about 2-3 s of every worker start on a 2-core machine).

``python -m harness.run.warm FD`` serves the Unix socket FD, one checker's. Each request is a
JSON object (the checker's directory and workers' environment, its Python and harness) and
four descriptors: the worker's stdin (the request), its stderr, its event descriptor, and a
pipe for its exit status. The fork is the worker ``python -m harness.run.worker FD`` would be,
started by that checker: its directory (and ``sys.path[0]``), its environment, a session of
its own, stdout on /dev/null, the same ``argv``. Where what the imports read differs (another
Python or harness, a variable torch or Python reads as it loads: ``OMP_NUM_THREADS``,
``PYTHONPATH``), or another file-mode mask, resource limit or CPU affinity, the reply is
"not forked" and the checker starts a new process. The warm
process never runs lesson code, nor any torch operation (no thread pool, no device), so
nothing one run leaves behind (a module attribute, a global, a seed, a thread) reaches the
next: each run starts from the process as it was right after the imports. It serves every
device: CUDA and the other accelerators are first touched in the fork.

In the checking process, inside ``started()`` (``harness watch``; ``harness check`` with
several lessons), ``process.launch`` asks it (``fork``) for each worker, and the first ask
starts it; without it, or should it be gone, a worker is a new Python process as before. It
runs in a session of its own (Ctrl-C in the terminal reaches the checker, which ends the
runs); it ends when the checker closes the socket or dies.

``serving()`` starts one warm process for many checkers (``--listen FD``): every checker
started inside it (in that process, or a process it starts: ``harness check``, ``pytest``)
finds its socket in ``HARNESS_WARM`` and forks its workers there, also outside ``started``.
It ends the workers of a checker that left (closed its socket, died, stalled mid-request,
or left before the reply); it ends with the thread that started it (``PR_SET_PDEATHSIG``).
harness's own test session runs inside one (``tests/conftest.py``): torch was imported by
about 225 worker processes in one run of the tests.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import resource
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import traceback
from collections.abc import Collection, Iterator
from pathlib import Path

from harness.claims import kinds
from harness.run.cache import source_hash
from harness.run.outside import LIBRARY_PREFIXES
from harness.run.resources import worker_environment

ADDRESS = "HARNESS_WARM"  # the shared warm process's socket (``serving``), for every checker
_PID = struct.Struct("!i")  # the forked worker's pid; 0: not forked
_SIZE = struct.Struct("!I")  # the length of a request's JSON
_STALLED = 5.0  # seconds a request's rest may take, once begun: past it, the checker is gone
_REPLY = 60.0  # seconds a checker waits for the warm process's reply, then starts its own
# variables read only by a part of torch that ``import torch`` does not load
_LOADED_LATER = (("TORCHINDUCTOR_", "torch._inductor"), ("TORCHDYNAMO_", "torch._dynamo"))
_REAP = 0.05  # seconds between looks for ended workers, while some run
_SERVER: list[Warm] = []  # the warm process of this checker, while ``started`` runs


class Forked:
    """A worker forked by the warm process: what ``process`` needs of a ``subprocess.Popen``
    (``pid``, ``poll``, ``wait``, ``returncode``; its session is ``pid``)."""

    def __init__(self, pid: int, status: int) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self._status = status  # read end of the pipe the warm process writes the status to
        self._read = b""

    def poll(self) -> int | None:
        if self.returncode is None:
            self._take(0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            self._take(timeout)
        if self.returncode is None:
            raise subprocess.TimeoutExpired(f"warm worker {self.pid}", timeout or 0)
        return self.returncode

    def _take(self, timeout: float | None) -> None:
        ready, _, _ = select.select([self._status], [], [], timeout)
        if not ready:
            return
        chunk = os.read(self._status, 64)
        self._read += chunk
        if chunk and not self._read.endswith(b"\n"):
            return
        os.close(self._status)
        try:  # no status at all: the warm process ended, and the worker with it (its parent)
            self.returncode = int(self._read) if chunk else -signal.SIGKILL
        except ValueError:
            self.returncode = -signal.SIGKILL


class Warm:
    """The checker's side of one warm process: its own, started on the first ``fork`` (a
    check that the cache answers whole starts nothing), or the shared one at ``address``,
    joined on the first ``fork``."""

    def __init__(self, address: str | None = None) -> None:
        self.address = address  # the shared warm process's socket; None: one of our own
        self.socket: socket.socket | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self.lock = threading.Lock()
        self.failed = False  # it could not start, or ended: workers start as new processes

    def _start(self) -> None:
        if self.address is not None:
            joined = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                joined.connect(self.address)
                joined.settimeout(_REPLY)
                self.socket = joined
            except OSError:
                joined.close()
                self.failed = True
            return
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.process = _launch(theirs)
            ours.settimeout(_REPLY)
            self.socket = ours
        except OSError:
            ours.close()
            self.failed = True
        finally:
            theirs.close()

    def fork(self, stdin: int, stderr: int, events: int) -> Forked | None:
        """A new worker with these descriptors, in this checker's directory and with the
        workers' environment (``resources.worker_environment``); None when the warm process is
        gone, or when what the imports read differs from what it imported with (a variable
        torch reads as it loads, another Python or harness): the caller then starts a worker
        process of its own."""
        where = json.dumps(_where()).encode("utf-8", "surrogateescape")
        with self.lock:
            if self.socket is None and not self.failed:
                self._start()
            if self.socket is None:
                return None
            read, write = os.pipe()
            try:
                socket.send_fds(
                    self.socket, [_SIZE.pack(len(where))], [stdin, stderr, events, write]
                )
                self.socket.sendall(where)
                pid = _PID.unpack(_receive(self.socket, _PID.size))[0]
            except OSError:
                os.close(read)
                self.failed = True
                self._close()
                return None
            finally:
                os.close(write)
        if pid == 0:  # not the same imports: not forked
            os.close(read)
            return None
        return Forked(pid, read)

    def close(self) -> None:
        """Leave the warm process: one of our own ends (and any worker it forked that still
        runs); the shared one ends the workers it forked for us that still run."""
        with self.lock:
            self._close()

    def _close(self) -> None:
        if self.socket is not None:
            with contextlib.suppress(OSError):
                self.socket.close()
            self.socket = None
        process, self.process = self.process, None
        if process is not None:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _launch(given: socket.socket, *options: str) -> subprocess.Popen[bytes]:
    """``python -m harness.run.warm [OPTIONS] FD``, in a session of its own, with the
    workers' environment: a warm process serving the socket ``given``."""
    return subprocess.Popen(
        [sys.executable, "-m", "harness.run.warm", *options, str(given.fileno())],
        env=worker_environment(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        pass_fds=(given.fileno(),),
        start_new_session=True,
    )


def _where() -> dict[str, object]:
    """What a fork must take from the checker (``cwd``, ``env``), and what must match the
    warm process's for a fork to be the worker a new process would be."""
    return {
        "cwd": os.getcwd(),
        "env": worker_environment(),
        "python": sys.executable,
        "harness": _harness(),
        "process": _process(),
    }


def _process() -> list[object]:
    """What a new process inherits besides its directory and environment: the file-mode
    mask, the resource limits, the cores it may run on."""
    umask = _umask()
    limits = [
        [name, *resource.getrlimit(getattr(resource, name))]
        for name in sorted(dir(resource))
        if name.startswith("RLIMIT_")
    ]
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    return [umask, limits, cores]


def _harness() -> str:
    """A digest of the harness this process imported (its files' paths in the package and
    their content: ``cache.source_hash``, as the cache keys it) and of the claim kinds
    ``HARNESS_CLAIM_KINDS`` names (each one's content). The same sources installed in two
    places (a clone's ``harness/``, found first in its own directory, and site-packages) are
    the same harness."""
    digest = hashlib.sha256(source_hash().encode())
    for source in os.environ.get(kinds.ENVIRONMENT, "").split(os.pathsep):
        found = source if source.endswith(".py") else _origin(source)
        try:
            digest.update(f"{source}\0".encode() + Path(found or source).read_bytes())
        except OSError:
            digest.update(f"{source}\0?".encode())
    return digest.hexdigest()


def _umask() -> int:
    """This process's file-mode mask: read (Linux), not set and set back, which would give
    a file another thread creates meanwhile the wrong mode."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


def _origin(module: str) -> str | None:
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    return spec.origin if spec is not None else None


def _imports(where: dict[str, object]) -> tuple[object, ...]:
    """What the imports in the warm process read, and a fork cannot change: this Python,
    this harness, and the variables that torch, its libraries, Python and harness's claim
    kinds read as they load (``outside.LIBRARY_PREFIXES``, ``HARNESS_CLAIM_KINDS``), less
    those of a part of torch not loaded here, which reads them in the fork (torch's
    compiler: an optimizer's first step loads it, and it sets ``TORCHINDUCTOR_CACHE_DIR``
    in the checker's own environment)."""
    env = where.get("env")
    read = (
        sorted(
            (name, value)
            for name, value in env.items()
            if (name.startswith(LIBRARY_PREFIXES) or name == kinds.ENVIRONMENT)
            and not any(
                name.startswith(prefix) and module not in sys.modules
                for prefix, module in _LOADED_LATER
            )
        )
        if isinstance(env, dict)
        else None
    )
    return where.get("python"), where.get("harness"), where.get("process"), read


def _receive(connection: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = connection.recv(size - len(data))
        if not chunk:
            raise OSError("the warm process ended")
        data += chunk
    return data


@contextlib.contextmanager
def started() -> Iterator[Warm]:
    """A warm process for the workers this checker starts inside the ``with``: the one
    already there (inside another ``started``), the shared one (``HARNESS_WARM``), else one
    of its own."""
    if _SERVER:
        yield _SERVER[-1]
        return
    shared = _shared()
    if shared is not None:
        yield shared
        return
    warm = Warm()
    _SERVER.append(warm)
    try:
        yield warm
    finally:
        _SERVER.remove(warm)
        warm.close()


def current() -> Warm | None:
    """The warm process workers are forked from now: this checker's (inside ``started``),
    else the shared one (``HARNESS_WARM``); None: workers start as new processes."""
    return _SERVER[-1] if _SERVER else _shared()


_JOINED: dict[tuple[int, str], Warm] = {}  # (this process, address) -> its connection


def _forget() -> None:
    """In a child the checker forked (``os.fork``): it holds no copy of the checker's
    connections, so a checker that dies is seen to (its workers are ended) while the child
    lives on. The child starts its workers as new processes, or joins the shared one anew."""
    for held in [*_JOINED.values(), *_SERVER]:
        if held.socket is not None:
            with contextlib.suppress(OSError):
                held.socket.close()
            held.socket = None
        held.process = None  # not the child's to wait for
        held.failed = held.address is None  # its own warm process is the parent's
        held.lock = threading.Lock()
    _JOINED.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget)


def _shared() -> Warm | None:
    address = os.environ.get(ADDRESS, "")
    if not address:
        return None
    key = (os.getpid(), address)  # a fork of this process joins on its own
    if key not in _JOINED:
        _JOINED[key] = Warm(address)
    return _JOINED[key]


@contextlib.contextmanager
def serving() -> Iterator[subprocess.Popen[bytes]]:
    """A warm process shared by every checker started inside the ``with`` (this process,
    and the ``harness check`` and ``pytest`` processes it starts, through ``HARNESS_WARM``):
    torch is imported once for all their workers. Yields the warm process."""
    folder = tempfile.mkdtemp(prefix="harness-warm-")
    address = os.path.join(folder, "socket")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.bind(address)
        listener.listen(64)
        server = _launch(listener, "--listen")
    finally:
        listener.close()
    previous = os.environ.get(ADDRESS)
    os.environ[ADDRESS] = address
    try:
        yield server
    finally:
        if previous is None:
            os.environ.pop(ADDRESS, None)
        else:
            os.environ[ADDRESS] = previous
        for key in [key for key in _JOINED if key[1] == address]:
            _JOINED.pop(key).close()
        server.kill()
        server.wait()
        shutil.rmtree(folder, ignore_errors=True)


# the warm process ------------------------------------------------------------------------------
def serve(first: socket.socket | None, listener: socket.socket | None = None) -> None:
    """Fork a worker for each request, on the connection ``first`` (one checker's: served
    until it closes it) or on each connection ``listener`` accepts (the shared one's: served
    until killed; a checker that closes its connection, dies, or stalls mid-request has the
    workers forked for it that still run ended). Report each worker's exit status on its
    status pipe."""
    connections: dict[socket.socket, set[int]] = {first: set()} if first is not None else {}
    statuses: dict[int, int] = {}  # worker pid -> write end of its status pipe
    owners: dict[int, socket.socket] = {}  # worker pid -> the connection it was forked for
    ours = _imports(_where())
    while True:
        waiting: list[socket.socket] = [*connections, *([listener] if listener else [])]
        ready, _, _ = select.select(waiting, [], [], _REAP if statuses else None)
        for connection in ready:
            if connection is listener:
                with contextlib.suppress(OSError):
                    joined = listener.accept()[0]
                    joined.settimeout(_STALLED)
                    connections[joined] = set()
                continue
            try:
                _answer(connection, ours, connections, statuses, owners, listener)
            except OSError:  # done, dead, stalled mid-request, or gone before the reply
                for pid in connections.pop(connection):
                    owners.pop(pid, None)
                    if pid in statuses:  # still running (a reaped pid is no longer ours)
                        with contextlib.suppress(OSError):
                            os.killpg(pid, signal.SIGKILL)
                connection.close()
                if listener is None:
                    return
        for pid in _reap(statuses):
            owner = owners.pop(pid, None)
            if owner is not None and owner in connections:
                connections[owner].discard(pid)


def _answer(
    connection: socket.socket,
    ours: tuple[object, ...],
    connections: dict[socket.socket, set[int]],
    statuses: dict[int, int],
    owners: dict[int, socket.socket],
    listener: socket.socket | None,
) -> None:
    """Read one request on ``connection`` and answer it: a worker forked (its pid), or 0;
    OSError when the checker closed the connection or the request cannot be read."""
    fds, where = _request(connection)
    if _imports(where) != ours:
        for fd in fds:
            os.close(fd)
        connection.sendall(_PID.pack(0))
        return
    pid = os.fork()
    if pid == 0:
        _worker(fds, where, [*connections, *([listener] if listener else [])], statuses)
    for fd in fds[:3]:
        os.close(fd)
    statuses[pid] = fds[3]
    owners[pid] = connection
    connections[connection].add(pid)  # before the reply: a checker gone now ends it
    connection.sendall(_PID.pack(pid))


def _request(connection: socket.socket) -> tuple[list[int], dict[str, object]]:
    """A checker's request: its four descriptors and what the fork takes from it
    (``_where``). OSError once it closed the connection, or sent what makes no sense, or
    stalled mid-request (``_STALLED``)."""
    fds: list[int] = []
    try:
        header, fds, _, _ = socket.recv_fds(connection, _SIZE.size, 4)
        if len(fds) != 4:
            raise OSError("a request has four descriptors")
        header += _receive(connection, _SIZE.size - len(header))
        where = json.loads(_receive(connection, _SIZE.unpack(header)[0]))
        if not isinstance(where, dict):
            raise OSError("a request is an object")
    except (OSError, ValueError) as error:
        for fd in fds:
            os.close(fd)
        raise OSError(str(error)) from error
    return fds, where


def _reap(statuses: dict[int, int]) -> list[int]:
    """Report the status of each worker that ended; their pids."""
    ended = []
    while statuses:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            break
        fd = statuses.pop(pid, None)
        if fd is not None:
            ended.append(pid)
            with contextlib.suppress(OSError):
                os.write(fd, f"{os.waitstatus_to_exitcode(status)}\n".encode())
            os.close(fd)
    return ended


def _worker(
    fds: list[int],
    where: dict[str, object],
    sockets: Collection[socket.socket],
    statuses: dict[int, int],
) -> None:
    """In the fork: become the worker ``python -m harness.run.worker`` would be, started by
    the checker that asked (its directory, its environment); never returns."""
    code = 1
    try:
        os.setsid()
        for open_socket in sockets:
            open_socket.close()
        for fd in [fds[3], *statuses.values()]:
            os.close(fd)
        stdin, stderr, events = fds[:3]
        devnull = os.open(os.devnull, os.O_WRONLY)
        for source, target in ((stdin, 0), (devnull, 1), (stderr, 2)):
            os.dup2(source, target)
            os.close(source)
        signal.signal(signal.SIGINT, signal.default_int_handler)  # as a new process has it
        _adopt(where)
        from harness.run import worker

        sys.argv = [worker.__file__, str(events)]
        sys.orig_argv = [sys.executable, "-m", "harness.run.worker", str(events)]
        sys.modules["__main__"].__file__ = worker.__file__
        code = worker.main([str(events)])
    except SystemExit as ended:
        code = ended.code if isinstance(ended.code, int) else 1
    except KeyboardInterrupt:  # as Python ends on one: the traceback, then killed by SIGINT
        traceback.print_exc()
        code = -signal.SIGINT
    except BaseException:
        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        if code == -signal.SIGINT:
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGINT)
        os._exit(code)


def _adopt(where: dict[str, object]) -> None:
    """Take the checker's directory and environment, as a process it started would have
    them: ``sys.path[0]`` (``-m``: the directory started in), the variables, the temporary
    folder they name."""
    cwd, env = where.get("cwd"), where.get("env")
    if isinstance(cwd, str):
        started_in = os.getcwd()
        os.chdir(cwd)
        if sys.path and sys.path[0] == started_in:
            sys.path[0] = cwd
    if isinstance(env, dict):
        os.environ.clear()
        os.environ.update({str(name): str(value) for name, value in env.items()})
    tempfile.tempdir = None  # found again from TMPDIR and the others, as first found


def main(argv: list[str]) -> int:
    """``FD``: serve one checker on the connected socket FD; ``--listen FD``: serve every
    checker that connects to the listening socket FD (``serving``)."""
    from harness.run import worker

    worker.end_with_parent()  # the checker dies: so does this process, and its workers
    listening = argv[:1] == ["--listen"]
    given = socket.socket(fileno=int(argv[-1]))
    import torch  # noqa: F401  (what every worker would import: once, here)

    # a lesson that signals its parent (``os.kill(os.getppid(), SIGINT)``, meant for the
    # checker) finds this process: it ends no one's runs (a worker gets Python's handler back)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if listening:
        serve(None, given)
    else:
        serve(given)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
