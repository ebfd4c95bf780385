"""Static notes about lesson code that works here but breaks for some readers.

Device-fragile code: a tensor created without ``device=`` inside ``forward`` lands on the
default device, so a reader who moves the model with ``.to('cuda')`` gets a device mismatch.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from harness.lesson import Lesson

FACTORIES = frozenset(
    {"zeros", "ones", "randn", "rand", "randint", "empty", "full", "arange", "eye", "linspace",
     "tensor"}
)  # fmt: skip


@dataclass(frozen=True)
class Note:
    line: int
    kind: str
    message: str


def device_fragile(lesson: Lesson) -> list[Note]:
    # the lesson's own warnings (front matter that is not YAML, hints) come along as notes
    notes: list[Note] = [Note(line, kind, message) for line, kind, message in lesson.warnings]
    for fence in lesson.python_fences:
        tree = fence.tree
        if tree is None:
            continue
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef) or function.name != "forward":
                continue
            for call in ast.walk(function):
                if (
                    isinstance(call, ast.Call)
                    and isinstance(call.func, ast.Attribute)
                    and isinstance(call.func.value, ast.Name)
                    and call.func.value.id == "torch"
                    and call.func.attr in FACTORIES
                    and not any(k.arg == "device" for k in call.keywords)
                ):
                    notes.append(
                        Note(
                            call.lineno,
                            "device-fragile",
                            f"torch.{call.func.attr}(...) inside forward has no device=: it "
                            "breaks for a reader who moves the model with .to('cuda'); "
                            "pass device=<an input>.device",
                        )
                    )
    return sorted(notes, key=lambda note: note.line)
