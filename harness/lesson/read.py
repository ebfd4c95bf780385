"""Read a lesson: its front matter and every fenced block, each with its 1-based lines.

A *Lesson* is the document; a *Fence* is one region of it. Parsing is markdown-it-py's
(``Token.map`` gives the source lines), front matter is mdit-py-plugins' and PyYAML's.
Fence styles: ```` ```python ````, ``py``, ``python3``, ``pycon``, MyST ``{code-block} python``
and d2l's ``{.python .input}``; doctest-style blocks (``>>>`` lines) become plain Python whose
expected outputs are kept as ``Example``s. Directives for the harness are HTML comments just
before a fence (``harness.lesson.directives``).
"""

from __future__ import annotations

import ast
import doctest
import hashlib
import os
import re
import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.front_matter import front_matter_plugin

from harness.lesson.directives import Directives, parse_directive
from harness.lesson.errors import LessonError

PYTHON_LANGUAGES = frozenset({"python", "py", "python3", "pycon", "ipython3", "ipython"})
DOCTEST_LANGUAGES = frozenset({"pycon"})
IPYTHON_LANGUAGES = frozenset({"ipython3", "ipython"})
_MAGIC = re.compile(r"\s*[%!]")  # %matplotlib inline, %%time, !pip install
# a magic in any Python fence: %load_ext x, %%time, !pip install x (never valid Python there)
_ANY_MAGIC = re.compile(r"[ \t]*(?:%{1,2}[A-Za-z_]\w*|![A-Za-z./~$])")
# d2l: %%tab pytorch, %%tab mxnet, tensorflow (and the older comment form #@tab pytorch)
_TAB = re.compile(r"[ \t]*(?:%%tab\b|#[ \t]*@tab\b)([^\n]*)")
# cell magics whose cell is not Python: the whole block is not run
_NOT_PYTHON_CELL = re.compile(
    r"[ \t]*%%(bash|sh|script|html|javascript|js|latex|markdown|svg|writefile|perl|ruby|"
    r"system|sx)\b"
)
DEFAULT_TAB = "pytorch"
TAB_VARIABLE = "HARNESS_TAB"  # --tab NAME / --harness-tab NAME: read by the workers too
# an expected exception written as the console shows it, without the traceback header
_EXCEPTION_LINE = re.compile(
    r"((?:[A-Za-z_]\w*\.)*(?:[A-Za-z_]\w*(?:Error|Exception|Exit|Interrupt)|StopIteration|"
    r"StopAsyncIteration))(?::[ \t]*(.*))?"
)
_TRACEBACK = "Traceback (most recent call last):"
# a warning as Python prints it: ``__main__:1: UserWarning: message``
_WARNING_LINE = re.compile(r"\S+:\d+: ([A-Za-z_]\w*Warning): .*")
_MYST = re.compile(r"\{(?:code-block|code-cell|code|sourcecode)\}\s*(\S*)")
_CLOSING = re.compile(r"[\s>]*(`{3,}|~{3,})\s*")  # in a list or a blockquote too
_MYST_OPTION = re.compile(r"\s*:[\w-]+:.*")


__all__ = ["Example", "Fence", "Lesson", "LessonError", "parse_lesson", "read_lesson"]


@dataclass(frozen=True)
class Example:
    """A doctest example's expected output: claimed by the statement at ``line``..``end_line``."""

    line: int
    end_line: int
    want: str
    want_line: int
    options: tuple[tuple[int, bool], ...] = ()
    pasted: bool = False  # written in a code block (MyST ``: `` lines, after a print)


@dataclass(frozen=True)
class Fence:
    """One fenced block: ``line`` is the opening fence, ``code`` starts on ``line + 1``.

    ``code`` is what runs: the fence's text with MyST option lines blanked, doctest prompts
    removed (expected outputs become ``examples``) and ``replace`` directives applied, always
    with the lesson's line numbers. ``hidden``: the fence sits inside an HTML comment.
    """

    line: int
    end_line: int
    info: str
    language: str
    code: str
    directives: Directives = field(default_factory=Directives)
    examples: tuple[Example, ...] = ()
    hidden: bool = False
    doctest: bool = False  # written as a console session: ``>>>`` prompts

    @property
    def code_line(self) -> int:
        return self.line + 1

    @property
    def is_python(self) -> bool:
        return self.language in PYTHON_LANGUAGES

    @property
    def time_limit(self) -> float | None:
        return self.directives.time_limit


