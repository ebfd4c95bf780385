"""Console sessions and outputs written in a block: what a printed value is claimed to be.

A block written as a console session (``>>>`` prompts) becomes plain Python on the same lines,
its expected outputs kept as ``Example``s; outputs pasted into an ordinary block (MyST's ``: ``
lines, a value after a ``print``) are blanked and kept the same way.
"""

from __future__ import annotations

import ast
import doctest
import re
from dataclasses import dataclass

from harness.lesson.errors import LessonError
from harness.lesson.trees import ParseMemo, parse_code

# an expected exception written as the console shows it, without the traceback header
_EXCEPTION_LINE = re.compile(
    r"((?:[A-Za-z_]\w*\.)*(?:[A-Za-z_]\w*(?:Error|Exception|Exit|Interrupt)|StopIteration|"
    r"StopAsyncIteration))(?::[ \t]*(.*))?"
)
_TRACEBACK = "Traceback (most recent call last):"
# a warning as Python prints it: ``__main__:1: UserWarning: message``
_WARNING_LINE = re.compile(r"\S+:\d+: ([A-Za-z_]\w*Warning): .*")


@dataclass(frozen=True)
class Example:
    """A doctest example's expected output: claimed by the statement at ``line``..``end_line``."""

    line: int
    end_line: int
    want: str
    want_line: int
    options: tuple[tuple[int, bool], ...] = ()
    pasted: bool = False  # written in a code block (MyST ``: `` lines, after a print)


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


def doctest_code(code: str, first_line: int, path: str) -> tuple[str, tuple[Example, ...]]:
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


MAX_PASTED = 200  # outputs looked for in one block: parsing is repeated once per output


def _balance(text: str) -> int:
    """Open brackets minus closed ones in a line of output, outside quotes."""
    text = re.sub(r"'[^'\n]*'|\"[^\"\n]*\"", "", text)
    return sum(text.count(c) for c in "([{") - sum(text.count(c) for c in ")]}")


def _region(lines: list[str], start: int, myst: bool = False) -> int:
    """The end (exclusive) of an output starting at ``start``: the first blank line where its
    brackets are balanced, or the block's end. ``myst`` (a ``: `` output): also a line where
    they are balanced that is a statement, not an expression (``x = 2``): code, not output."""
    depth = 0
    index = start
    while index < len(lines):
        if not lines[index].strip() and depth <= 0:
            break
        if myst and index > start and depth <= 0 and _statement_line(lines[index]):
            break
        depth += _balance(lines[index])
        index += 1
    while index > start and not lines[index - 1].strip():
        index -= 1
    return index


def _statement_line(text: str) -> bool:
    """A line (not a ``: `` output line) that is a whole statement other than an expression."""
    if re.match(r"[ \t]*:", text):
        return False
    try:
        tree = ast.parse(text.strip())
    except (SyntaxError, ValueError):
        return False
    return len(tree.body) == 1 and not isinstance(tree.body[0], ast.Expr)


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


def pasted_outputs(lines: list[str], first_line: int, memo: ParseMemo) -> tuple[Example, ...]:
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
        whole = memo.parse("\n".join(lines))
        start: int | None = None
        if isinstance(whole, SyntaxError):
            error = whole
            colon = next(  # an output's first line shows something: a bare ``:`` is code
                (i for i, t in enumerate(lines) if re.match(r"[ \t]*:[ \t]+\S", t)), None
            )
            at = (error.lineno or 1) - 1
            if colon is not None and colon <= at + 1:
                start = colon
            else:  # the first line of the chunk that does not parse, after a print
                start = at
                while start > 0 and lines[start - 1].strip():
                    start -= 1
                before = parse_code("\n".join(lines[:start]))
                if isinstance(before, SyntaxError):
                    return tuple(found)
                if not _is_print(_statement_before(before, start + 1)):
                    return tuple(found)
            prefix = lines[:start]
        else:
            for shows, stmt in zip(whole.body, whole.body[1:], strict=False):
                if _is_print(shows) and isinstance(stmt, ast.Expr) and _repr_like(stmt.value):
                    start = stmt.lineno - 1
                    break
            if start is None:
                return tuple(found)
            prefix = lines[:start]
        if not any(t.strip() for t in prefix):
            return tuple(found)
        head = parse_code("\n".join(prefix))
        if isinstance(head, SyntaxError):
            return tuple(found)
        end = _region(lines, start, myst=re.match(r"[ \t]*:", lines[start]) is not None)
        shown = _statement_before(head, start + 1)
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
