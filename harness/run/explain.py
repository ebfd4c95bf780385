"""Why a block failed, when the reason is another block's: a name an earlier failed block (or
one that ran past its time limit) would have defined, or a dependency a block run alone
misses."""

from __future__ import annotations

from harness.lesson import Fence, Lesson, block_names
from harness.results import BlockResult, ErrorInfo, Status


def lost_to_time_limit(result: BlockResult, lost: dict[str, int]) -> BlockResult:
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
    return BlockResult(Status.NOT_RUN, result.seconds, result.stdout, reason=reason)


def _missing_name(error: ErrorInfo) -> str:
    return error.message.split("'")[1] if error.message.count("'") >= 2 else ""


def explain_isolated(error: ErrorInfo, lesson: Lesson, fence: Fence) -> None:
    """A block that fails alone for a name an earlier block defines depends on it silently."""
    name = error.message.split("'")[1] if error.message.count("'") >= 2 else ""
    if error.type != "NameError" or not name:
        return
    for earlier in reversed(lesson.python_fences):
        tree = earlier.tree if earlier.line < fence.line else None
        if tree is not None and name in block_names(tree):
            error.message += (
                f" (run alone, the block silently depends on the block at line {earlier.line},"
                f" which defines {name})"
            )
            return
    error.message += (
        f" (run alone; no earlier block defines {name} where the dependency map can see it:"
        " compare with reader order)"
    )


def explain_name_error(
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
    return BlockResult(Status.NEEDS, result.seconds, result.stdout, error, reason, need=need)