@dataclass(frozen=True)
class Lesson:
    path: str
    id: str
    title: str
    source: str
    fences: tuple[Fence, ...]
    # (line, kind, message): what does not stop the check (front matter that is not YAML)
    warnings: tuple[tuple[int, str, str], ...] = ()

    @property
    def python_fences(self) -> tuple[Fence, ...]:
        return tuple(f for f in self.fences if f.is_python)


def source_lines(text: str) -> list[str]:
    """The lines of ``text`` as markdown-it counts them: split at ``\\n``, ``\\r\\n`` and ``\\r``
    only (``str.splitlines`` also splits at form feeds and Unicode separators)."""
    return re.split(r"\r\n|\r|\n", text)


def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark").use(front_matter_plugin)


def fence_language(info: str) -> str:
    """The language of an info string, lower case: ``python``, ``py title="x"`` -> first word;
    MyST ``{code-block} python`` -> ``python``; d2l ``{.python .input}`` -> ``python``."""
    info = info.strip()
    myst = _MYST.match(info)
    if myst:
        return myst.group(1).lower()
    if info.startswith("{."):
        return info[2:].split()[0].rstrip("}").lower() if len(info) > 2 else ""
    words = info.split()
    return words[0].lower() if words else ""


def is_console(language: str, code: str) -> bool:
    """A console session: a ``pycon`` fence, or Python whose first line that is neither blank
    nor a ``#`` comment is a ``>>>`` prompt."""
    if language in DOCTEST_LANGUAGES:
        return True
    first = next(
        (line for line in code.splitlines() if line.strip() and not line.lstrip().startswith("#")),
        "",
    )
    return first.lstrip().startswith(">>>")


def selected_tab() -> str:
    """The framework whose d2l tabs a reader follows: ``HARNESS_TAB`` (``--tab``), else
    pytorch."""
    return os.environ.get(TAB_VARIABLE, "").strip().lower() or DEFAULT_TAB


def tab_names(code: str) -> tuple[str, ...] | None:
    """The frameworks of a d2l block's ``%%tab`` first line (``%%tab mxnet, tensorflow`` ->
    ``("mxnet", "tensorflow")``), or None when the block has no such line."""
    first = next((line for line in code.split("\n") if line.strip()), "")
    found = _TAB.fullmatch(first)
    if found is None:
        return None
    return tuple(n.lower() for n in re.split(r"[\s,]+", found.group(1)) if n) or ("all",)


def _not_run(code: str, tab: str) -> tuple[int, str] | None:
    """Why a Python fence is not run for this reader, with the line offset saying so: a d2l
    block tabbed only for other frameworks, d2lbook's own tab machinery, or a cell magic whose
    cell is not Python (``%%bash``, ``%%writefile``)."""
    lines = code.split("\n")
    names = tab_names(code)
    first = next((i for i, line in enumerate(lines) if line.strip()), 0)
    if names is not None and "all" not in names and tab not in names:
        return first, (
            f"%%tab {', '.join(names)}: a block for {' and '.join(names)} readers, not for "
            f"{tab} (--tab NAME checks another framework's tab)"
        )
    for index, text in enumerate(lines):
        if re.match(r"[ \t]*%load_ext[ \t]+d2lbook\.tab\b", text):
            return (
                index,
                "d2lbook's tab machinery (%load_ext d2lbook.tab): the harness picks "
                "the tab itself (--tab NAME)",
            )
    cell = _NOT_PYTHON_CELL.match(lines[first]) if lines else None
    if cell is not None:
        return first, f"an IPython %%{cell.group(1)} cell: its text is not Python to run"
    return None


