"""Run a lesson's Python blocks in reader order, in this process, with claims probed.

One namespace per lesson, top to bottom, in a temporary working directory, with the seeds
fixed before each block. This module runs inside the worker process (``harness.worker``):
the lesson may crash or hang it without harming the caller.

Whatever a block raises is that block's failure, ``SystemExit`` and ``KeyboardInterrupt``
included (a ``raises`` directive may expect them); only a real SIGINT delivered to the worker
stops the run. Each block gets its own ``sys.stdout``/``sys.stderr``: a block that closes them
fails at its next write, as a reader's would, and keeps what it printed before.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import copy
import io
import itertools
import os
import random
import signal
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Collection, Iterator, Sequence
from types import FrameType, TracebackType

from harness.claims import Claim, parse_block
from harness.depends import Statement, dependency_map
from harness.devices import Census, mechanism_limit, synchronize
from harness.instrument import BINDINGS, PROBE, compile_block
from harness.lesson import Fence, Lesson
from harness.probe import Probe
from harness.results import STDOUT_LIMIT, BlockResult, ClaimResult, ErrorInfo

SEED = 0


class _Output:
    """What one block prints, stdout and stderr interleaved, at most STDOUT_LIMIT characters."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._size = 0
        self.stdout = _Stream(self)
        self.stderr = _Stream(self)

    @property
    def size(self) -> int:
        return self._size

    def add(self, text: str) -> None:
        room = STDOUT_LIMIT - self._size
        if room > 0:
            self._parts.append(text[:room])
            self._size += min(room, len(text))

    def getvalue(self) -> str:
        return "".join(self._parts)


class _Stream(io.TextIOBase):
    """A block's ``sys.stdout`` (or ``sys.stderr``): closing it, as a lesson may, makes its
    later writes fail as a reader's would, and never loses what was printed before."""

    def __init__(self, output: _Output) -> None:
        super().__init__()
        self._output = output

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if self.closed:
            raise ValueError("I/O operation on closed file.")
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        self._output.add(text)
        return len(text)

    def tell(self) -> int:
        """Where the block's output stands (doctest outputs are read from a mark on)."""
        return self._output.size

    def getvalue(self) -> str:
        return self._output.getvalue()

    @property
    def buffer(self) -> _Bytes:
        """``sys.stdout.buffer``: bytes written there are decoded (undecodable bytes kept as
        lone surrogates, which the results escape)."""
        return _Bytes(self)


class _Bytes(io.RawIOBase):
    def __init__(self, stream: _Stream) -> None:
        super().__init__()
        self._stream = stream

    def writable(self) -> bool:
        return True

    def write(self, data: object) -> int:
        chunk = bytes(data)  # type: ignore[call-overload]
        self._stream.write(chunk.decode("utf-8", "surrogateescape"))
        return len(chunk)


class _Interrupts:
    """Tells a real interrupt (SIGINT: Ctrl-C, the harness ending) from a ``KeyboardInterrupt``
    the lesson raises: the first ends the worker, the second is its block's failure."""

    signalled = False

    @staticmethod
    def handler(signum: int, frame: FrameType | None) -> None:
        _Interrupts.signalled = True
        raise KeyboardInterrupt

    @staticmethod
    @contextlib.contextmanager
    def told() -> Iterator[None]:
        """Mark SIGINTs while the lesson runs (main thread, default handler only)."""
        if (
            threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
        ):
            yield
            return
        _Interrupts.signalled = False
        signal.signal(signal.SIGINT, _Interrupts.handler)
        try:
            yield
        finally:
            if signal.getsignal(signal.SIGINT) is _Interrupts.handler:
                signal.signal(signal.SIGINT, signal.default_int_handler)


def _signalled(error: BaseException) -> bool:
    """A real interrupt, which stops the run, rather than an exception of the lesson's."""
    return isinstance(error, KeyboardInterrupt) and _Interrupts.signalled


def defined_names(tree: ast.Module) -> frozenset[str]:
    """Names a block binds at its top level (assignments, defs, classes, imports)."""
    names: set[str] = set()
    for stmt in tree.body:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, ast.alias):
                names.add((node.asname or node.name).split(".")[0])
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(stmt.name)
    return frozenset(names)


def _seed() -> None:
    random.seed(SEED)
    import torch

    torch.manual_seed(SEED)


def _lesson_line(tb: TracebackType | None, filename: str) -> int | None:
    """The deepest traceback line that lies in the lesson."""
    line = None
    for frame, lineno in traceback.walk_tb(tb):
        if frame.f_code.co_filename == filename:
            line = lineno
    return line


