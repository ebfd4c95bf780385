"""Printed-value claims: a comment that shows what the statements above it (or its own line)
print, where they stand and what they say."""

from __future__ import annotations

import ast
import re
from dataclasses import replace

from harness.claims.block import unparse
from harness.claims.lineage import SEEDED, Lazy
from harness.claims.model import Claim, Comment, Insert, Placement
from harness.claims.place import Index, is_print, wrap
from harness.claims.shapes import MAX_TEXT

ARROW = re.compile(r"(?:->|=>|\u2192|\u21d2)\s*")
OUTPUT_LABEL = re.compile(
    r"(?:expected output|sample output|output|out|prints?|printed|result|"
    r"\u8f93\u51fa\u7ed3\u679c|\u8f93\u51fa|\u6253\u5370\u7ed3\u679c|\u7ed3\u679c)"
    r"\s*(?:[:\uff1a=]|->|=>|\u2192)\s*(.*)",
    re.IGNORECASE | re.DOTALL,
)
VALUE_START = ("tensor(", "Parameter containing", "torch.Size(", "Size(", "array(")
_NUMBER_TEXT = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_NUMBER_RUN = re.compile(rf"{_NUMBER_TEXT}(?:\s*,?\s*{_NUMBER_TEXT})*")
_DTYPE = re.compile(
    r"torch\.(?:float|int|uint|bool|complex|bfloat|half|double|long|short|cfloat|cdouble)\d*"
)
_CONSTANTS = frozenset({"True", "False", "None", "nan", "inf", "-inf"})
_LITERAL_WORDS = _CONSTANTS | {"tensor", "dtype", "torch", "requires_grad", "grad_fn", "Size"}
_LITERAL_CHARS = re.compile(r"[\w\s\[\](){},.:=<>+\-]*")
# what a print shows that depends on the reader's machine, not on the lesson
_MACHINE = re.compile(
    r"cuda|mps|is_available|device|__version__|version|platform|time|perf_counter|getcwd|"
    r"environ|get_device_name|\bid\(|\bhash\(|num_threads|cpu_count|memory"
)
_APPROXIMATE = re.compile(r"[~\u2248]|\b(?:approx\w*|about|around|roughly|e\.g|etc|like)\b")


def balance(text: str) -> int:
    """Brackets opened and not closed in ``text`` (quoted strings aside)."""
    text = re.sub(r"'[^'\n]*'|\"[^\"\n]*\"", "", text)
    return sum(text.count(c) for c in "([{") - sum(text.count(c) for c in ")]}")


def looks_like_output(text: str, partial: bool = False) -> bool:
    """Whether comment text reads as what Python prints: ``3``, ``True``, ``torch.float32``,
    ``tensor([1, 4, 9])``, ``[1, 2, 3]``; never a phrase (``print the result``).
    ``partial``: the first line of an output that continues on the next comment lines."""
    text = text.strip()
    if not text or len(text) > MAX_TEXT:
        return False
    if text.startswith(VALUE_START):
        return partial or balance(text) == 0
    if _DTYPE.fullmatch(text) or text in _CONSTANTS or _NUMBER_RUN.fullmatch(text):
        return True
    if text[0] not in "[({":
        return False
    plain = re.sub(r"'[^'\n]*'|\"[^\"\n]*\"", "0", text)
    plain = re.sub(rf"(?<![\w.]){_NUMBER_TEXT}(?![\w])", "0", plain).replace("...", "0")
    words = re.findall(r"[A-Za-z_]\w*", plain)
    if any(w not in _LITERAL_WORDS and not _DTYPE.fullmatch(f"torch.{w}") for w in words):
        return False
    if not _LITERAL_CHARS.fullmatch(plain):
        return False
    opened = balance(plain)
    return opened == 0 or (partial and opened > 0)


def prints(stmt: ast.stmt) -> bool:
    """A statement that prints: a print, or a loop, ``with`` or ``if`` whose body prints."""
    if is_print(stmt):
        return True
    if not isinstance(stmt, ast.For | ast.While | ast.With | ast.If | ast.Try):
        return False
    return any(
        isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "print"
        for n in ast.walk(stmt)
    )


def _print_prefix(stmt: ast.stmt) -> str:
    """The literal text a print starts with (``print(f"Mean: {m}")``: ``Mean:``), or ''."""
    if not is_print(stmt):
        return ""
    assert isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)
    args = stmt.value.args
    first = args[0] if args else None
    if isinstance(first, ast.JoinedStr) and first.values:
        first = first.values[0]
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        return " ".join(first.value.split())
    return ""


