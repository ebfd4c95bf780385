"""The dependency map agrees with running each block alone."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

from harness.claims import find_claims
from harness.lesson import Lesson, parse_lesson, read_lesson
from harness.run.instrument import compile_block
from harness.run.probe import Probe
from harness.static.depends import dependency_map
from tests.paths import LESSON

ALONE = """
import contextlib, io, json, sys
from harness.lesson import read_lesson
failures = {}
for fence in read_lesson(sys.argv[1]).python_fences:
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(fence.code, "block", "exec"), {"__name__": "__main__"})
    except NameError as error:
        failures[fence.line] = error.name
print(json.dumps(failures))
"""


def test_blocks_that_fail_alone_are_exactly_those_that_borrow() -> None:
    deps = dependency_map(read_lesson(LESSON))
    borrowing = {line: [n.name for n in d.needs] for line, d in deps.items() if d.needs}
    assert sorted(borrowing) == [92, 158, 343, 393, 461, 509, 566, 680, 703]
    done = subprocess.run(
        [sys.executable, "-c", ALONE, str(LESSON)], capture_output=True, text=True, check=True
    )
    alone = {int(line): name for line, name in json.loads(done.stdout).items()}
    assert sorted(alone) == sorted(borrowing)
    for line, name in alone.items():  # the first missing name is one the map lists
        assert name in borrowing[line], (line, name)


def test_needs_name_the_defining_lines() -> None:
    deps = dependency_map(read_lesson(LESSON))
    assert [(n.name, n.line) for n in deps[703].needs] == [("nn", 609), ("torch", 681)]
    assert [(n.name, n.line) for n in deps[158].needs] == [("MLP", 93)]
    assert ("ScaledDotProductAttention", 462) in [(n.name, n.line) for n in deps[509].needs]
    assert ("Attention", 431) in [(n.name, n.line) for n in deps[566].needs]
    # what the needed definitions need comes along: Attention uses F (line 429)
    assert 429 in [s.line for s in deps[566].statements]


def test_no_training_loop_it_does_not_need() -> None:
    deps = dependency_map(read_lesson(LESSON))
    assert deps[607].statements == ()
    assert all(s.block != 158 for d in deps.values() for s in d.statements)


def test_changes_to_a_needed_object_come_along() -> None:
    from harness.lesson import parse_lesson

    source = (
        "```python\nimport torch\nconv = torch.nn.Conv2d(1, 1, 3)\n"
        "conv.weight.data = torch.ones(1, 1, 3, 3)\nother = 1\nconv.eval()\n```\n\n"
        "```python\nprint(conv(torch.ones(1, 1, 3, 3)))\n```\n"
    )
    deps = dependency_map(parse_lesson(source, "t.md"))
    assert [s.line for s in deps[9].statements] == [2, 3, 4, 6]


def _lines_run(function: Callable[[], object], *modules: str) -> int:
    """How many lines of ``modules`` (file names under harness/) ``function`` runs: a count of
    work that does not depend on the machine's speed."""
    count = 0
    files = tuple(f"harness/{m}" for m in modules)

    def trace(frame: FrameType, event: str, arg: Any) -> Any:  # a trace function or None
        nonlocal count
        if not frame.f_code.co_filename.endswith(files):
            return None
        if event == "line":
            count += 1
        return trace

    previous = sys.gettrace()  # a debugger's or coverage's: given back afterwards
    sys.settrace(trace)
    try:
        function()
    finally:
        sys.settrace(previous)
    return count


def _blocks(count: int) -> Lesson:
    blocks = ["```python\nimport torch\n```\n"]
    blocks += [
        f"```python\nx{i} = torch.zeros(2, 3)  # [2, 3]\ny{i} = x{i} + 1  # [2, 3]\n```\n"
        for i in range(count)
    ]
    return parse_lesson("\n".join(blocks), "big.md")


def _probe_setup(lesson: Lesson) -> None:
    claims = find_claims(lesson)
    Probe(claims, lesson.path, lesson.python_fences)
    for fence in lesson.python_fences:
        assert fence.tree is not None
        compile_block(fence.tree, claims, lesson.path)


def test_the_dependency_map_and_probe_setup_grow_linearly_with_the_blocks() -> None:
    """Twice the blocks, about twice the work (a quadratic map or setup would be 4x): a
    3,000-block lesson took a minute before its first block ran."""
    small, large = _blocks(150), _blocks(300)
    ratio = _lines_run(
        lambda: dependency_map(large), "static/depends.py", "lesson/names.py"
    ) / _lines_run(lambda: dependency_map(small), "static/depends.py", "lesson/names.py")
    assert ratio < 2.5
    ratio = _lines_run(
        lambda: _probe_setup(large), "run/instrument.py", "run/probe.py"
    ) / _lines_run(lambda: _probe_setup(small), "run/instrument.py", "run/probe.py")
    assert ratio < 2.5
