"""Run a lesson's Python blocks in reader order, in this process, with claims probed.

One namespace per lesson, top to bottom, in a temporary working directory, with the seeds
fixed before each block. This module runs inside the worker process (``harness.run.worker``):
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
import importlib.util
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
from types import CodeType, FrameType, TracebackType

from harness.claims import Claim, parse_block
from harness.config import Setup
from harness.lesson import Fence, Lesson
from harness.results import STDOUT_LIMIT, BlockResult, ClaimResult, ErrorInfo
from harness.run.devices import Census, mechanism_limit, synchronize
from harness.run.instrument import BINDINGS, PROBE, compile_block
from harness.run.probe import Probe
from harness.static.depends import Statement, dependency_map

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


# What a block needs that this machine lacks, told by the exception it raised (see
# ``requirement``): messages of torch on a build or machine without the accelerator ...
_CUDA_MESSAGES = (
    "Torch not compiled with CUDA enabled",
    "Found no NVIDIA driver",
    "No CUDA GPUs are available",
    "no CUDA-capable device",
    "CUDA driver initialization failed",
    "NVIDIA driver on your system is too old",
    "torch.cuda.is_available() is False",
    "Cannot access accelerator device when none is available",
    "Tried to instantiate dummy base class",
    "has no attribute '_cuda_",
)
_MPS_MESSAGES = ("'MPS' backend", "MPS backend", "torch.backends.mps.is_available() is False")
# ... and of a download or a connection that could not be made.
_NETWORK_TYPES = frozenset(
    {
        "URLError",
        "ConnectionError",
        "gaierror",
        "herror",
        "NewConnectionError",
        "MaxRetryError",
        "NameResolutionError",
        "ConnectTimeout",
        "ConnectTimeoutError",
        "ProxyError",
    }
)
_NETWORK_MESSAGES = (
    "urlopen error",
    "no internet connection",
    "Temporary failure in name resolution",
    "Name or service not known",
    "Network is unreachable",
    "nodename nor servname provided",
    "Failed to establish a new connection",
    "couldn't connect to",
    "cannot connect to",
)
_PACKAGE_MESSAGES = {"Numpy is not available": "numpy"}


def _chain(error: BaseException) -> list[BaseException]:
    """The error, its cause and context, theirs, and so on (each once, at most 20)."""
    seen: list[BaseException] = []
    todo: list[BaseException] = [error]
    while todo and len(seen) < 20:
        item = todo.pop(0)
        if any(item is known for known in seen):
            continue
        seen.append(item)
        todo += [e for e in (item.__cause__, item.__context__) if e is not None]
    return seen


def _missing(name: str | None) -> str | None:
    """The top-level package of a module that could not be found, if it is not installed."""
    top = (name or "").split(".")[0]
    if not top:
        return None
    try:
        found = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        found = None
    return top if found is None else None


def requirement(error: BaseException) -> str:
    """What the block needs that this machine lacks, '' when the error is the lesson's own:
    ``package vit_pytorch`` (a module that is not installed), ``cuda`` or ``mps`` (a call
    that needs the accelerator, on a machine or build without it), ``network`` (a download,
    a hub model: a connection that could not be made). An HTTP error answer (404) is not: the
    network was there."""
    chain = _chain(error)
    for item in chain:
        if isinstance(item, ModuleNotFoundError):
            package = _missing(item.name)
            if package is not None:
                return f"package {package}"
    texts = [f"{type(item).__name__}: {item}" for item in chain]
    for text in texts:
        for message, package in _PACKAGE_MESSAGES.items():
            if message in text and _missing(package) is not None:
                return f"package {package}"
    if any(m in text for m in _CUDA_MESSAGES for text in texts) and not _has("cuda"):
        return "cuda"
    if any(m in text for m in _MPS_MESSAGES for text in texts) and not _has("mps"):
        return "mps"
    for item in chain:
        names = {cls.__name__ for cls in type(item).__mro__}
        if "HTTPError" in names:
            return ""
        if names & _NETWORK_TYPES and "BrokenPipeError" not in names:  # a pipe is local
            return "network"
    if any(m in text for m in _NETWORK_MESSAGES for text in texts):
        return "network"
    return ""


def _has(accelerator: str) -> bool:
    import torch

    try:
        if accelerator == "cuda":
            return bool(torch.cuda.is_available())
        return bool(torch.backends.mps.is_available())
    except Exception:  # a broken build: it does not have it
        return False


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
    resume: int | None = None,
    timed_out: Collection[int] = (),
    setup: Setup | None = None,
) -> dict[int, ClaimResult]:
    """Run every Python block; report each through ``on_block``; return claim verdicts.

    Reader order shares one namespace; ``isolated`` gives each block a fresh one holding only
    what its snippet brings (the earlier statements it needs); ``only`` runs just that block
    (or those blocks), each alone. ``on_block`` gets the claim checks made while that block
    ran (its prelude's excluded): a block's contribution, which ``ClaimResult.fold`` adds up.

    ``resume``: after a time limit, run the blocks from that line on in reader order, after
    the earlier statements they need (their snippets' preludes, united). ``timed_out``: the
    blocks that ran past their time limit: preludes keep only their definitions (``def``,
    ``class``, ``import``), and a block that then misses a name only such a block defines is
    not run, with that reason, rather than failed.

    ``setup``: the project configuration's code (``harness.config``), run in the namespace
    before the first block (in isolated mode, in each block's fresh one before its prelude).
    """
    probe = Probe(claims, lesson.path, lesson.python_fences)
    namespace = _namespace(probe)
    wanted = {only} if isinstance(only, int) else only
    deps = dependency_map(lesson) if isolated or wanted is not None else {}
    verdicts: dict[int, ClaimResult] = {}
    defined_by_failed: dict[str, int] = {}
    needs_of: dict[int, str] = {}  # block line -> what it needs (status needs)
    lost = _defined_by(lesson, timed_out)
    start = _resume_prelude(lesson, resume) if resume is not None else None
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="harness-") as workdir, _Interrupts.told():
        os.chdir(workdir)
        try:
            for fence in lesson.python_fences:
                if wanted is not None and fence.line not in wanted:
                    continue
                if resume is not None and fence.line < resume:
                    continue
                on_start(fence)
                tree = parse_block(fence)
                failed = _run_setup(setup, fence, device, namespace) if not deps else None
                setup = setup if deps else None  # reader order: once, before the first block
                if deps and fence.directives.skip is None:
                    namespace = _namespace(probe)
                    statements = deps[fence.line].statements
                    failed = _run_setup(setup, fence, device, namespace)
                    if failed is None:
                        failed = _run_prelude(
                            lesson, statements, claims, device, namespace, timed_out
                        )
                elif start is not None and failed is None:  # resumed: what the rest needs
                    failed = _run_prelude(lesson, start, claims, device, namespace, timed_out)
                    start = None
                probe.tallies = {}
                if failed is not None:
                    result = failed
                else:
                    result = _run_block(lesson, fence, claims, device, namespace, probe)
                result = _lost_to_time_limit(result, lost)
                if result.error is not None and deps:
                    _explain_isolated(result.error, lesson, fence)
                if result.error is not None and not deps:
                    if result.error.type == "NameError":
                        result = _explain_name_error(result, defined_by_failed, needs_of)
                    if tree is not None:
                        for name in defined_names(tree):
                            defined_by_failed.setdefault(name, fence.line)
                if result.status == "needs":
                    needs_of[fence.line] = result.need
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
    timed_out: Collection[int] = (),
) -> BlockResult | None:
    """A snippet's earlier statements, block by block, each seeded as in reader order; their
    output is dropped and their claim checks are not the block's (the caller resets them).
    Statements of blocks that a ``skip`` directive keeps from running are left out, and of
    blocks that ran past their time limit (``timed_out``) only definitions are kept. Returns
    the block's result when a statement raised: failed, or needs (``requirement``)."""
    skipped = {f.line for f in lesson.python_fences if f.directives.skip is not None}
    for block, group in itertools.groupby(statements, key=lambda s: s.block):
        if block in skipped:
            continue
        nodes = [s.node for s in group]
        if block in timed_out:
            nodes = [node for node in nodes if isinstance(node, _DEFINITIONS)]
            if not nodes:
                continue
        try:
            tree = ast.Module([copy.deepcopy(node) for node in nodes], [])
            code = compile_block(tree, claims, lesson.path)
        except (RecursionError, MemoryError) as error:  # too deep to copy or compile
            return BlockResult("failed", 0.0, "", _error(error, lesson.path))
        namespace[BINDINGS] = {}
        raised = _run_unseen(code, namespace, device, lesson.path)
        if raised is not None:  # as the block itself would have raised it
            info, need = _error(raised, lesson.path), requirement(raised)
            if need:
                return BlockResult("needs", 0.0, "", info, f"needs {need}", need=need)
            return BlockResult("failed", 0.0, "", info)
    return None


def _run_unseen(
    code: CodeType, namespace: dict[str, object], device: str, path: str
) -> BaseException | None:
    """Run code no reader sees run (a prelude, the setup): seeded, on the device, its output
    dropped. Returns what it raised; a real interrupt goes on up."""
    _seed()
    try:
        dropped = _Output()
        with (
            contextlib.redirect_stdout(dropped.stdout),
            contextlib.redirect_stderr(dropped.stderr),
            _on_device(device, Census(device, path)),
        ):
            exec(code, namespace)
    except BaseException as error:
        if _signalled(error):
            raise
        return error
    return None


def _run_setup(
    setup: Setup | None, fence: Fence, device: str, namespace: dict[str, object]
) -> BlockResult | None:
    """The project configuration's setup code, run in ``namespace`` as a reader's docs build
    runs it: never shown (its output dropped), no claims, seeded and on the device as a block
    is. When it raises, ``fence``'s block fails (or needs what is missing), naming the
    configuration line that raised."""
    if setup is None:
        return None
    try:
        tree = ast.parse(setup.code, setup.path)
        if setup.multiline:  # its lines are the configuration's: tracebacks show them
            ast.increment_lineno(tree, setup.line - 1)
        code = compile(tree, setup.path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
        return _setup_failed(setup, fence, error)
    raised = _run_unseen(code, namespace, device, setup.path)
    return None if raised is None else _setup_failed(setup, fence, raised)


def _setup_failed(setup: Setup, fence: Fence, error: BaseException) -> BlockResult:
    info = _error(error, setup.path)
    at = setup.line
    if setup.multiline and info.line is not None:
        at = info.line
    elif isinstance(error, SyntaxError):  # raised before its lines were moved
        at = setup.line_of(error.lineno)
    info.line = fence.line
    info.message = f"setup ({setup.where(at)}) failed: {info.message}"
    need = requirement(error)
    if need:
        return BlockResult("needs", 0.0, "", info, f"needs {need}", need=need)
    return BlockResult("failed", 0.0, "", info)


_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom)


def _defined_by(lesson: Lesson, blocks: Collection[int]) -> dict[str, int]:
    """Names that ``blocks`` (those that ran past their time limit) define, not by a
    definition their preludes keep: name -> the block's line."""
    lost: dict[str, int] = {}
    for fence in lesson.python_fences:
        tree = parse_block(fence) if fence.line in blocks else None
        if tree is None:
            continue
        kept = defined_names(ast.Module([n for n in tree.body if isinstance(n, _DEFINITIONS)], []))
        for name in defined_names(tree) - kept:
            lost.setdefault(name, fence.line)
    return lost


def _resume_prelude(lesson: Lesson, resume: int) -> list[Statement]:
    """The statements of blocks before ``resume`` that the blocks from it on need: their
    snippets' preludes, united, in lesson order."""
    deps = dependency_map(lesson)
    united: dict[tuple[int, int], Statement] = {}
    for fence in lesson.python_fences:
        if fence.line >= resume and fence.line in deps:
            for statement in deps[fence.line].statements:
                if statement.block < resume:
                    united[(statement.block, statement.index)] = statement
    return [united[key] for key in sorted(united)]


def _lost_to_time_limit(result: BlockResult, lost: dict[str, int]) -> BlockResult:
    """A block that misses a name only a block that ran past its time limit defines did not
    really run: not run, with that reason (the time limit is that other block's failure)."""
    error = result.error
    name = _missing_name(error) if error is not None else ""
    if error is None or error.type != "NameError" or name not in lost:
        return result
    reason = (
        f"{name} would have been defined by the block at line {lost[name]}, which ran past "
        f"its time limit (NameError at line {error.line})"
    )
    return BlockResult("not-run", result.seconds, result.stdout, reason=reason)


def _missing_name(error: ErrorInfo) -> str:
    return error.message.split("'")[1] if error.message.count("'") >= 2 else ""


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


def _explain_name_error(
    result: BlockResult, defined_by_failed: dict[str, int], needs_of: dict[int, str]
) -> BlockResult:
    """A NameError for a name an earlier failed block would have defined says so; when that
    block's status is ``needs``, this block needs the same (``needs what line N needs``)."""
    error = result.error
    assert error is not None
    name = _missing_name(error)
    if name not in defined_by_failed:
        return result
    line = defined_by_failed[name]
    need = needs_of.get(line)
    if need is None:
        error.message += (
            f" ({name} would have been defined by the block at line {line}, which failed)"
        )
        return result
    reason = f"needs what line {line} needs ({need})"
    return BlockResult("needs", result.seconds, result.stdout, error, reason, need=need)


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
        need = requirement(error)
        if need:
            return BlockResult("needs", seconds, out.getvalue(), info, f"needs {need}", need=need)
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
