"""One AST per fence (``Fence.tree``, harness.lesson.trees): what it is, that it is parsed once
while the lesson is read, that it leaves a Fence's equality, hash and pickling as they were,
and that a whole ``harness check`` parses each Python block once in its process."""

from __future__ import annotations

import ast
import pickle
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from harness.cli import main
from harness.lesson import Fence, LessonError, parse_lesson, read_lesson
from harness.lesson.fragments import fragment_tree
from tests.paths import LESSON, SAMPLES

ONE_PARSE = SAMPLES / "formats" / "parse_once.md"


def _fresh(fence: Fence) -> ast.Module | None:
    """What ``harness.claims.parse_block`` returned before issue 12: a new parse (a method
    fragment's tree is its class body and the setting of its methods: a new one of those)."""
    if fence.fragment_of:
        return fragment_tree(fence.code, fence.code_line, fence.fragment_of)
    try:
        tree = ast.parse(fence.code)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None
    return ast.increment_lineno(tree, fence.code_line - 1)


def _dump(tree: ast.Module | None) -> list[tuple[object, ...]] | None:
    """Every node with its place and plain fields, walked without recursion (a block can be
    too deep for ``ast.dump``)."""
    if tree is None:
        return None
    places = ("lineno", "col_offset", "end_lineno", "end_col_offset")
    return [
        (
            type(node).__name__,
            *(getattr(node, name, None) for name in places),
            *(
                repr(value)
                for _, value in ast.iter_fields(node)
                if not isinstance(value, ast.AST | list)
            ),
        )
        for node in ast.walk(tree)
    ]


def _count_parses(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """ast.parse calls of whole blocks (not ``mode="eval"`` claim expressions), by text."""
    calls: Counter[str] = Counter()
    real = ast.parse

    def counting(source: Any, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("mode", args[1] if len(args) > 1 else "exec") == "exec":
            calls[source if isinstance(source, str) else repr(source)] += 1
        return real(source, *args, **kwargs)

    monkeypatch.setattr(ast, "parse", counting)
    return calls


def _lessons() -> list[Path]:
    found = []
    for path in [LESSON, *sorted(SAMPLES.rglob("*.md"))]:
        try:
            parse_lesson(path.read_text(encoding="utf-8"), str(path))
        except (LessonError, UnicodeDecodeError):
            continue
        found.append(path)
    return found


@pytest.mark.parametrize("path", _lessons(), ids=lambda path: path.name)
def test_the_tree_is_the_blocks_ast_at_lesson_lines(path: Path) -> None:
    lesson = parse_lesson(path.read_text(encoding="utf-8"), str(path))
    for fence in lesson.python_fences:
        assert _dump(fence.tree) == _dump(_fresh(fence)), fence.line
        assert fence.tree is fence.tree  # one object, parsed once


def test_a_block_that_does_not_parse_has_no_tree() -> None:
    text = "```python\nx = (\n```\n\n```python\nok = 1\n```\n"
    broken, good = parse_lesson(text, "b.md").fences
    assert broken.tree is None
    assert good.tree is not None and good.tree.body[0].lineno == 6


def test_reading_a_lesson_parses_each_python_block_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading parses a block (to find outputs pasted into it); its tree is that parse."""
    text = LESSON.read_text(encoding="utf-8")
    calls = _count_parses(monkeypatch)
    lesson = parse_lesson(text, "dl.md")
    trees = [fence.tree for fence in lesson.python_fences]
    assert all(tree is not None for tree in trees)
    assert sum(calls.values()) == len(trees)  # before issue 12: twice, then once per reader


def test_the_tree_changes_neither_equality_hash_nor_pickling() -> None:
    lesson = read_lesson(LESSON)
    fence = lesson.python_fences[1]
    twin = replace(fence)  # equal, its tree not computed yet
    assert "tree" not in vars(twin) and "tree" in vars(fence)
    assert twin == fence and hash(twin) == hash(fence)
    assert "tree" not in repr(fence) and "token" not in repr(fence)
    assert replace(fence, token=None) == fence  # the token index is not compared either
    back = pickle.loads(pickle.dumps(fence))
    assert back == fence and _dump(back.tree) == _dump(fence.tree)
    whole = pickle.loads(pickle.dumps(lesson))
    assert whole == lesson and hash(whole) == hash(lesson)
    assert [t.type for t in whole.tokens] == [t.type for t in lesson.tokens]


def test_a_check_parses_each_python_block_once_in_its_process(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The whole ``harness check`` in this process (reading, claims, dependency map, notes,
    settling; the worker is another process): one ``ast.parse`` per Python block (it was 6.5
    for this sample before issue 12: 26 for 4 blocks)."""
    lesson = read_lesson(ONE_PARSE)
    codes = {fence.code for fence in lesson.python_fences}
    calls = _count_parses(monkeypatch)
    code = main(["check", str(ONE_PARSE), "--devices", "cpu", "--no-cache"])
    capsys.readouterr()
    assert code == 0
    assert set(calls) == codes  # the blocks' code, nothing else parsed whole
    assert sum(calls.values()) == len(codes) == 4
