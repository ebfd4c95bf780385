"""The formula kind: ``relu = F.relu(x)  # max(0, x)``, checked element-wise (``formulas``)."""

from __future__ import annotations

from types import FrameType

from harness.claims.formulas import Formula, compare, evaluate, parse_formula
from harness.claims.kinds.base import Bindings, Checker, Kind, Reading, Run
from harness.claims.model import Claim, Comment
from harness.claims.place import value_claim
from harness.results.status import Verdict


class FormulaKind(Kind):
    name = "formula"

    def read(self, comment: Comment, reading: Reading) -> Formula | None:
        return parse_formula(comment.text, reading.known) if comment.trailing else None

    def place(self, comment: Comment, parsed: object, reading: Reading) -> Claim:
        index, block = reading.index, reading.block
        return value_claim(comment, self.name, index, block, parsed=parsed, formula=True)

    def unusable(self, parsed: object) -> str:
        return parsed.reason if isinstance(parsed, Formula) else ""

    def checker(self, run: Run) -> Checker:
        return FormulaChecker(self, run)


class FormulaChecker(Checker):
    def value(
        self, claim: Claim, value: object, phase: int, bindings: Bindings, frame: FrameType
    ) -> None:
        formula = claim.parsed
        assert isinstance(formula, Formula)
        line = claim.line
        values: dict[str, object] = {}
        for name in formula.names:
            found, named = self.run.resolve(name, frame)
            if not found:
                self.run.record(
                    line, Verdict.UNCHECKED, claim.text, "", f"no variable named {name} here"
                )
                return
            values[name] = named
        import torch

        if not isinstance(value, torch.Tensor | int | float) or isinstance(value, bool):
            why = f"a {type(value).__name__} is not a tensor or number to compare with a formula"
            self.run.record(line, Verdict.UNCHECKED, claim.text, "", why)
            return
        expected = evaluate(formula, values, value)
        equal, actual, why = compare(formula, value, expected)
        shown = f"{claim.text} element-wise"
        if equal:
            self.run.record(line, Verdict.PASSED, shown, shown, "")
        else:
            self.run.record(line, Verdict.FAILED, shown, actual, f"expected {shown}, got {why}")


FORMULA = FormulaKind()
