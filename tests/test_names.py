"""The one walk of the names Python code binds (harness.lesson.names), and the four questions
asked of it, each checked against the walk it replaced (kept here, verbatim, as the oracle)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from harness.lesson import (
    Binds,
    Lesson,
    LessonError,
    bindings,
    block_names,
    lesson_names,
    module_names,
    names_bound,
    parse_lesson,
)
from tests.paths import LESSON, SAMPLES

TRICKY = """
import os.path, numpy as np
from torch import nn as n2
from math import *
a, (b, c) = 1, (2, 3)
del a
if (w := 5):
    def nested(p, *args, k=1, **kw):
        local = p
        import json
        return [q for q in range(3)]
    class Inner:
        attr = 1
for i in range(2):
    pass
with open(os.devnull) as handle:
    pass
try:
    pass
except ValueError as problem:
    pass
except OSError:
    pass
f = lambda lam: lam
async def co(aw):
    async for item in aw:
        pass
"""


# -- the four walks before issue 12, verbatim: the oracles ------------------------------------


def old_lesson_names(trees: list[ast.Module]) -> frozenset[str]:  # claims.lesson_names
    names: set[str] = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, ast.arg):
                names.add(node.arg)
            elif isinstance(node, ast.alias):
                names.add((node.asname or node.name).split(".")[0])
    return frozenset(names)


def old_bound_inside(node: ast.AST) -> set[str]:  # depends._bound_inside
    names: set[str] = set()
    for child in ast.walk(node):
        if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store | ast.Del):
            names.add(child.id)
        elif isinstance(child, ast.arg):
            names.add(child.arg)
        elif isinstance(child, ast.alias):
            names.add((child.asname or child.name).split(".")[0])
        elif isinstance(
            child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.ExceptHandler
        ):
            names.add(child.name or "")
    return names


def old_defines(node: ast.stmt) -> set[str]:  # depends._defines
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return {node.name}
    if isinstance(node, ast.Import | ast.ImportFrom):
        return {(a.asname or a.name).split(".")[0] for a in node.names}
    names: set[str] = set()
    for child in ast.walk(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(child.name)
        elif isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
            names.add(child.id)
        elif isinstance(child, ast.alias):
            names.add((child.asname or child.name).split(".")[0])
    return names


def old_defined_names(tree: ast.Module) -> frozenset[str]:  # execute.defined_names
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


# -- the tests ---------------------------------------------------------------------------------


def _lessons() -> list[Lesson]:
    lessons = [parse_lesson(TRICKY.join(["```python", "```\n"]), "tricky.md")]
    for path in [LESSON, *sorted(SAMPLES.rglob("*.md"))]:
        try:
            lessons.append(parse_lesson(Path(path).read_text(encoding="utf-8"), str(path)))
        except (LessonError, UnicodeDecodeError):
            continue
    return lessons


def test_each_kind_of_binding_is_told_apart() -> None:
    tree = ast.parse(TRICKY)
    found: dict[Binds, set[str]] = {}
    for kind, name in bindings(tree):
        found.setdefault(kind, set()).add(name)
    assert found[Binds.ASSIGN] >= {"a", "b", "c", "w", "local", "q", "i", "handle", "item", "f"}
    assert found[Binds.DELETE] == {"a"}
    assert found[Binds.PARAMETER] == {"p", "args", "k", "kw", "lam", "aw"}
    assert found[Binds.IMPORT] == {"os", "np", "n2", "*", "json"}
    assert found[Binds.DEFINITION] == {"nested", "Inner", "co"}
    assert found[Binds.HANDLER] == {"problem"}
    assert names_bound(tree, Binds.HANDLER | Binds.DELETE) == {"problem", "a"}
    assert names_bound(tree) == frozenset(name for _, name in bindings(tree))


def test_module_names_are_what_a_top_level_statement_binds() -> None:
    body = ast.parse(TRICKY).body
    assert module_names(body[0]) == {"os", "np"}
    # inside a compound statement, a def's own names count too (as the map always read them)
    assert module_names(body[5]) == {"w", "nested", "local", "json", "q", "Inner", "attr"}
    assert module_names(body[-1]) == {"co"}
    assert block_names(ast.parse("def f():\n    inner = 1\nx = 2\n")) == {"f", "inner", "x"}


@pytest.mark.parametrize("lesson", _lessons(), ids=lambda lesson: Path(lesson.path).name)
def test_the_one_walk_answers_as_the_four_old_walks_did(lesson: Lesson) -> None:
    trees = [f.tree for f in lesson.python_fences if f.tree is not None]
    assert lesson_names(lesson) == old_lesson_names(trees)
    for tree in trees:
        assert block_names(tree) == old_defined_names(tree)
        for stmt in tree.body:
            assert module_names(stmt) == old_defines(stmt)
            # the old walk added "" for a bare ``except:``; "" is never a name a block uses
            assert names_bound(stmt) == old_bound_inside(stmt) - {""}
