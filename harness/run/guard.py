"""The write guard: lesson code may not write inside the folder harness was started from.

``install(root)`` runs in the worker before the lesson: an audit hook (``sys.addaudithook``)
raises ``PermissionError`` for every Python-level write whose path lies under ``root``, except
in the harness's own scratch space (the system temporary folder, which holds each lesson's
working folder), which always stays writable, even when ``root`` is or contains it.

What it sees: ``open`` for writing (``open``, ``os.open``, ``pathlib``, ``numpy.save``, ...),
and the audit events that change files (``_CHANGES``: remove, rename, mkdir, hard and
symbolic links, chmod, chown, truncate, utime, xattrs, ``shutil``'s copies, moves and
``rmtree``, ``sqlite3.connect``). Each path is resolved the way the kernel will resolve it:
relative to its ``dir_fd`` when it has one, a file descriptor to the file it names
(``/proc/self/fd``; macOS: ``F_GETPATH``), a relative path against the current folder (or,
when the lesson deleted that folder, against the one it last changed into), symbolic links
followed; both the entry a call changes and the file it points to must lie outside ``root``.
Where the guard cannot tell (a descriptor neither names), it refuses. Calls that raise no
audit event of their own are announced before they run: ``os.open`` with ``dir_fd`` (its
event leaves the descriptor out), ``os.mkfifo``, ``os.mknod``, and torch's writers in C++
(``torch.save``, ``torch.export.save``, ``torch.jit.save`` and ``ScriptModule.save``,
flatbuffer and mobile saves, the profiler's trace, ``torch.from_file(..., shared=True)``,
``UntypedStorage.from_file``, ``torch.distributed.FileStore``).

What it does not see: it is not a sandbox. A new program (``os.system``, ``subprocess``,
multiprocessing's spawn), a C or Rust extension writing by itself (h5py, safetensors, OpenCV),
``ctypes``, a file descriptor opened for writing before the guard was installed, and a hard
link to a file of ``root`` made before the run write where they like. Forked processes keep
the guard.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import unquote

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
# audit event -> (position of a path it changes, position of the dir_fd that path is
# relative to, or None), per path (docs.python.org: audit events table, Python 3.11).
# os.mkfifo and os.mknod raise no event of their own: the guard announces them.
_CHANGES: dict[str, tuple[tuple[int, int | None], ...]] = {
    "os.chflags": ((0, None),),
    "os.chmod": ((0, 2),),  # path or fd, mode, dir_fd (os.fchmod: an fd)
    "os.chown": ((0, 3),),  # path or fd, uid, gid, dir_fd
    "os.link": ((0, 2), (1, 3)),  # src too: a hard link to a file writes that file
    "os.mkdir": ((0, 2),),
    "os.mkfifo": ((0, 2),),
    "os.mknod": ((0, 3),),
    "os.remove": ((0, 1),),
    "os.removexattr": ((0, None),),
    "os.rename": ((0, 2), (1, 3)),
    "os.rmdir": ((0, 1),),
    "os.setxattr": ((0, None),),
    "os.symlink": ((1, 2),),
    "os.truncate": ((0, None),),
    "os.utime": ((0, 3),),
    "shutil.chown": ((0, None),),
    "shutil.copyfile": ((1, None),),
    "shutil.copymode": ((1, None),),
    "shutil.copystat": ((1, None),),
    "shutil.copytree": ((1, None),),
    "shutil.move": ((1, None),),
    "shutil.rmtree": ((0, 2),),
}
_MESSAGE = (
    "lesson code may not write inside {root}, where harness was started "
    "(a block runs in a temporary folder: write there)"
)
_state = threading.local()  # .dir_fd: that of the os.open call running on this thread


class _Unknown(Exception):
    """Where a path lies cannot be told: the guard refuses it."""


def install(root: str) -> None:
    """Refuse Python-level writes under ``root`` from now on, in this process."""
    hook = write_guard(root)
    _announce_os_calls()
    _announce_torch_writes()
    sys.addaudithook(hook)


def write_guard(root: str) -> Callable[[str, tuple[Any, ...]], None]:
    """An audit hook refusing writes under ``root``, except in the system temporary folder.

    Of ``root`` and the temporary folder, the innermost wins; when they are the same folder,
    the temporary folder does: the harness's scratch space is never refused.
    """
    root = os.path.realpath(root)
    scratch = os.path.realpath(tempfile.gettempdir())
    tracked: list[str | None] = [_getcwd()]  # the current folder, as last seen

    def within(path: str, folder: str) -> bool:
        return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)

    def protected(path: str) -> bool:
        if not within(path, root):
            return False
        return not (within(path, scratch) and len(scratch) >= len(root))

    def current() -> str:
        here = _getcwd()
        if here is not None:
            tracked[0] = here
            return here
        if tracked[0] is None:
            raise _Unknown("the current folder is gone and where it was is not known")
        return tracked[0]  # the lesson deleted it: '..' still leads out of it

    def absolute(path: Any, dir_fd: Any) -> str | None:
        """``path`` made absolute, unresolved; None when it names no file in a folder."""
        if isinstance(path, int) and not isinstance(path, bool):
            found = _descriptor_path(path)
            return found if found.startswith(os.sep) else None  # pipe:[...], socket:[...]
        try:
            text = os.fsdecode(path)
        except (TypeError, ValueError):
            return None  # a file object, a buffer: the call fails or writes no path
        if os.path.isabs(text):
            return text
        if isinstance(dir_fd, int) and dir_fd >= 0:  # -1 (None) and AT_FDCWD: the folder
            return os.path.join(_descriptor_path(dir_fd), text)
        return os.path.join(current(), text)

    def touched(path: Any, dir_fd: Any) -> Iterator[str]:
        """The entry a call changes and the file it leads to (symbolic links followed)."""
        full = absolute(path, dir_fd)
        if full is None:
            return
        parent, name = os.path.split(os.path.normpath(full))
        if name not in ("", os.curdir, os.pardir):
            yield os.path.join(os.path.realpath(parent), name)
        yield os.path.realpath(full)

    def follow_chdir(path: Any) -> None:
        try:
            full = absolute(path, None)
        except _Unknown:
            tracked[0] = None
            return
        if full is not None and os.path.isdir(full):
            tracked[0] = os.path.realpath(full)  # else the call fails and the folder stays

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event == "os.chdir":
            follow_chdir(args[0])
            return
        if event == "open":
            path, mode, flags = args
            if isinstance(path, int):
                return  # a descriptor: its access was checked when its path was opened
            writes = (mode is not None and any(c in mode for c in "wax+")) or bool(
                isinstance(flags, int) and flags & _WRITE_FLAGS
            )
            if not writes:
                return
            dir_fd = getattr(_state, "dir_fd", None) if mode is None else None
            targets = [(path, dir_fd)]
        elif event == "sqlite3.connect":
            targets = [(path, None) for path in _sqlite_paths(args[0])]
        elif event in _CHANGES:
            targets = [
                (args[at], args[fd] if fd is not None and fd < len(args) else None)
                for at, fd in _CHANGES[event]
                if at < len(args)
            ]
        else:
            return
        for path, dir_fd in targets:
            try:
                found = next((full for full in touched(path, dir_fd) if protected(full)), None)
            except _Unknown as why:
                raise PermissionError(
                    errno.EACCES,
                    f"{_MESSAGE.format(root=root)}; the guard cannot tell where this path "
                    f"lies ({why}), so it refuses it",
                    _shown(path),
                ) from None
            if found is not None:
                raise PermissionError(errno.EACCES, _MESSAGE.format(root=root), found)

    return hook


def _getcwd() -> str | None:
    try:
        return os.path.realpath(os.getcwd())
    except OSError:  # the current folder was deleted
        return None


def _descriptor_path(fd: int) -> str:
    """The path the kernel gives for file descriptor ``fd`` (Linux: ``/proc/self/fd``; macOS:
    ``fcntl(F_GETPATH)``)."""
    try:
        found = os.readlink(f"/proc/self/fd/{fd}")
    except OSError as error:
        getpath = getattr(fcntl, "F_GETPATH", None) if fcntl is not None else None
        if getpath is None:  # pragma: no cover - neither Linux nor macOS
            raise _Unknown(f"file descriptor {fd}: {error.strerror or error}") from None
        try:  # pragma: no cover - macOS
            found = os.fsdecode(fcntl.fcntl(fd, getpath, bytes(1024)).split(b"\0")[0])
        except OSError as again:  # pragma: no cover - macOS
            raise _Unknown(f"file descriptor {fd}: {again.strerror or again}") from None
    return found.removesuffix(" (deleted)")


def _shown(path: Any) -> str:
    try:
        return os.fsdecode(path)
    except (TypeError, ValueError):
        return repr(path)


def _sqlite_paths(database: Any) -> list[Any]:
    """The files ``sqlite3.connect(database)`` may create or write (the event leaves ``uri``
    out, so a ``file:`` name counts both ways; a read-only URI writes nothing)."""
    try:
        name = os.fsdecode(database)
    except (TypeError, ValueError):
        return []
    if name in ("", ":memory:"):
        return []
    paths: list[Any] = [database]
    if name.startswith("file:"):
        rest, _, query = name[len("file:") :].partition("?")
        rest = rest.partition("#")[0]
        if rest.startswith("//"):  # file://host/path
            rest = "/" + rest[2:].partition("/")[2]
        options = {key: value for key, _, value in (p.partition("=") for p in query.split("&"))}
        read_only = options.get("mode") in ("ro", "memory") or options.get("immutable") == "1"
        if not read_only and unquote(rest) not in ("", ":memory:"):
            paths.append(unquote(rest))
    return paths


def _announce_os_calls() -> None:
    """Calls whose audit event is missing or leaves out what the guard needs: ``os.open``'s
    event has no ``dir_fd``; ``os.mkfifo`` and ``os.mknod`` raise none (Python 3.11)."""
    original_open = os.open
    original_mkfifo = getattr(os, "mkfifo", None)
    original_mknod = getattr(os, "mknod", None)

    def open_(path: Any, flags: int, mode: int = 0o777, *, dir_fd: int | None = None) -> int:
        if dir_fd is None:
            return original_open(path, flags, mode)
        previous = getattr(_state, "dir_fd", None)
        _state.dir_fd = dir_fd
        try:
            return original_open(path, flags, mode, dir_fd=dir_fd)
        finally:
            _state.dir_fd = previous

    def mkfifo(path: Any, mode: int = 0o666, *, dir_fd: int | None = None) -> None:
        sys.audit("os.mkfifo", path, mode, -1 if dir_fd is None else dir_fd)
        assert original_mkfifo is not None
        original_mkfifo(path, mode, dir_fd=dir_fd)

    def mknod(path: Any, mode: int = 0o600, device: int = 0, *, dir_fd: int | None = None) -> None:
        sys.audit("os.mknod", path, mode, device, -1 if dir_fd is None else dir_fd)
        assert original_mknod is not None
        original_mknod(path, mode, device, dir_fd=dir_fd)

    replacements: list[tuple[Any, Callable[..., Any]]] = [(original_open, open_)]
    if original_mkfifo is not None:
        replacements.append((original_mkfifo, mkfifo))
    if original_mknod is not None:
        replacements.append((original_mknod, mknod))
    native = sys.modules.get(os.name)  # posix: the module os takes them from
    for original, wrapper in replacements:
        name = original.__name__
        wrapper.__name__ = wrapper.__qualname__ = name
        wrapper.__doc__ = original.__doc__
        for module in (os, native):
            if module is not None and getattr(module, name, None) is original:
                setattr(module, name, wrapper)
        for group in (os.supports_dir_fd, os.supports_fd, os.supports_follow_symlinks):
            if original in group:
                group.add(wrapper)


def _announce(
    owner: object, name: str, position: int, shared: int | None = None, static: bool = False
) -> None:
    """Make ``owner.name`` announce the file it writes (argument ``position``) as an ``open``
    event; with ``shared``, only when that argument (or keyword ``shared``) is true."""
    original = getattr(owner, name, None)
    if original is None or getattr(original, "_harness_announced", False):
        return

    def announced(*args: Any, **kwargs: Any) -> Any:
        path = args[position] if len(args) > position else None
        for keyword in ("f", "filename", "file_name", "path"):
            path = kwargs.get(keyword, path)
        writes = True
        if shared is not None:
            writes = bool(args[shared] if len(args) > shared else kwargs.get("shared"))
        if writes and isinstance(path, (str, bytes, os.PathLike)):
            sys.audit("open", path, "wb", os.O_WRONLY | os.O_CREAT)
        return original(*args, **kwargs)

    announced._harness_announced = True  # type: ignore[attr-defined]
    with contextlib.suppress(AttributeError, TypeError):  # a torch that refuses it: unseen
        setattr(owner, name, staticmethod(announced) if static else announced)


def _announce_torch_writes() -> None:
    """torch writes these files from C++, which no audit event sees: announce them."""
    try:
        import torch
    except ImportError:  # pragma: no cover - the worker always has torch
        return
    native: Any = torch._C
    writers = [
        (getattr(native, "PyTorchFileWriter", None), "__init__"),  # torch.save, export.save
        (getattr(native, "ScriptModule", None), "save"),  # torch.jit.save
        (getattr(native, "ScriptModule", None), "_save_for_mobile"),
        (getattr(native, "ScriptFunction", None), "save"),
        (native, "_save_jit_module"),  # torch.jit.save_jit_module_to_flatbuffer
        (native, "_save_mobile_module"),
        (native, "_save_parameters"),
        (getattr(getattr(native, "_autograd", None), "_ProfilerResult", None), "save"),
        (getattr(getattr(native, "_distributed_c10d", None), "FileStore", None), "__init__"),
    ]
    for owner, name in writers:
        if owner is not None:
            _announce(owner, name, 1)  # argument 0 is the module, the writer or self
    _announce(torch, "from_file", 0, shared=1)
    _announce(getattr(torch, "UntypedStorage", None), "from_file", 0, shared=1, static=True)
