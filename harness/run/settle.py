"""Settling a lesson's results on one device: each claim's verdict folded from the checks of
every block, verdicts for claims never checked (with why), and blocks failed by their own
failed claims."""

from __future__ import annotations

import ast

from harness.claims import kinds
from harness.lesson import Lesson
from harness.results import ClaimResult, LessonResult, Status, Verdict

Contributions = dict[int, dict[int, ClaimResult]]  # block line -> claim line -> its checks


def enclosing_function(lesson: Lesson, block: int, line: int) -> tuple[str, int, int] | None:
    """The innermost function (``Net.forward``) whose body holds ``line`` of the block at
    ``block``: its name, its ``def`` line and its last line; None at the top level."""
    fence = next((f for f in lesson.python_fences if f.line == block), None)
    tree = fence.tree if fence is not None else None
    found: tuple[str, int, int] | None = None
    todo: list[tuple[ast.AST, str]] = [(tree, "")] if tree is not None else []
    while todo:
        node, prefix = todo.pop()
        for child in ast.iter_child_nodes(node):
            start, end = getattr(child, "lineno", 0), getattr(child, "end_lineno", 0) or 0
            if not start <= line <= end:
                continue
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                name = f"{prefix}{child.name}"
                if not isinstance(child, ast.ClassDef) and line > start:
                    found = (name, start, end)
                todo.append((child, f"{name}."))
            else:
                todo.append((child, prefix))
    return found


def fold(result: LessonResult, device: str, contributions: Contributions) -> None:
    """Each claim's verdict: the contributions of every block, folded in reader order."""
    lines = {claim.line for claim in result.claims}
    for block in sorted(contributions):
        for line, tally in contributions[block].items():
            if line in lines:
                per_device = result.verdicts.setdefault(line, {})
                per_device.setdefault(device, ClaimResult(Verdict.NOT_RUN)).fold(tally)


def settle(result: LessonResult, device: str, only: int | None) -> None:
    """Verdicts for claims never checked, and blocks failed by their own failed claims."""
    if only is not None:  # one block alone: a failed claim fails the block that ran it
        block = result.blocks.get(only, {}).get(device)
        for line, per_device in result.verdicts.items():
            verdict = per_device.get(device)
            if (
                verdict
                and verdict.verdict == Verdict.FAILED
                and block
                and block.status == Status.PASSED
            ):
                block.status, block.reason = Status.FAILED, f"claim at line {line} failed"
    for claim in result.claims:
        if only is not None and claim.block != only:
            continue  # another block's claim: its own run settles it
        per_device = result.verdicts.setdefault(claim.line, {})
        verdict = per_device.get(device)
        if verdict is None:
            if claim.reason:
                verdict = ClaimResult(Verdict.UNCHECKED, message=claim.reason)
            else:
                block = result.blocks.get(claim.block, {}).get(device)
                known = kinds.of(claim).not_run_reason(claim)  # the kind's own why
                function = enclosing_function(result.lesson, claim.block, claim.line)
                stopped = block.error if block is not None else None
                if block is not None and block.status == Status.NEEDS:
                    why = f"its block {block.reason}"
                elif stopped is not None and stopped.type == "TimeLimit" and function:
                    why = (
                        f"never called by a block that finished: {function[0]} (line "
                        f"{function[1]}); its block ran past its time limit, and the checks "
                        "made in it were lost with it"
                    )
                elif stopped is not None and stopped.type == "TimeLimit":
                    why = f"its block ran past its time limit: {stopped.message}"
                elif block is not None and block.status == Status.FAILED and stopped is not None:
                    if function and stopped.line is not None and stopped.line > function[2]:
                        why = f"never called: {function[0]} (line {function[1]})"
                    else:
                        why = "its block failed before this line ran"
                elif block is not None and block.status == Status.SKIPPED:
                    why = f"its block was skipped: {block.reason}"
                elif block is not None and block.status == Status.NOT_RUN:
                    why = f"its block did not run: {block.reason or 'no result'}"
                elif block is not None and block.reason.startswith("raised "):
                    why = f"its block {block.reason}, before this line ran"
                elif known:
                    why = known
                elif function:
                    why = (
                        f"never called: {function[0]} (line {function[1]}) is not called by "
                        "any block that ran"
                    )
                else:
                    why = "this line never ran (is the function ever called?)"
                verdict = ClaimResult(Verdict.NOT_RUN, message=why)
            per_device[device] = verdict
        if verdict.verdict == Verdict.FAILED:
            block = result.blocks.get(claim.block, {}).get(device)
            if block is not None and block.status == Status.PASSED:
                block.status = Status.FAILED
                block.reason = f"claim at line {claim.line} failed"
