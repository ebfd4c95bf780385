"""What runs before a block that no reader sees run: its snippet's prelude (the earlier
statements it needs, in isolated mode or after a time limit) and the project's setup code."""

from __future__ import annotations

import ast
import itertools
from collections.abc import Collection, Sequence

from harness.claims import Claim
from harness.config import Setup
from harness.lesson import Fence, Lesson, block_names
from harness.results import BlockResult, Status
from harness.run.block import error_info, run_unseen
from harness.run.instrument import BINDINGS, compile_block
from harness.run.needs import requirement
from harness.static.depends import Statement, dependency_map


def run_prelude(
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
            code = compile_block(ast.Module(nodes, []), claims, lesson.path)  # nodes unchanged
        except (RecursionError, MemoryError) as error:  # too deep to compile
            return BlockResult(Status.FAILED, 0.0, "", error_info(error, lesson.path))
        namespace[BINDINGS] = {}
        raised = run_unseen(code, namespace, device, lesson.path)
        if raised is not None:  # as the block itself would have raised it
            info, need = error_info(raised, lesson.path), requirement(raised)
            if need:
                return BlockResult(Status.NEEDS, 0.0, "", info, f"needs {need}", need=need)
            return BlockResult(Status.FAILED, 0.0, "", info)
    return None


def run_setup(
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
    raised = run_unseen(code, namespace, device, setup.path)
    return None if raised is None else _setup_failed(setup, fence, raised)


def _setup_failed(setup: Setup, fence: Fence, error: BaseException) -> BlockResult:
    info = error_info(error, setup.path)
    at = setup.line
    if setup.multiline and info.line is not None:
        at = info.line
    elif isinstance(error, SyntaxError):  # raised before its lines were moved
        at = setup.line_of(error.lineno)
    info.line = fence.line
    info.message = f"setup ({setup.where(at)}) failed: {info.message}"
    need = requirement(error)
    if need:
        return BlockResult(Status.NEEDS, 0.0, "", info, f"needs {need}", need=need)
    return BlockResult(Status.FAILED, 0.0, "", info)


_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom)


def defined_by(lesson: Lesson, blocks: Collection[int]) -> dict[str, int]:
    """Names that ``blocks`` (those that ran past their time limit) define, not by a
    definition their preludes keep: name -> the block's line."""
    lost: dict[str, int] = {}
    for fence in lesson.python_fences:
        tree = fence.tree if fence.line in blocks else None
        if tree is None:
            continue
        kept = block_names(ast.Module([n for n in tree.body if isinstance(n, _DEFINITIONS)], []))
        for name in block_names(tree) - kept:
            lost.setdefault(name, fence.line)
    return lost


def resume_prelude(lesson: Lesson, resume: int) -> list[Statement]:
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
