"""Run one block (or code no reader sees: a prelude, the setup) in a namespace: seeded, on
the device, its output captured, whatever it raises turned into the block's result.

Whatever a block raises is that block's failure, ``SystemExit`` and ``KeyboardInterrupt``
included (a ``raises`` directive may expect them); only a real SIGINT delivered to the worker
stops the run.
"""

from __future__ import annotations

import contextlib
import random
import signal
import sys
import threading
import time
import traceback
from collections.abc import Iterator, Sequence
from types import CodeType, FrameType, TracebackType

from harness.claims import Claim
from harness.lesson import Fence, Lesson, block_names
from harness.results import BlockResult, ErrorInfo, Status, Verdict
from harness.run.devices import Census, default_device, mechanism_limit, synchronize
from harness.run.instrument import BINDINGS, compile_block
from harness.run.needs import requirement
from harness.run.output import Output
from harness.run.probe import Probe

SEED = 0


class Interrupts:
    """Tells a real interrupt (SIGINT: Ctrl-C, the harness ending) from a ``KeyboardInterrupt``
    the lesson raises: the first ends the worker, the second is its block's failure."""

    signalled = False

    @staticmethod
    def handler(signum: int, frame: FrameType | None) -> None:
        Interrupts.signalled = True
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
        Interrupts.signalled = False
        signal.signal(signal.SIGINT, Interrupts.handler)
        try:
            yield
        finally:
            if signal.getsignal(signal.SIGINT) is Interrupts.handler:
                signal.signal(signal.SIGINT, signal.default_int_handler)


def signalled(error: BaseException) -> bool:
    """A real interrupt, which stops the run, rather than an exception of the lesson's."""
    return isinstance(error, KeyboardInterrupt) and Interrupts.signalled


def seed() -> None:
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


def error_info(error: BaseException, filename: str) -> ErrorInfo:
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
def on_device(device: str, census: Census) -> Iterator[None]:
    """Plain lesson code creates its tensors on ``device`` (see ``devices``), counted."""
    try:
        with default_device(device), census:
            yield
    finally:
        synchronize(device)


def run_unseen(
    code: CodeType, namespace: dict[str, object], device: str, path: str
) -> BaseException | None:
    """Run code no reader sees run (a prelude, the setup): seeded, on the device, its output
    dropped. Returns what it raised; a real interrupt goes on up."""
    seed()
    try:
        dropped = Output()
        with (
            contextlib.redirect_stdout(dropped.stdout),
            contextlib.redirect_stderr(dropped.stderr),
            on_device(device, Census(device, path)),
        ):
            exec(code, namespace)
    except BaseException as error:
        if signalled(error):
            raise
        return error
    return None


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


def _uninstrumented(fence: Fence, filename: str) -> tuple[CodeType | None, str]:
    """The block compiled from its text, without probes, when its tree is deeper than this
    Python compiles (3.12 compiles a tree less deep than it parses text: a sum of 1,500
    terms), with why its claims are not checked; None when the text does not compile either."""
    version = "Python {}.{}".format(*sys.version_info[:2])
    why = f"{version} cannot compile this block's tree, nested this deep, with its probes"
    if fence.fragment_of or fence.doctest:
        return None, why
    try:
        text = "\n" * (fence.code_line - 1) + fence.code
        code = compile(text, filename, "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None, f"{version} cannot compile this block, nested this deep"
    return code, f"{why}: the block ran without them, its claims are not checked"


def run_block(
    lesson: Lesson,
    fence: Fence,
    claims: Sequence[Claim],
    device: str,
    namespace: dict[str, object],
    probe: Probe,
    record_losses: bool = False,
) -> BlockResult:
    """Run the block, instrumented with its claims' probes, in ``namespace``.

    ``record_losses``: a training loop's block keeps the loss of each step (``Census``).
    """
    directives = fence.directives
    if directives.skip is not None:
        reason = f"skipped by the directive at line {directives.line}: {directives.skip}"
        return BlockResult(Status.SKIPPED, reason=reason)
    tree = fence.tree
    if tree is None:
        return BlockResult(Status.FAILED, 0.0, "", _syntax_error(fence, lesson.path))
    probe.block_names = block_names(tree)
    try:
        code = compile_block(tree, claims, lesson.path, console=fence.doctest)
    except RecursionError:
        plain, why = _uninstrumented(fence, lesson.path)
        if plain is None:
            return BlockResult(Status.FAILED, 0.0, "", ErrorInfo("SyntaxError", why, fence.line))
        code = plain
        for claim in claims:  # the lesson's: this block's are those at its lines
            if fence.line <= claim.line <= fence.end_line:
                probe.record(claim.line, Verdict.UNCHECKED, "", "", why)
    namespace[BINDINGS] = {}
    out = Output()
    seed()
    census = Census(device, lesson.path, record_losses)
    start = time.perf_counter()
    try:
        with (
            contextlib.redirect_stdout(out.stdout),
            contextlib.redirect_stderr(out.stderr),
            on_device(device, census),
        ):
            exec(code, namespace)
    except BaseException as error:  # the lesson may raise anything, even SystemExit
        if signalled(error):
            raise
        seconds = time.perf_counter() - start
        info = error_info(error, lesson.path)
        if directives.raises is not None:
            return _expected(fence, error, info, seconds, out.getvalue(), census)
        limit = mechanism_limit(info.message) if device != "cpu" else None
        if limit is not None:
            reason = f"the harness's default-device mechanism, not the lesson: {limit}"
            return BlockResult(Status.UNSUPPORTED, seconds, out.getvalue(), info, reason)
        need = requirement(error)
        if need:
            return BlockResult(
                Status.NEEDS, seconds, out.getvalue(), info, f"needs {need}", need=need
            )
        return _with_census(BlockResult(Status.FAILED, seconds, out.getvalue(), info), census)
    seconds = time.perf_counter() - start
    if directives.raises is not None:
        unraised = ErrorInfo(
            "ExpectedException",
            f"expected {directives.raises} (directive at line {directives.line}), got no exception",
            directives.line,
        )
        return _with_census(BlockResult(Status.FAILED, seconds, out.getvalue(), unraised), census)
    return _with_census(BlockResult(Status.PASSED, seconds, out.getvalue()), census)


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
        return _with_census(BlockResult(Status.PASSED, seconds, stdout, reason=reason), census)
    info.message = (
        f"expected {wanted} (directive at line {fence.directives.line}), "
        f"got {info.type}: {info.message}"
    )
    return _with_census(BlockResult(Status.FAILED, seconds, stdout, info), census)


def _with_census(result: BlockResult, census: Census) -> BlockResult:
    """Where the block's work ran (and the losses it recorded, for a training loop)."""
    result.census = census.shares()
    losses = census.losses()
    if losses:
        result.losses = losses
    elsewhere = 1.0 - result.census.get(census.expected, 0.0)
    if result.census and (elsewhere > 0.5 or census.moved_at is not None):
        result.flags.append("ran-elsewhere")
        result.moved_at = census.moved_at
    return result