def _blank_magics(lines: list[str]) -> list[str]:
    """Lines with IPython magics and shell escapes blanked (``%load_ext``, ``%%time``,
    ``!pip``), unless the block is valid Python with them (a ``%`` continuation line)."""
    if not any(_ANY_MAGIC.match(text) for text in lines):
        return lines
    try:
        ast.parse("\n".join(lines))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return ["" if _ANY_MAGIC.match(text) else text for text in lines]
    return lines


def expected_exception(want: str) -> tuple[str, str] | None:
    """``(type, message)`` when an expected output is an exception: doctest's traceback
    (``Traceback (most recent call last):`` ... ``ValueError: bad``) or the console's last line
    alone (``RuntimeError: The size of tensor a (2) must match ...``)."""
    lines = [line for line in want.strip().split("\n")]
    if not lines:
        return None
    if lines[0].strip() == _TRACEBACK:
        rest = [line for line in lines[1:] if line.strip() and not line[:1].isspace()]
        rest = [line for line in rest if line.strip() != "..."]
        if not rest:
            return None
        lines = rest
    found = _EXCEPTION_LINE.fullmatch(lines[0].strip())
    if found is None:
        return None
    message = "\n".join([found.group(2) or "", *lines[1:]]).strip()
    return found.group(1), message


def expected_warning(want: str) -> str | None:
    """The category of a warning an expected output shows (``__main__:1: UserWarning: ...``):
    Python prints warnings on stderr, which a console session's output does not hold."""
    found = _WARNING_LINE.fullmatch(want.strip().split("\n")[0])
    return found.group(1) if found else None


def _comment_only(want: str) -> bool:
    """An "output" made only of ``#`` lines: comments written after a prompt, not output."""
    return all(line.lstrip().startswith("#") for line in want.strip().split("\n"))


def _doctest_code(code: str, first_line: int, path: str) -> tuple[str, tuple[Example, ...]]:
    """Doctest text as plain Python on the same lines, and each example's expected output."""
    try:
        examples = doctest.DocTestParser().get_examples(code, path)
    except ValueError as error:  # inconsistent indentation, a prompt without a space
        found = re.search(r"line (\d+)", str(error))
        line = first_line + int(found.group(1)) - 1 if found else first_line
        raise LessonError(path, f"doctest block: {str(error).splitlines()[0]}", line) from None
    lines = [""] * len(code.split("\n"))
    kept: list[Example] = []
    for example in examples:
        source = example.source.rstrip("\n").split("\n")
        for offset, text in enumerate(source):
            lines[example.lineno + offset] = text
        line = first_line + example.lineno
        end = line + len(source) - 1
        if example.want and _comment_only(example.want):  # comments after a prompt: kept
            for offset, text in enumerate(example.want.rstrip("\n").split("\n")):
                if example.lineno + len(source) + offset < len(lines):
                    lines[example.lineno + len(source) + offset] = text.strip()
            continue
        if example.want:
            options = tuple(sorted(example.options.items()))
            kept.append(Example(line, end, example.want, end + 1, options))
    text = "\n".join(lines)
    return text if text.endswith("\n") else text + "\n", tuple(kept)


def _code(
    info: str, language: str, content: str, first_line: int, path: str
) -> tuple[str, tuple[Example, ...], bool]:
    """What runs, the doctest examples, and whether the block is a console session."""
    if language not in PYTHON_LANGUAGES:
        return content, (), False
    lines = content.split("\n")
    if _MYST.match(info.strip()):  # option lines at the top: ``:caption: x``, or a YAML header
        if lines and lines[0].strip() == "---" and "---" in (line.strip() for line in lines[1:]):
            end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
            lines[: end + 1] = [""] * (end + 1)
        for index, text in enumerate(lines):
            if not _MYST_OPTION.fullmatch(text):
                break
            lines[index] = ""
    if language in IPYTHON_LANGUAGES:  # magics and shell escapes are not Python: never run
        lines = ["" if _MAGIC.match(text) else text for text in lines]
    else:  # d2l's %%tab line, %load_ext, %%time in any Python fence: never run either
        lines = _blank_magics(lines)
    content = "\n".join(lines)
    if is_console(language, content):
        code, examples = _doctest_code(content, first_line, path)
        return code, examples, True
    pasted = _pasted_outputs(lines, first_line)
    if pasted:  # outputs written in the block: checked as a console session's
        return "\n".join(lines), pasted, True
    return content, (), False