def expected_text(text: str, stmt: ast.stmt | None) -> str | None:
    """The output a comment claims, without its label or arrow; None when it claims none."""
    text = ARROW.sub("", text.strip(), count=1) if ARROW.match(text.strip()) else text.strip()
    labelled = OUTPUT_LABEL.fullmatch(text)
    rest = labelled.group(1).strip() if labelled else text
    if _APPROXIMATE.search(re.sub(r"'[^'\n]*'|\"[^\"\n]*\"", "", rest)):
        return None  # Mean: ~2.5, about 0.69: an approximate value, not the output
    prefix = _print_prefix(stmt) if stmt is not None else ""
    if prefix and len(prefix) >= 2 and " ".join(rest.split()).startswith(prefix):
        return rest
    return rest if looks_like_output(rest, partial=True) else None


def _printed_places(run: list[ast.stmt]) -> tuple[Placement, ...]:
    """Where stdout is marked (before each statement of ``run``) and read (after the last);
    an expression statement that is no print also shows its value, as a notebook does."""
    places: list[Placement] = [Insert(run[0].lineno, run[0].col_offset, "before", (), 0)]
    places += [Insert(s.lineno, s.col_offset, "before", (), 2) for s in run[1:]]
    last = run[-1]
    if isinstance(last, ast.Expr) and not is_print(last):
        places.append(wrap(last.value))
    places.append(Insert(last.lineno, last.col_offset, "after", (), 1))
    return tuple(places)


def _printed_subject(run: list[ast.stmt]) -> str:
    last = run[-1]
    shown = unparse(last.value) if isinstance(last, ast.Expr) else unparse(last).split("\n")[0]
    shown = shown.rstrip(":")
    return shown if len(shown) <= 60 else shown[:57] + "..."


def print_run(body: list[ast.stmt], at: int, line: int) -> list[ast.stmt]:
    """The statements right above ``line`` whose output a comment there shows: the last one
    (a print, a printing loop, an expression), and the prints just before it."""
    if at <= 0:
        return []
    last = body[at - 1]
    if (last.end_lineno or last.lineno) != line - 1:
        return []
    if not (prints(last) or isinstance(last, ast.Expr)):
        return []
    run = [last]
    for stmt in reversed(body[: at - 1]):
        if not is_print(stmt) or (stmt.end_lineno or stmt.lineno) != run[0].lineno - 1:
            break
        run.insert(0, stmt)
    return run


def printed_claim(
    comment: Comment, text: str, run: list[ast.stmt], block: int, lineage: Lazy
) -> Claim:
    note = lineage.get().note(block, run[-1])
    source = " ".join(unparse(s) for s in run)
    machine = _MACHINE.search(source)
    if (not note or note.startswith(SEEDED)) and machine:
        note = f"what it prints depends on the reader's machine ({machine.group(0)})"
    if (not note or note.startswith(SEEDED)) and "0x" in text:
        note = "the output shows a memory address, which differs at every run"
    return Claim(
        comment.line, text, "printed", _printed_subject(run), block, (),
        _printed_places(run), note=note, parsed=text,
    )  # fmt: skip


def find_printed(
    comment: Comment,
    following: list[Comment],
    index: Index | None,
    block: int,
    lineage: Lazy,
    consumed: set[int],
    unlabelled: bool = False,
) -> Claim | None:
    """A printed-value claim: a trailing comment on a print or an expression statement, or an
    own-line ``# Output: ...`` (its further lines below it) right after the statements that
    print it; None when the comment is not one."""
    if index is None:
        return None
    if comment.trailing:
        stmt = index.statement_at(comment.line)
        if not isinstance(stmt, ast.Expr) or stmt.end_lineno != comment.line:
            return None
        text = expected_text(comment.text, stmt)
        if text is None or balance(text) != 0:
            return None
        return printed_claim(comment, text, [stmt], block, lineage)
    position = index.position(comment.line, comment.col)
    run = print_run(*position, comment.line) if position is not None else []
    if not run:
        return None
    said = comment.text.strip()
    said = ARROW.sub("", said, count=1) if ARROW.match(said) else said
    labelled = OUTPUT_LABEL.fullmatch(said)
    bare = unlabelled and looks_like_output(said, partial=True)
    if labelled is None and not said.startswith(VALUE_START) and not bare:
        return None
    lines = [labelled.group(1).strip() if labelled else said]
    lines = [line for line in lines if line]
    last, taken = comment.line, []
    for after in following:
        if after.trailing or after.line != last + 1 or after.col != comment.col:
            break
        still_open = bool(lines) and balance("\n".join(lines)) > 0
        if not still_open and not looks_like_output(after.text, partial=True):
            break
        lines.append(after.text)
        taken.append(after.line)
        last = after.line
    text = "\n".join(lines)
    if not text or balance(text) != 0 or expected_text(text.replace("\n", " "), run[-1]) is None:
        return None
    consumed.update(taken)
    found = printed_claim(comment, text, run, block, lineage)
    if labelled is None and not said.startswith(VALUE_START):  # '#  [1, 2]': its rows?
        why = "a comment below a print without an `Output:` label may not show its output"
        found = replace(found, note=why)
    return found
