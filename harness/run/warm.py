"""The warm worker: a process that imported torch and harness's worker once, and forks a fresh
worker from itself for each run, so a check does not wait for torch's import (``harness
watch``; about 2-3 s of every worker start on a 2-core machine).

``python -m harness.run.warm FD`` serves the Unix socket FD. Each request is one byte and four
descriptors: the worker's stdin (the request), its stderr, its event descriptor, and a pipe
for its exit status. The fork is the worker ``python -m harness.run.worker FD`` would be: a
session of its own, stdout on /dev/null, the same ``argv``. The warm process never runs
lesson code, nor any torch operation (no thread pool, no device), so nothing one run leaves
behind (a module attribute, a global, a seed, a thread) reaches the next: each run starts
from the process as it was right after the imports. It serves every device: CUDA and the
other accelerators are first touched in the fork.

In the checking process, inside ``started()`` (``harness watch``; ``harness check`` with
several lessons), ``process.launch`` asks it (``fork``) for each worker, and the first ask
starts it; without it, should it be gone, or once the checker's directory or the workers'
environment (``resources.worker_environment``) is no longer the one it started with, a worker
is a new Python process as before. It runs in a session of its own (Ctrl-C in the terminal
reaches the checker, which ends the runs); it ends when the checker closes the socket or dies.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import traceback
from collections.abc import Collection, Iterator

from harness.run.resources import worker_environment

_PID = struct.Struct("!i")
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
    """The checker's side of one warm process, started on the first ``fork``: a check that
    the cache answers whole starts nothing."""

    def __init__(self) -> None:
        self.socket: socket.socket | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self.lock = threading.Lock()
        self.failed = False  # it could not start, or ended: workers start as new processes
        self.where: tuple[str, dict[str, str]] | None = None  # its directory and environment

    def _start(self) -> None:
        self.where = _where()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "harness.run.warm", str(theirs.fileno())],
                env=worker_environment(),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                pass_fds=(theirs.fileno(),),
                start_new_session=True,
            )
            self.socket = ours
        except OSError:
            ours.close()
            self.failed = True
        finally:
            theirs.close()

    def fork(self, stdin: int, stderr: int, events: int) -> Forked | None:
        """A new worker with these descriptors; None when the warm process is gone, or the
        checker's directory or workers' environment is not the one it started with (the
        caller starts a worker process of its own: the imports a variable changes, a local
        module in another directory, are the new process's)."""
        with self.lock:
            if self.socket is None and not self.failed:
                self._start()
            if self.socket is None or self.where != _where():
                return None
            read, write = os.pipe()
            try:
                socket.send_fds(self.socket, [b"f"], [stdin, stderr, events, write])
                reply = b""
                while len(reply) < _PID.size:
                    chunk = self.socket.recv(_PID.size - len(reply))
                    if not chunk:
                        raise OSError("the warm process ended")
                    reply += chunk
            except OSError:
                os.close(read)
                self.failed = True
                self._close()
                return None
            finally:
                os.close(write)
        return Forked(_PID.unpack(reply)[0], read)

    def close(self) -> None:
        """End the warm process (and, with it, any worker it forked that still runs)."""
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


def _where() -> tuple[str, dict[str, str]]:
    return os.getcwd(), worker_environment()


@contextlib.contextmanager
def started() -> Iterator[Warm]:
    """A warm process for the workers this checker starts inside the ``with`` (the one
    already there, inside another ``started``)."""
    if _SERVER:
        yield _SERVER[-1]
        return
    warm = Warm()
    _SERVER.append(warm)
    try:
        yield warm
    finally:
        _SERVER.remove(warm)
        warm.close()


def current() -> Warm | None:
    return _SERVER[-1] if _SERVER else None


# the warm process ------------------------------------------------------------------------------
def serve(server: socket.socket) -> None:
    """Fork a worker for each request until the checker closes the socket; report each
    worker's exit status on its status pipe."""
    statuses: dict[int, int] = {}  # worker pid -> write end of its status pipe
    while True:
        ready, _, _ = select.select([server], [], [], _REAP if statuses else None)
        if ready:
            try:
                message, fds, _, _ = socket.recv_fds(server, 1, 4)
            except OSError:
                message, fds = b"", []
            if not message or len(fds) != 4:
                for fd in fds:
                    os.close(fd)
                return
            pid = os.fork()
            if pid == 0:
                _worker(server, fds, statuses.values())
            for fd in fds[:3]:
                os.close(fd)
            statuses[pid] = fds[3]
            server.sendall(_PID.pack(pid))
        _reap(statuses)


def _reap(statuses: dict[int, int]) -> None:
    while statuses:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        fd = statuses.pop(pid, None)
        if fd is not None:
            with contextlib.suppress(OSError):
                os.write(fd, f"{os.waitstatus_to_exitcode(status)}\n".encode())
            os.close(fd)


def _worker(server: socket.socket, fds: list[int], others: Collection[int]) -> None:
    """In the fork: become the worker ``python -m harness.run.worker`` would be; never
    returns."""
    code = 1
    try:
        os.setsid()
        server.close()
        for fd in [fds[3], *others]:
            os.close(fd)
        stdin, stderr, events = fds[:3]
        devnull = os.open(os.devnull, os.O_WRONLY)
        for source, target in ((stdin, 0), (devnull, 1), (stderr, 2)):
            os.dup2(source, target)
            os.close(source)
        from harness.run import worker

        sys.argv = [worker.__file__, str(events)]
        code = worker.main([str(events)])
    except SystemExit as ended:
        code = ended.code if isinstance(ended.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def main(argv: list[str]) -> int:
    from harness.run import worker

    worker.end_with_parent()  # the checker dies: so does this process, and its workers
    server = socket.socket(fileno=int(argv[0]))
    import torch  # noqa: F401  (what every worker would import: once, here)

    serve(server)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
