"""What a shape comment says, before we know what code it is about."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from harness.claims.shapes import (
    MAX_TEXT,
    Shape,
    find_shape,
    parse_dim_shape,
    parse_named_dims,
    parse_shape,
)

_SUBJECTS = re.compile(r"[A-Za-z_][\w.]*(?:\s*,\s*[A-Za-z_][\w.]*)*")
SEPARATORS = ("-", "\u2013", "\u2014", "(", ",", ";", "#")


# labels that name the value of their line, not a variable: ``# Output: torch.Size([2, 3])``
VALUE_LABELS = frozenset({"output", "out", "result", "returns", "return", "value", "shape"})
_SHAPE_LABEL = re.compile(
    r"((?:(?:the |its )?(?:output|result|final|new|out|tensor|returned|return)\s+)?"
    r"(?:shape|size|dims|dimensions)(?:\s+is)?|\u5f62\u72b6|\u7ef4\u5ea6|\u5c3a\u5bf8|\u8f93\u51fa\u5f62\u72b6)"
    r"\s*(?::|\uff1a|->|\u2192|=>|=)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ShapeText:
    """What a comment says, before we know what code it is about."""

    form: Literal["value", "named", "subjects", "transition", "operation", "label", "labelled"]
    shapes: tuple[Shape, ...]
    names: tuple[str, ...] = ()
    label: str = ""


_ARROWS = re.compile(r"\s*(?:-{1,2}>|\u2014>|\u2013>|\u2192|\u27f6|\u21d2|=>)\s*")
_OPERATORS = ("@", "*", "+", "x", "\u00d7")


def _chain(first: Shape, after: str) -> tuple[list[Shape], list[str]]:
    """``-> [B, 392]``, ``@ (3, 4) -> (2, 4)`` after a first shape: the shapes and operators."""
    chain, operators = [first], []
    rest = after
    while rest:
        op = re.match(r"(->|@|\*|\+|x(?=\s)|\u00d7)\s*", rest)
        if op is None:
            break
        tail = rest[op.end() :]
        found = find_shape(tail)
        if found is None or tail[: found[0]].strip():
            break
        operators.append(op.group(1))
        chain.append(found[2])
        rest = tail[found[1] :].strip()
    return chain, operators


DESCRIBED = "described"  # the label of ``x is the input activations, of shape B,T,C``
_DESCRIBED = re.compile(
    r"([A-Za-z_][\w.]*)\s+(?:is|are|holds?)\b[^#]*?\b(?:of|with)\s+shape\s*:?\s*(.+?)\.?"
)


def read_shape_comment(text: str) -> ShapeText | None:
    """Classify comment text as a shape claim, or None when it is not one."""
    described = _DESCRIBED.fullmatch(text.strip()) if len(text) <= MAX_TEXT else None
    if described:  # x is the input activations, of shape B,T,C
        shape = parse_shape(described.group(2)) or parse_dim_shape(described.group(2))
        if shape is not None:
            return ShapeText("subjects", (shape,), (described.group(1),), DESCRIBED)
    named = parse_named_dims(text)
    if named is not None:
        return ShapeText("named", (named,))
    bare = parse_shape(text.removeprefix("->").strip())
    if bare is not None:
        return ShapeText("value", (bare,))
    found = find_shape(text)
    if found is None:
        return None
    start, end, first = found
    prefix, after = text[:start].strip(), _ARROWS.sub(" -> ", text[end:]).strip()
    chain, operators = _chain(first, after)
    if operators and "->" not in operators:
        return None  # (2, 3) @ (3, 4) with no result: prose
    if operators:
        label = prefix.rstrip(":").strip()
        arrow = operators.index("->")
        if arrow == 1 and operators[0] in _OPERATORS:  # (2, 3) @ (3, 4) -> (2, 4)
            return ShapeText("operation", (chain[0], chain[1], chain[-1]), label=label)
        if arrow == 0 and all(op == "->" for op in operators):  # a -> b (-> c ...): a, then c
            return ShapeText("transition", (first, chain[-1]), label=label)
        return None
    if after.startswith("->"):
        return None
    if after and not after.startswith(SEPARATORS):
        return None
    if not prefix:
        return ShapeText("value", (first,))
    labelled = _SHAPE_LABEL.fullmatch(prefix)
    if labelled:  # Shape: (3,), shape -> [B, T], Output shape: torch.Size([2, 3]), 形状: (2, 3)
        label = labelled.group(1)
        word = re.fullmatch(r"([A-Za-z_][\w.]*)\s+(?:shape|size)", label)
        return ShapeText("labelled", (first,), (word.group(1),) if word else (), label)
    if not prefix.endswith(":"):
        return None
    label = prefix[:-1].strip()
    subjects = re.sub(r"\s+shape$", "", label, flags=re.IGNORECASE)
    if _SUBJECTS.fullmatch(subjects):
        names = tuple(n.strip() for n in subjects.split(","))
        return ShapeText("subjects", (first,), names=names, label=label)
    return ShapeText("label", (first,), label=label)
