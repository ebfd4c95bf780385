"""Method fragments: a block that is the next method of a class an earlier block defined.

Articles often show a class in pieces: one block defines ``class LayerNorm:`` with its
``forward``, a later block shows only ``backward``, indented as it sits in the class::

        @staticmethod
        def backward(dout, cache):
            ...

A reader pastes it into the class; run alone it is an ``IndentationError``. A block whose
code does not parse, whose every line is indented, and whose first statement is a ``def``
(or a decorator) is read as a fragment of the last class an earlier Python block defined at
its top level: it runs as the body of a class, and each function or class it defines is then
set on that class. Lines stay the lesson's, so tracebacks and claims point at the article.
A block with no earlier class stays what it is: a block that does not parse.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence

from harness.lesson.trees import parse_code

FRAGMENT = "__harness_fragment__"  # the class whose body the fragment is
_FIRST = re.compile(r"\s+(?:@|def\s|async\s+def\s)")


def is_fragment(code: str) -> bool:
    """An indented method: every line indented, the first statement a ``def`` or decorator."""
    lines = [line for line in code.splitlines() if line.strip()]
    if not lines or not all(line[0] in " \t" for line in lines):
        return False
    first = next((line for line in lines if not line.lstrip().startswith("#")), "")
    return _FIRST.match(first) is not None


def last_class(trees: Sequence[ast.Module | None]) -> str:
    """The last class defined at the top level of these block trees ('' when none)."""
    for tree in reversed(trees):
        for node in reversed(tree.body if tree is not None else []):
            if isinstance(node, ast.ClassDef):
                return node.name
    return ""


def fragment_source(code: str, target: str, names: Sequence[str]) -> str:
    """The fragment as runnable text (for a snippet): its lines as a class body, then each
    definition (``names``, from ``fragment_tree``) set on ``target``."""
    attach = [f"{target}.{name} = {FRAGMENT}.__dict__[{name!r}]" for name in names]
    return "\n".join(
        [f"class {FRAGMENT}:  # methods of {target}", code, *attach, f"del {FRAGMENT}"]
    )


def fragment_tree(code: str, code_line: int, target: str) -> ast.Module | None:
    """The fragment run as a class body, then each function or class it defines set on
    ``target``: the class header takes the fence's own line, so the code keeps the lesson's
    lines; the setting of each method is put on the block's last line."""
    parsed = parse_code(f"class {FRAGMENT}:\n{code}")
    if not isinstance(parsed, ast.Module) or not isinstance(parsed.body[0], ast.ClassDef):
        return None
    ast.increment_lineno(parsed, code_line - 2)
    last = code_line + len(code.splitlines()) - 1
    holder = parsed.body[0].name

    def load(name: str) -> ast.Name:
        return ast.Name(name, ast.Load())

    for name in defined(parsed):
        members = ast.Attribute(load(holder), "__dict__", ast.Load())
        method = ast.Subscript(members, ast.Constant(name), ast.Load())
        parsed.body.append(ast.Assign([ast.Attribute(load(target), name, ast.Store())], method))
    parsed.body.append(ast.Delete([ast.Name(holder, ast.Del())]))
    for node in parsed.body[1:]:
        for child in ast.walk(node):
            if isinstance(child, ast.expr | ast.stmt):
                child.lineno = child.end_lineno = last
                child.col_offset, child.end_col_offset = 0, 0
    return parsed


def defined(tree: ast.Module) -> list[str]:
    """The functions and classes a fragment's tree defines (its class body's)."""
    holder = tree.body[0]
    defs = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
    return [child.name for child in getattr(holder, "body", []) if isinstance(child, defs)]