MAX_PASTED = 200  # outputs looked for in one block: parsing is repeated once per output


def _parses(lines: list[str]) -> SyntaxError | None:
    try:
        ast.parse("\n".join(lines))
    except SyntaxError as error:
        return error
    except (ValueError, RecursionError, MemoryError):
        return SyntaxError("cannot be parsed")
    return None


def _balance(text: str) -> int:
    """Open brackets minus closed ones in a line of output, outside quotes."""
    text = re.sub(r"'[^'\n]*'|\"[^\"\n]*\"", "", text)
    return sum(text.count(c) for c in "([{") - sum(text.count(c) for c in ")]}")


def _region(lines: list[str], start: int) -> int:
    """The end (exclusive) of an output starting at ``start``: the first blank line where its
    brackets are balanced, or the block's end."""
    depth = 0
    index = start
    while index < len(lines):
        if not lines[index].strip() and depth <= 0:
            break
        depth += _balance(lines[index])
        index += 1
    while index > start and not lines[index - 1].strip():
        index -= 1
    return index


def _statement_before(tree: ast.Module, line: int) -> ast.stmt | None:
    """The last top-level statement ending before ``line`` (1-based in the block)."""
    before = [s for s in tree.body if (s.end_lineno or s.lineno) < line]
    return before[-1] if before else None


def _is_print(stmt: ast.stmt | None) -> bool:
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Call)
        and isinstance(stmt.value.func, ast.Name)
        and stmt.value.func.id == "print"
    )


_REPR_CALLS = frozenset({"tensor", "Parameter", "array", "Size", "OrderedDict", "device"})


