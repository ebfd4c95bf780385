"""Run a lesson's Python blocks in reader order, in this process, with claims probed.

One namespace per lesson, top to bottom, in a temporary working directory, with the seeds
fixed before each block. This module runs inside the worker process (``harness.run.worker``):
the lesson may crash or hang it without harming the caller. ``block`` runs each block,
``preludes`` what runs before it unseen, ``explain`` says why a block failed for another's sake.
"""

from __future__ import annotations

import builtins
import os
import tempfile
from collections.abc import Callable, Collection, Sequence

from harness.claims import Claim
from harness.config import Setup
from harness.lesson import Fence, Lesson, block_names
from harness.results import BlockResult, ClaimResult, Status, Verdict
from harness.run.bench import training_loops
from harness.run.block import Interrupts, run_block
from harness.run.explain import explain_isolated, explain_name_error, lost_to_time_limit
from harness.run.instrument import PROBE
from harness.run.preludes import defined_by, resume_prelude, run_prelude, run_setup
from harness.run.probe import Probe
from harness.static.depends import dependency_map


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
    until: int | None = None,
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
    not run, with that reason, rather than failed. ``until``: the last block to run (reader
    order: the runner's cache answers the blocks after it).

    ``setup``: the project configuration's code (``harness.config``), run in the namespace
    before the first block (in isolated mode, in each block's fresh one before its prelude).
    """
    probe = Probe(claims, lesson.path, lesson.python_fences)
    loops = {fence.line for fence in training_loops(lesson)}
    namespace = _namespace(probe)
    wanted = {only} if isinstance(only, int) else only
    deps = dependency_map(lesson) if isolated or wanted is not None else {}
    verdicts: dict[int, ClaimResult] = {}
    defined_by_failed: dict[str, int] = {}
    needs_of: dict[int, str] = {}  # block line -> what it needs (status needs)
    lost = defined_by(lesson, timed_out)
    start = resume_prelude(lesson, resume) if resume is not None else None
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="harness-") as workdir, Interrupts.told():
        os.chdir(workdir)
        try:
            for fence in lesson.python_fences:
                if wanted is not None and fence.line not in wanted:
                    continue
                if resume is not None and fence.line < resume:
                    continue
                if until is not None and fence.line > until:
                    break
                on_start(fence)
                failed = run_setup(setup, fence, device, namespace) if not deps else None
                setup = setup if deps else None  # reader order: once, before the first block
                if deps and fence.directives.skip is None:
                    namespace = _namespace(probe)
                    statements = deps[fence.line].statements
                    failed = run_setup(setup, fence, device, namespace)
                    if failed is None:
                        failed = run_prelude(
                            lesson, statements, claims, device, namespace, timed_out
                        )
                elif start is not None and failed is None:  # resumed: what the rest needs
                    failed = run_prelude(lesson, start, claims, device, namespace, timed_out)
                    start = None
                probe.tallies = {}
                if failed is not None:
                    result = failed
                else:
                    result = run_block(
                        lesson, fence, claims, device, namespace, probe, fence.line in loops
                    )
                result = lost_to_time_limit(result, lost)
                if result.error is not None and deps:
                    explain_isolated(result.error, lesson, fence)
                if result.error is not None and not deps:
                    if result.error.type == "NameError":
                        result = explain_name_error(result, defined_by_failed, needs_of)
                    if fence.tree is not None:
                        for name in block_names(fence.tree):
                            defined_by_failed.setdefault(name, fence.line)
                if result.status == Status.NEEDS:
                    needs_of[fence.line] = result.need
                on_block(fence, result, probe.tallies)
                for line, tally in probe.tallies.items():
                    verdicts.setdefault(line, ClaimResult(Verdict.NOT_RUN)).fold(tally)
        finally:
            os.chdir(cwd)
    return verdicts


def _namespace(probe: Probe) -> dict[str, object]:
    return {"__name__": "__main__", "__builtins__": builtins, PROBE: probe}
