"""Training loops: finding them, and running one for pytest-benchmark (``tox -e bench``).

A training loop is a loop whose body, directly or through a lesson function it calls, runs
``backward()`` and an optimizer ``step()``. A benchmark round runs the loop's block as a
snippet: the earlier statements it needs run in an untimed setup, in a fresh namespace with
the seed fixed (fresh model and optimizer state each round), and the device is synchronised
before the clock stops. The code timed is the lesson's, compiled as is: nothing is inserted.
The loss after each step, the steps and the samples are captured in one more, untimed run.
"""

from __future__ import annotations

import ast
import contextlib
import io
import os
import random
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import CodeType
from typing import Any

import torch
from torch.optim.optimizer import register_optimizer_step_post_hook

from harness.lesson import Fence, Lesson
from harness.run.devices import Census, default_device, synchronize
from harness.static.depends import dependency_map


def _calls(node: ast.AST) -> set[str]:
    """Names and attribute names called inside ``node``."""
    found = set()
    for call in ast.walk(node):
        if isinstance(call, ast.Call):
            if isinstance(call.func, ast.Name):
                found.add(call.func.id)
            elif isinstance(call.func, ast.Attribute):
                found.add(call.func.attr)
    return found


def training_loops(lesson: Lesson) -> list[Fence]:
    """The blocks that run a training loop, in lesson order."""
    functions: dict[str, ast.AST] = {}
    for fence in lesson.python_fences:
        tree = fence.tree
        if tree is not None:
            for node in ast.walk(tree):
                if isinstance(node, ast.FunctionDef):
                    functions[node.name] = node

    def runs(node: ast.AST, depth: int = 0) -> set[str]:
        called = _calls(node)
        if depth < 2:
            for name in called & set(functions):
                called |= runs(functions[name], depth + 1)
        return called

    found = []
    for fence in lesson.python_fences:
        tree = fence.tree
        if tree is None:
            continue
        loops = [n for n in ast.walk(tree) if isinstance(n, ast.For | ast.While)]
        if any({"backward", "step"} <= runs(loop) for loop in loops) and _executes_loop(tree):
            found.append(fence)
    return found


def _executes_loop(tree: ast.Module) -> bool:
    """The block itself runs code (not only definitions)."""
    return any(
        not isinstance(s, ast.FunctionDef | ast.ClassDef | ast.Import | ast.ImportFrom)
        for s in tree.body
    )


@dataclass
class Capture:
    losses: list[float] = field(default_factory=list)
    steps: int = 0
    samples: int = 0


class LoopRun:
    """One training-loop block, ready to be timed round after round."""

    def __init__(self, lesson: Lesson, fence: Fence, device: str) -> None:
        self.lesson = lesson
        self.fence = fence
        self.device = device
        deps = dependency_map(lesson)[fence.line]
        prelude = ast.Module([s.node for s in deps.statements], [])
        self.prelude: CodeType = compile(prelude, lesson.path, "exec")
        block = fence.tree
        assert block is not None
        self.code: CodeType = compile(block, lesson.path, "exec")
        self.namespace: dict[str, Any] = {}
        self._workdir = tempfile.mkdtemp(prefix="harness-bench-")

    @contextlib.contextmanager
    def _context(self) -> Iterator[None]:
        cwd = os.getcwd()
        os.chdir(self._workdir)
        try:
            with contextlib.redirect_stdout(io.StringIO()), default_device(self.device):
                yield
        finally:
            os.chdir(cwd)

    def setup(self) -> None:
        """Untimed: a fresh namespace with the earlier statements run, seeds fixed."""
        self.namespace = {"__name__": "__main__"}
        with self._context():
            exec(self.prelude, self.namespace)
        random.seed(0)
        torch.manual_seed(0)

    def run(self) -> None:
        """Timed: the block as written, then wait for the device."""
        with self._context():
            exec(self.code, self.namespace)
        synchronize(self.device)

    def capture(self) -> Capture:
        """One more run, untimed, recording the loss after each step (the census's record of
        each ``backward()``, as a check records them), steps and samples."""
        captured = Capture()
        census = Census(self.device, self.lesson.path, record_losses=True)
        counted = [-1]  # the census's backward count when a batch was last counted

        def on_step(optimizer: Any, args: Any, kwargs: Any) -> None:
            captured.steps += 1

        def on_forward(module: Any, args: Any) -> None:
            first = counted[0] != census.backwards  # the first forward since a backward
            if first and args and isinstance(args[0], torch.Tensor) and args[0].dim():
                captured.samples += int(args[0].shape[0])
                counted[0] = census.backwards

        step_hook = register_optimizer_step_post_hook(on_step)
        forward_hook = torch.nn.modules.module.register_module_forward_pre_hook(on_forward)
        try:
            with census:
                self.setup()
                self.run()
        finally:
            step_hook.remove()
            forward_hook.remove()
        captured.losses = census.losses()
        return captured