def _error(error: BaseException, filename: str) -> ErrorInfo:
    tb = error.__traceback__
    # Drop the harness's own frames: the traceback starts in the lesson.
    while tb is not None and tb.tb_frame.f_code.co_filename != filename:
        tb = tb.tb_next
    text = "".join(traceback.format_exception(type(error), error, tb))
    line = _lesson_line(tb, filename)
    message = str(error)
    if isinstance(error, SystemExit):
        message = f"the block called sys.exit({error.code!r})"
    return ErrorInfo(type(error).__name__, message, line, text)


@contextlib.contextmanager
def _on_device(device: str, census: Census) -> Iterator[None]:
    """Plain lesson code creates its tensors on ``device`` (see ``devices``), counted."""
    import torch

    previous = torch.get_default_device()
    torch.set_default_device(None if device == "cpu" else device)
    try:
        with census:
            yield
    finally:
        torch.set_default_device(previous)
        synchronize(device)


def run_lesson(
    lesson: Lesson,
    claims: Sequence[Claim],
    device: str,
    on_block: Callable[[Fence, BlockResult, dict[int, ClaimResult]], None],
    on_start: Callable[[Fence], None] = lambda fence: None,
    isolated: bool = False,
    only: int | Collection[int] | None = None,
) -> dict[int, ClaimResult]:
    """Run every Python block; report each through ``on_block``; return claim verdicts.

    Reader order shares one namespace; ``isolated`` gives each block a fresh one holding only
    what its snippet brings (the earlier statements it needs); ``only`` runs just that block
    (or those blocks), each alone. ``on_block`` gets the claim checks made while that block
    ran (its prelude's excluded): a block's contribution, which ``ClaimResult.fold`` adds up.
    """
    probe = Probe(claims, lesson.path, lesson.python_fences)
    namespace = _namespace(probe)
    wanted = {only} if isinstance(only, int) else only
    deps = dependency_map(lesson) if isolated or wanted is not None else {}
    verdicts: dict[int, ClaimResult] = {}
    defined_by_failed: dict[str, int] = {}
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="harness-") as workdir, _Interrupts.told():
        os.chdir(workdir)
        try:
            for fence in lesson.python_fences:
                if wanted is not None and fence.line not in wanted:
                    continue
                on_start(fence)
                tree = parse_block(fence)
                failed = None
                if deps and fence.directives.skip is None:
                    namespace = _namespace(probe)
                    statements = deps[fence.line].statements
                    failed = _run_prelude(lesson, statements, claims, device, namespace)
                probe.tallies = {}
                if failed is not None:
                    result = BlockResult("failed", 0.0, "", failed)
                else:
                    result = _run_block(lesson, fence, claims, device, namespace, probe)
                if result.error is not None and deps:
                    _explain_isolated(result.error, lesson, fence)
                if result.error is not None and not deps:
                    if result.error.type == "NameError":
                        _explain_name_error(result.error, defined_by_failed)
                    if tree is not None:
                        for name in defined_names(tree):
                            defined_by_failed.setdefault(name, fence.line)
                on_block(fence, result, probe.tallies)
                for line, tally in probe.tallies.items():
                    verdicts.setdefault(line, ClaimResult("not-run")).fold(tally)
        finally:
            os.chdir(cwd)
    return verdicts


def _run_prelude(
    lesson: Lesson,
    statements: Sequence[Statement],
    claims: Sequence[Claim],
    device: str,
    namespace: dict[str, object],
) -> ErrorInfo | None:
    """A snippet's earlier statements, block by block, each seeded as in reader order; their
    output is dropped and their claim checks are not the block's (the caller resets them).
    Statements of blocks that a ``skip`` directive keeps from running are left out."""
    skipped = {f.line for f in lesson.python_fences if f.directives.skip is not None}
    for block, group in itertools.groupby(statements, key=lambda s: s.block):
        if block in skipped:
            continue
        try:
            tree = ast.Module([copy.deepcopy(s.node) for s in group], [])
            code = compile_block(tree, claims, lesson.path)
        except (RecursionError, MemoryError) as error:  # too deep to copy or compile
            return _error(error, lesson.path)
        namespace[BINDINGS] = {}
        _seed()
        try:
            dropped = _Output()
            with (
                contextlib.redirect_stdout(dropped.stdout),
                contextlib.redirect_stderr(dropped.stderr),
                _on_device(device, Census(device, lesson.path)),
            ):
                exec(code, namespace)
        except BaseException as error:  # as the block itself would have raised it
            if _signalled(error):
                raise
            return _error(error, lesson.path)
    return None


def _namespace(probe: Probe) -> dict[str, object]:
    return {"__name__": "__main__", "__builtins__": builtins, PROBE: probe}


