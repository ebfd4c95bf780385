"""The shape kind: ``# [B, T, d_model]``, ``# (2, 3) -> (2, 4)``, ``# x: [B, 10]``.

Read by ``shape_text``, placed by ``place_shape``, checked at run time by ``shape_check``
(against the shapes the claim carries, with symbolic names bound per scope, ``bindings``).
"""

from __future__ import annotations

from dataclasses import replace

from harness.claims.kinds.base import Checker, Kind, Reading, Run
from harness.claims.model import Claim, Comment
from harness.claims.place_shape import shape_claim, shape_printed_above
from harness.claims.printed import find_printed
from harness.claims.shape_text import DESCRIBED, VALUE_LABELS, ShapeText, read_shape_comment


class ShapeKind(Kind):
    name = "shape"

    def read(self, comment: Comment, reading: Reading) -> ShapeText | None:
        said = read_shape_comment(comment.text)
        if said is None or said.form not in ("subjects", "labelled") or not said.names:
            return said
        roots = {name.split(".")[0] for name in said.names}
        if not roots <= reading.known and said.label == DESCRIBED:
            return None  # 'it is a tensor of shape (2, 3)': prose
        if not roots <= reading.known and {r.lower() for r in roots} <= VALUE_LABELS:
            # Output: torch.Size([2, 3]): a label of the value, no variable
            return replace(said, form="labelled", names=())
        # Input: [B, 10] (about no value on the line), or output shape: [...] where the
        # lesson has a variable `output`
        return replace(said, form="subjects")

    def place(self, comment: Comment, parsed: object, reading: Reading) -> Claim:
        assert isinstance(parsed, ShapeText)
        index, block = reading.index, reading.block
        shape = replace(shape_claim(comment, parsed, index, block), parsed=parsed)
        printed = None
        if shape.reason.startswith("the line prints no .shape"):  # print(x.tolist())
            printed = find_printed(comment, [], index, block, reading.lineage, reading.consumed)
        elif shape.reason.startswith("a shape on a line of its own"):
            above = shape_printed_above(comment, parsed, index, block)
            shape = replace(above, parsed=parsed) if above is not None else shape
            if shape.reason:  # print(m) then '#  [1, 2]', '#  [3, 4]': its rows
                printed = find_printed(
                    comment,
                    reading.following,
                    index,
                    block,
                    reading.lineage,
                    reading.consumed,
                    True,
                )
        return printed or shape

    def checker(self, run: Run) -> Checker:
        from harness.claims.kinds.shape_check import ShapeChecker

        return ShapeChecker(self, run)


SHAPE = ShapeKind()
