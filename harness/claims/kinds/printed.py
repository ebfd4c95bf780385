"""The printed kind: a comment that shows what its line, or the statements above it, print
(``print(x)  # tensor([1, 4, 9])``, ``# Output:`` then the lines shown); compared with what
they printed by ``output_match``."""

from __future__ import annotations

import sys
from types import FrameType

from harness.claims.kinds.base import Bindings, Checker, Kind, Reading, Run
from harness.claims.lineage import SEEDED
from harness.claims.model import Claim, Comment
from harness.claims.output_match import TooLong, output_matches, shown
from harness.claims.printed import find_printed
from harness.results.status import Verdict

MAX_SEEN = 200  # calls of one printed-value claim kept to compare (a print in a loop)


class PrintedKind(Kind):
    """Printed values are known by where they stand (below a print) as much as by their
    text: ``read`` finds the claim whole, and ``place`` hands it on."""

    name = "printed"

    def read(self, comment: Comment, reading: Reading) -> Claim | None:
        index, block = reading.index, reading.block
        following, lineage, consumed = reading.following, reading.lineage, reading.consumed
        return find_printed(comment, following, index, block, lineage, consumed)

    def place(self, comment: Comment, parsed: object, reading: Reading) -> Claim:
        assert isinstance(parsed, Claim)
        return parsed

    def checker(self, run: Run) -> Checker:
        return PrintedChecker(self, run)


class PrintedChecker(Checker):
    def __init__(self, kind: Kind, run: Run) -> None:
        super().__init__(kind, run)
        self.marks: dict[int, list[int]] = {}  # stdout before each print
        self.values: dict[int, object] = {}  # an expression statement's value
        self.seen: dict[int, tuple[bool, list[str]]] = {}  # matched yet, outputs

    def value(
        self, claim: Claim, value: object, phase: int, bindings: Bindings, frame: FrameType
    ) -> None:
        self.values[claim.line] = value

    def names(
        self,
        claim: Claim,
        phase: int,
        names: tuple[str, ...],
        bindings: Bindings,
        frame: FrameType,
    ) -> None:
        """Marks stdout before each print (phases 0 and 2), then compares what they printed
        (phase 1). Passed when any call printed the claimed text, or all calls together did
        (a print in a loop)."""
        from harness.results import STDOUT_LIMIT  # the results model imports the claims

        line = claim.line
        out = sys.stdout
        if phase != 1:
            try:
                mark = out.tell()
            except (OSError, ValueError, AttributeError):
                mark = -1
            if phase == 0:
                self.marks[line] = [mark]
                self.values.pop(line, None)
            else:
                self.marks.setdefault(line, []).append(mark)
            return
        marks = self.marks.pop(line, [])
        getvalue = getattr(out, "getvalue", None)
        if not marks or min(marks) < 0 or getvalue is None:
            why = "the output went elsewhere (sys.stdout was replaced): nothing to compare"
            self.run.record(line, Verdict.UNCHECKED, claim.text, "", why)
            return
        if out.tell() >= STDOUT_LIMIT:
            why = f"the block printed over {STDOUT_LIMIT:,} characters before this: not kept"
            self.run.record(line, Verdict.UNCHECKED, claim.text, "", why)
            return
        text = getvalue()
        candidates = [text[mark:] for mark in marks]
        if line in self.values:
            value = self.values.pop(line)
            candidates = [c + repr(value) for c in candidates] + [repr(value)]
        self._compare(claim, candidates)

    def _compare(self, claim: Claim, candidates: list[str]) -> None:
        line = claim.line
        matched, seen = self.seen.get(line, (False, []))
        if len(seen) < MAX_SEEN:
            seen.append(candidates[0])
        try:
            matched = matched or any(output_matches(claim.text, c) for c in candidates)
            matched = matched or (len(seen) > 1 and output_matches(claim.text, "".join(seen)))
        except TooLong as error:
            self.run.record(
                line, Verdict.UNCHECKED, claim.text, "", f"the output is too long: {error}"
            )
            return
        self.seen[line] = (matched, seen)
        checks = self.run.checks(line) + 1
        expected = shown(claim.text)
        note = claim.note
        if "device='meta'" in candidates[0]:
            note = "a tensor on the meta device holds no values to print"
        if note.startswith(SEEDED):  # seeded: a CPU run reproduces the lesson's numbers
            import torch

            device = torch.empty(0).device.type  # where factories put tensors in this run
            note = "" if device == "cpu" else (
                f"the value comes from {note.removeprefix(SEEDED)}: seeded, they are the "
                f"reader's on CPU, not on {device}"
            )  # fmt: skip
        if matched:
            self.run.put(line, Verdict.PASSED, expected, shown(candidates[0]), "", checks)
        elif note:
            why = f"{note} (printed {shown(candidates[0], 80)})"
            self.run.put(line, Verdict.UNCHECKED, expected, shown(candidates[0]), why, checks)
        else:
            calls = f" in {len(seen)} calls" if len(seen) > 1 else ""
            found = "; ".join(shown(s, 200 // len(seen[:3])) for s in seen[:3])
            message = f"expected {expected}, found {found or repr('')}{calls}"
            self.run.put(line, Verdict.FAILED, expected, shown(candidates[0]), message, checks)


PRINTED = PrintedKind()