def _repr_like(node: ast.expr) -> bool:
    """An expression that reads as a printed value, not code: numbers and containers of them,
    and ``tensor(...)``-like reprs with such arguments (``tensor([[1., 2.]])``)."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, int | float | complex) and not isinstance(node.value, bool)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        return _repr_like(node.operand)
    if isinstance(node, ast.List | ast.Tuple):
        return all(_repr_like(e) for e in node.elts)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return (
            node.func.id in _REPR_CALLS
            and bool(node.args)
            and all(_repr_like(a) for a in node.args)
            and all(
                isinstance(k.value, ast.Constant | ast.Name | ast.Attribute) for k in node.keywords
            )
        )
    return False


def _pasted_outputs(lines: list[str], first_line: int) -> tuple[Example, ...]:
    """Outputs written inside a code block after the statement that prints them, blanked in
    ``lines`` (in place) and returned as examples:

    - MyST's ``: `` lines (``m(x)`` then ``: tensor([...])``), with the lines that follow up to
      a blank line where brackets close;
    - output pasted after a ``print(...)`` (``print(a)`` then ``tensor([[...]])``): text that
      is not Python there, or a printed value that is only a literal (``tensor([...])``,
      ``0.3309``), up to a blank line where brackets close.

    Only where the block is not already valid Python with them, except for printed values
    (running ``tensor([...])`` after ``print(a)`` can only raise NameError)."""
    found: list[Example] = []
    for _ in range(MAX_PASTED):
        error = _parses(lines)
        start: int | None = None
        if error is not None:
            colon = next(
                (i for i, t in enumerate(lines) if re.match(r"[ \t]*:(?:[ \t]|$)", t)), None
            )
            at = (error.lineno or 1) - 1
            if colon is not None and colon <= at + 1:
                start = colon
            else:  # the first line of the chunk that does not parse, after a print
                start = at
                while start > 0 and lines[start - 1].strip():
                    start -= 1
                if _parses(lines[:start]) is not None:
                    return tuple(found)
                tree = ast.parse("\n".join(lines[:start]))
                if not _is_print(_statement_before(tree, start + 1)):
                    return tuple(found)
            prefix = lines[:start]
        else:
            tree = ast.parse("\n".join(lines))
            for before, stmt in zip(tree.body, tree.body[1:], strict=False):
                if _is_print(before) and isinstance(stmt, ast.Expr) and _repr_like(stmt.value):
                    start = stmt.lineno - 1
                    break
            if start is None:
                return tuple(found)
            prefix = lines[:start]
        if not any(t.strip() for t in prefix) or _parses(prefix) is not None:
            return tuple(found)
        end = _region(lines, start)
        shown = _statement_before(ast.parse("\n".join(prefix)), start + 1)
        if shown is None:
            return tuple(found)
        want = [re.sub(r"^[ \t]*:(?:[ \t]|$)", "", lines[start]), *lines[start + 1 : end]]
        lines[start:end] = [""] * (end - start)
        found.append(
            Example(
                first_line + shown.lineno - 1,
                first_line + (shown.end_lineno or shown.lineno) - 1,
                "\n".join(want).strip("\n") + "\n",
                first_line + start,
                ((doctest.NORMALIZE_WHITESPACE, True),),
                pasted=True,
            )
        )
    return tuple(found)


def _closed(token: Token, lines: list[str]) -> bool:
    assert token.map is not None
    start, end = token.map
    if end - 1 <= start or end > len(lines):
        return False
    closing = _CLOSING.fullmatch(lines[end - 1])
    marker = token.markup
    return (
        closing is not None
        and closing.group(1)[0] == marker[0]
        and len(closing.group(1)) >= len(marker)
    )


def _fence(
    token: Token,
    path: str,
    lines: list[str],
    offset: int,
    directives: Directives,
    hidden: bool,
    tab: str,
) -> Fence:
    assert token.map is not None
    start, end = token.map[0] + offset, token.map[1] + offset
    if not _closed(token, lines[offset:]):
        raise LessonError(path, "this code fence is never closed (no closing ``` line)", start + 1)
    language = fence_language(token.info)
    why = _not_run(token.content, tab) if language in PYTHON_LANGUAGES else None
    if why is not None and directives.skip is None:
        directives = replace(directives, line=directives.line or start + 2 + why[0], skip=why[1])
    code, examples, console = _code(token.info, language, token.content, start + 2, path)
    code = directives.apply(code, start + 1, path)
    return Fence(start + 1, end, token.info, language, code, directives, examples, hidden, console)


_ADMONITION = re.compile(r"([ \t]*)(?:!!!|\?\?\?\+?|===)[ \t]+\S.*")
_FENCE_OPEN = re.compile(r"[ \t]*(`{3,}|~{3,})")


def unwrap_admonitions(source: str) -> str:
    """``source`` with the bodies of MkDocs / Material admonitions and content tabs
    (``!!! note``, ``??? success``, ``=== "Tab"``: a marker line, then a body indented 4
    spaces) moved out by 4 spaces, so their fences are fences at the same lines; the marker
    line becomes blank. Unchanged when there is none; never inside a fence."""
    lines = source_lines(source)
    if not any(_ADMONITION.fullmatch(line) for line in lines):
        return source
    out: list[str] = []
    fence = ""  # the marker of the open fence, if any
    bodies: list[int] = []  # the indents of the markers whose bodies we are in
    for original in lines:
        while bodies and original.strip() and _indent(original) < bodies[-1] + 4:
            bodies.pop()
        text = original[4 * len(bodies) :] if original.strip() else ""
        if fence:
            closing = _FENCE_OPEN.match(text)
            if (
                closing
                and closing.group(1)[0] == fence[0]
                and len(closing.group(1)) >= len(fence)
                and not text.strip().strip(fence[0])
            ):
                fence = ""
            out.append(text)
            continue
        opening = _FENCE_OPEN.match(text)
        if opening:
            fence = opening.group(1)
            out.append(text)
            continue
        found = _ADMONITION.fullmatch(text)
        if found:
            bodies.append(_indent(original))
            out.append("")
            continue
        out.append(text)
    return "\n".join(out)


def _indent(text: str) -> int:
    return len(text) - len(text.lstrip(" "))


def parse_lesson(source: str, path: str, tab: str | None = None) -> Lesson:
    """Parse lesson text; ``path`` is how messages name the file; ``tab``: the framework whose
    d2l ``%%tab`` blocks run (default ``selected_tab()``: pytorch, or ``HARNESS_TAB``).

    Unusable input (front matter that is not YAML, an unclosed fence, an unknown or misplaced
    directive) raises LessonError with the line.
    """
    tab = (tab or selected_tab()).strip().lower()
    parsed = unwrap_admonitions(source)  # the same lines, admonition bodies moved out
    tokens = _markdown().parse(parsed)
    lines = source_lines(parsed)
    meta: dict[str, object] = {}
    fences: list[Fence] = []
    title = ""
    pending = Directives()
    warnings: list[tuple[int, str, str]] = []
    for index, token in enumerate(tokens):
        if token.type == "html_block" and token.map is not None:
            directive = parse_directive(token.content, token.map[0] + 1, path)
            if directive is None:
                continue
            if directive.name == "hidden":
                fences.extend(_hidden(directive.body, token.map[0] + 1, path, lines, pending, tab))
                pending = Directives()
            else:
                pending = pending.add(directive, path)
            continue
        if pending and token.type != "fence" and token.block and token.nesting >= 0:
            raise LessonError(
                path,
                "the directive is not followed by a code block (found "
                f"{token.type.removesuffix('_open')})",
                pending.line,
            )
        if token.type == "front_matter":
            try:
                meta = front_matter(token.content, path)
            except _NotYaml as error:  # an unescaped quote in a title: still a lesson
                problem = error.reason.removeprefix("front matter is not valid YAML: ")
                why = f"{problem}; the id comes from the file name"
                warnings.append((error.line or 1, "front matter is not valid YAML", why))
        elif token.type == "fence" and token.map is not None:
            fences.append(_fence(token, path, lines, 0, pending, False, tab))
            pending = Directives()
        elif token.type == "heading_open" and token.tag == "h1" and not title:
            title = tokens[index + 1].content
    if pending:
        raise LessonError(path, "the directive is not followed by a code block", pending.line)
    stem = Path(path).stem
    given = meta.get("id")
    if given is None or given == "":
        lesson_id = id_from_file_name(stem)
        if lesson_id is None:
            raise LessonError(
                path,
                f"the file name {Path(path).name!r} gives no usable lesson id (letters, digits, "
                "'_', '-' or '.', not starting with '.'): rename it or give `id:` in front matter",
                1,
            )
    else:
        lesson_id = str(given)
        if not isinstance(given, str | int) or not SAFE_ID.fullmatch(lesson_id):
            raise LessonError(
                path,
                f"front matter id {lesson_id[:80]!r} is not a usable file name: expected "
                f"letters, digits, '_', '-' or '.', starting with a letter, digit or '_', at "
                f"most {MAX_ID} characters",
                _front_matter_line(source, "id"),
            )
    return Lesson(
        path=path,
        id=lesson_id,
        title=str(meta.get("title") or title or stem),
        source=source,
        fences=tuple(fences),
        warnings=tuple(warnings),
    )


def _hidden(
    body: str, line: int, path: str, lines: list[str], pending: Directives, tab: str
) -> list[Fence]:
    """The fences inside a ``<!-- harness: hidden ... -->`` comment that starts at ``line``."""
    found = [
        _fence(token, path, lines, line - 1, pending, True, tab)
        for token in _markdown().parse(body)
        if token.type == "fence" and token.map is not None
    ]
    python = [fence for fence in found if fence.is_python]
    if not python:
        raise LessonError(path, "a hidden directive holds no Python code block", line)
    return python


MAX_ID = 100
MAX_FRONT_MATTER = 64 * 1024  # characters
MAX_NESTING = 50  # [ and { in front matter
# a lesson id names a folder (snippets/<id>/) and a page (<id>.html): one plain path component
SAFE_ID = re.compile(rf"[A-Za-z0-9_][A-Za-z0-9_.-]{{0,{MAX_ID - 1}}}")


def id_from_file_name(stem: str) -> str | None:
    """A safe lesson id made from a file name: ``intro (copy)`` -> ``intro-copy``,
    ``leçon`` -> ``lecon``, ``日本`` -> ``lesson-`` and a hash of the name; None when the name
    holds no letter or digit (``..``)."""
    if SAFE_ID.fullmatch(stem):
        return stem
    ascii_text = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii")
    made = re.sub(r"[^A-Za-z0-9_.-]+", "-", ascii_text)
    made = re.sub(r"-{2,}", "-", made).strip("-.")[:MAX_ID].rstrip("-.")
    if SAFE_ID.fullmatch(made):
        return made
    if any(c.isalnum() for c in stem):  # a name in another script: ``日本`` -> lesson-1b2c3d4e
        return "lesson-" + hashlib.sha256(stem.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return None


def _front_matter_line(source: str, key: str) -> int:
    """The lesson line of ``key:`` in the front matter (which starts at line 1), else 1."""
    for number, text in enumerate(source_lines(source)[1:], start=2):
        if text.strip() in ("---", "..."):
            break
        if re.match(rf"{re.escape(key)}\s*:", text):
            return number
    return 1


class _NotYaml(LessonError):
    """Front matter that YAML cannot parse: a warning, the lesson is still checked."""


def front_matter(text: str, path: str) -> dict[str, object]:
    """Front matter text as a mapping; not YAML or not a mapping raises LessonError.

    Bounded: at most ``MAX_FRONT_MATTER`` characters, ``MAX_NESTING`` levels of ``[``/``{``
    and no aliases (``*name``), so neither an alias bomb nor a deeply nested document can take
    the memory, the stack or minutes of the process (main process and workers alike).
    """
    if len(text) > MAX_FRONT_MATTER:
        raise LessonError(
            path,
            f"front matter is {len(text):,} characters long: at most {MAX_FRONT_MATTER:,} are "
            "read (an id and a title need a few)",
            1,
        )
    depth = deepest = 0
    for char in text:  # PyYAML's scanner is quadratic in the nesting of [ and {
        depth += (char in "[{") - (char in "]}")
        deepest = max(depth, deepest)
    if deepest > MAX_NESTING:
        raise LessonError(
            path, f"front matter nests {deepest} levels deep: at most {MAX_NESTING} are read", 1
        )
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent):
                mark = event.start_mark
                line = mark.line + 2 if mark is not None else 1
                raise LessonError(
                    path, "front matter uses a YAML alias (*name): write the value out", line
                )
        data = yaml.safe_load(text)
    except RecursionError:
        raise LessonError(path, "front matter nests too deeply to be read", 1) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        problem = getattr(error, "problem", None) or "cannot be parsed"
        raise _NotYaml(path, f"front matter is not valid YAML: {problem}", line) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise LessonError(path, "front matter is not a mapping of keys to values", 1)
    return {str(k): v for k, v in data.items()}


def read_lesson(path: Path | str, tab: str | None = None) -> Lesson:
    """Read and parse a lesson file; unusable input raises LessonError with a one-line reason."""
    shown = str(path)
    file = Path(path)
    if not file.exists():
        raise LessonError(shown, "no such file")
    if file.is_dir():
        raise LessonError(shown, "is a folder, not a lesson file")
    try:
        raw = file.read_bytes()
    except OSError as error:
        raise LessonError(shown, f"cannot be read: {error.strerror}") from None
    if b"\0" in raw:
        raise LessonError(shown, "is a binary file, not markdown")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise LessonError(shown, f"is not UTF-8 (byte {error.start})", line) from None
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise LessonError(shown, "is empty")
    lesson = parse_lesson(text, shown, tab)
    if not lesson.python_fences:
        raise LessonError(
            shown,
            "no Python blocks found (fences tagged python, py, python3, pycon or "
            "{code-block} python)",
        )
    return lesson