def _explain_isolated(error: ErrorInfo, lesson: Lesson, fence: Fence) -> None:
    """A block that fails alone for a name an earlier block defines depends on it silently."""
    name = error.message.split("'")[1] if error.message.count("'") >= 2 else ""
    if error.type != "NameError" or not name:
        return
    for earlier in reversed(lesson.python_fences):
        tree = parse_block(earlier) if earlier.line < fence.line else None
        if tree is not None and name in defined_names(tree):
            error.message += (
                f" (run alone, the block silently depends on the block at line {earlier.line},"
                f" which defines {name})"
            )
            return
    error.message += (
        f" (run alone; no earlier block defines {name} where the dependency map can see it:"
        " compare with reader order)"
    )


def _explain_name_error(error: ErrorInfo, defined_by_failed: dict[str, int]) -> None:
    name = error.message.split("'")[1] if error.message.count("'") >= 2 else ""
    if name in defined_by_failed:
        error.message += (
            f" ({name} would have been defined by the block at line "
            f"{defined_by_failed[name]}, which failed)"
        )


def _syntax_error(fence: Fence, filename: str) -> ErrorInfo:
    """The SyntaxError of a block that does not parse, at its lesson line."""
    try:
        compile(fence.code, filename, "exec", dont_inherit=True)
    except SyntaxError as error:
        line = (error.lineno or 1) + fence.code_line - 1
        return ErrorInfo(
            type(error).__name__,
            error.msg or "invalid syntax",
            line,
            f"{filename}:{line}: {error.msg}\n{(error.text or '').rstrip()}\n",
        )
    except ValueError as error:  # null bytes in the source
        return ErrorInfo("SyntaxError", str(error), fence.code_line)
    except (RecursionError, MemoryError) as error:  # nested deeper than Python's parser goes
        why = f"the block is nested too deeply for Python to compile ({type(error).__name__})"
        return ErrorInfo("SyntaxError", why, fence.code_line)
    return ErrorInfo("SyntaxError", "the block does not parse", fence.code_line)


def _run_block(
    lesson: Lesson,
    fence: Fence,
    claims: Sequence[Claim],
    device: str,
    namespace: dict[str, object],
    probe: Probe,
) -> BlockResult:
    directives = fence.directives
    if directives.skip is not None:
        reason = f"skipped by the directive at line {directives.line}: {directives.skip}"
        return BlockResult("skipped", reason=reason)
    tree = parse_block(fence)
    if tree is None:
        return BlockResult("failed", 0.0, "", _syntax_error(fence, lesson.path))
    probe.block_names = defined_names(tree)
    code = compile_block(tree, claims, lesson.path, console=fence.doctest)
    namespace[BINDINGS] = {}
    out = _Output()
    _seed()
    census = Census(device, lesson.path)
    start = time.perf_counter()
    try:
        with (
            contextlib.redirect_stdout(out.stdout),
            contextlib.redirect_stderr(out.stderr),
            _on_device(device, census),
        ):
            exec(code, namespace)
    except BaseException as error:  # the lesson may raise anything, even SystemExit
        if _signalled(error):
            raise
        seconds = time.perf_counter() - start
        info = _error(error, lesson.path)
        if directives.raises is not None:
            return _expected(fence, error, info, seconds, out.getvalue(), census)
        limit = mechanism_limit(info.message) if device != "cpu" else None
        if limit is not None:
            reason = f"the harness's default-device mechanism, not the lesson: {limit}"
            return BlockResult("unsupported", seconds, out.getvalue(), info, reason)
        return _with_census(BlockResult("failed", seconds, out.getvalue(), info), census)
    seconds = time.perf_counter() - start
    if directives.raises is not None:
        error_info = ErrorInfo(
            "ExpectedException",
            f"expected {directives.raises} (directive at line {directives.line}), got no exception",
            directives.line,
        )
        return _with_census(BlockResult("failed", seconds, out.getvalue(), error_info), census)
    return _with_census(BlockResult("passed", seconds, out.getvalue()), census)


def _expected(
    fence: Fence,
    error: BaseException,
    info: ErrorInfo,
    seconds: float,
    stdout: str,
    census: Census,
) -> BlockResult:
    """A block under ``raises``: the exception it names (or a subclass) passes it."""
    wanted = fence.directives.raises or ""
    names = {cls.__name__ for cls in type(error).__mro__}
    names |= {f"{cls.__module__}.{cls.__qualname__}" for cls in type(error).__mro__}
    if wanted in names:
        reason = f"raised {info.type} as the directive at line {fence.directives.line} expects"
        return _with_census(BlockResult("passed", seconds, stdout, reason=reason), census)
    info.message = (
        f"expected {wanted} (directive at line {fence.directives.line}), "
        f"got {info.type}: {info.message}"
    )
    return _with_census(BlockResult("failed", seconds, stdout, info), census)


def _with_census(result: BlockResult, census: Census) -> BlockResult:
    result.census = census.shares()
    elsewhere = 1.0 - result.census.get(census.expected, 0.0)
    if result.census and (elsewhere > 0.5 or census.moved_at is not None):
        result.flags.append("ran-elsewhere")
        result.moved_at = census.moved_at
    return result
