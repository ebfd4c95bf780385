"""Self-contained snippets: each Python block with exactly the earlier statements it needs.

``snippets/<lesson id>/<NN>_<slug>.py`` runs on a fresh interpreter. Output is deterministic,
byte for byte, so committed snippets can be checked for staleness (``harness extract --check``).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from harness.lesson import Fence, Lesson
from harness.lesson.fragments import defined, fragment_source
from harness.static.depends import Dependencies, Statement, dependency_map

MARK = "# Made by `harness extract`; do not edit, regenerate."  # line 2 of every snippet


@dataclass(frozen=True)
class Snippet:
    path: Path
    text: str


def heading_before(lesson: Lesson, line: int) -> str:
    """The text of the last heading that starts above lesson line ``line`` ("" if none)."""
    heading = ""
    tokens = lesson.tokens
    for index, token in enumerate(tokens[:-1]):
        if token.type != "heading_open" or token.map is None:
            continue
        if token.map[0] + 1 >= line:
            break
        heading = tokens[index + 1].content.strip()
    return heading


def _slug(lesson: Lesson, fence: Fence) -> str:
    """The first class or function the block defines, else the heading above it."""
    if fence.fragment_of and fence.tree is not None:  # a method: its own name
        return next(iter(defined(fence.tree)), "block").lower()
    for node in fence.tree.body if fence.tree is not None else ():
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            return node.name.lower()
    heading = heading_before(lesson, fence.line)
    return re.sub(r"[^a-z0-9]+", "_", heading.lower()).strip("_")[:40] or "block"


def statement_source(fence: Fence, statement: Statement) -> str:
    """The lines of a top-level statement as written in its block (decorators included)."""
    node = statement.node
    if fence.fragment_of and fence.tree is not None:  # the class body and its setting, once
        if node is not fence.tree.body[0]:
            return ""
        return fragment_source(fence.code, fence.fragment_of, defined(fence.tree))
    first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
    last = node.end_lineno or node.lineno
    lines = fence.code.splitlines()
    return "\n".join(lines[first - fence.code_line : last - fence.code_line + 1])


def render(lesson: Lesson, fence: Fence, deps: Dependencies, number: int) -> str:
    fences = {f.line: f for f in lesson.python_fences}
    out = [
        f"# Snippet {number:02d} of {lesson.path}: the block at line {fence.line} "
        f"(lines {fence.code_line}-{fence.end_line - 1}).",
        f"{MARK} Runs on its own: the statements",
        "# it needs from earlier blocks come first, each under the lesson line it came from.",
    ]
    for statement in deps.statements:
        out += ["", f"# {lesson.path}:{statement.line}"]
        out.append(statement_source(fences[statement.block], statement))
    how = "unchanged"
    if fence.doctest:
        how = "as Python: prompts and expected outputs removed"
    elif fence.directives.replacements:
        how = "with its replace directives applied"
    code = fence.code
    if fence.fragment_of and fence.tree is not None:
        how = f"methods of {fence.fragment_of}, set on it after the class body"
        code = fragment_source(fence.code, fence.fragment_of, defined(fence.tree))
    out += ["", f"# {lesson.path}:{fence.code_line} (the block, {how})"]
    return "\n".join(out) + "\n" + code


def snippet_name(lesson: Lesson, fence: Fence, number: int) -> str:
    """A block's name: its number among the Python blocks and its slug (``09_lstmclassifier``);
    snippet files and pytest ids both use it."""
    return f"{number:02d}_{_slug(lesson, fence)}"


def snippets(lesson: Lesson, root: Path) -> list[Snippet]:
    deps = dependency_map(lesson)
    folder = root / lesson.id
    return [
        Snippet(
            folder / f"{snippet_name(lesson, fence, number)}.py",
            render(lesson, fence, deps[fence.line], number),
        )
        for number, fence in enumerate(lesson.python_fences, start=1)
    ]


class SnippetError(Exception):
    """The snippets of a lesson cannot be written where asked; ``str()`` is one line."""


def made_by_extract(path: Path) -> bool:
    """A plain file (not a link) whose second line is the header ``render`` writes."""
    if path.is_symlink() or not path.is_file():
        return False
    try:
        with path.open(encoding="utf-8", errors="replace") as file:
            head = [file.readline(500) for _ in range(2)]
    except OSError:
        return False
    return head[0].startswith("# Snippet ") and head[1].startswith(MARK)


def folder_for(lesson: Lesson, root: Path) -> Path:
    """``root/<lesson id>``, which must lie inside ``root`` (a link may not lead out)."""
    folder = root / lesson.id
    if lesson.id in ("", ".", "..") or Path(lesson.id).name != lesson.id:
        raise SnippetError(f"{lesson.path}:1: lesson id {lesson.id!r} is not a folder name")
    inside = root.resolve()
    where = folder.resolve()
    if where.parent != inside:
        raise SnippetError(
            f"{lesson.path}:1: {folder} leads to {where}, outside {root}: not written"
        )
    return folder


def write(lesson: Lesson, root: Path) -> list[Path]:
    """Write the lesson's snippets, removing stale snippets of its folder: only files that
    ``harness extract`` wrote (its header), never a link, never outside ``root``."""
    folder = folder_for(lesson, root)
    made = snippets(lesson, root)
    folder.mkdir(parents=True, exist_ok=True)
    keep = {snippet.path.name for snippet in made}
    for old in folder.glob("*.py"):
        if old.name not in keep and made_by_extract(old):
            old.unlink()
    for snippet in made:
        if snippet.path.is_symlink():  # replace the link itself, never write through it
            snippet.path.unlink()
        snippet.path.write_text(snippet.text, encoding="utf-8")
    return [snippet.path for snippet in made]


def stale(lesson: Lesson, root: Path) -> list[str]:
    """Snippet files that differ from what the lesson gives now: missing, changed or extra
    (extra: a ``.py`` file that ``harness extract`` wrote, by its header)."""
    folder_for(lesson, root)
    made = snippets(lesson, root)
    problems = []
    for snippet in made:
        if not snippet.path.exists():
            problems.append(f"{snippet.path}: missing")
        elif snippet.path.read_text(encoding="utf-8") != snippet.text:
            problems.append(f"{snippet.path}: stale")
    keep = {snippet.path for snippet in made}
    folder = root / lesson.id
    if folder.is_dir():
        problems += [
            f"{p}: no longer made"
            for p in sorted(folder.glob("*.py"))
            if p not in keep and made_by_extract(p)
        ]
    return problems
