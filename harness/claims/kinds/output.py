"""The output kind: the expected output of a doctest example (``>>> x`` then what it shows),
checked as doctest does; an expected exception or warning is checked around its statement
(``expecting``)."""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Iterator, Sequence
from types import FrameType

from harness.claims.kinds.base import Bindings, Checker, Kind, Run
from harness.claims.model import Claim
from harness.lesson import Example, Fence, expected_exception, expected_warning
from harness.results.status import Verdict

_RANDOM = re.compile(
    r"\b(?:randn?|randint|randperm|rand_like|randn_like|normal_?|uniform_|bernoulli|"
    r"multinomial|dropout|Dropout|Parameter)\s*\(|\bnn\.[A-Z]\w*\("
)


def _unseeded(fences: Sequence[Fence]) -> set[int]:
    """The lines of written outputs whose numbers may come from random values drawn without
    a seed: the lesson drew random numbers (``torch.randn``, a layer's initial weights) by
    then, and the block sets no seed before the statement that prints them."""
    found: set[int] = set()
    drawn = False
    for fence in fences:  # code, not comments: a comment draws nothing
        lines = fence.uncommented.split("\n")
        for example in fence.examples:
            if not example.pasted:
                continue
            before = "\n".join(lines[: example.end_line - fence.code_line + 1])
            if (drawn or _RANDOM.search(before)) and "manual_seed(" not in before:
                found.add(example.want_line)
        drawn = drawn or _RANDOM.search(fence.uncommented) is not None
    return found


def _nodes(text: str) -> str:
    """Autograd node names without their version: torch's ``AddmmBackward0`` was written
    ``AddmmBackward`` before torch 1.9."""
    return re.sub(r"\b(\w+Backward)\d+\b", r"\1", text)


def _but_numbers(text: str) -> str:
    """Printed text without its numbers and its whitespace: ``AddBackward0`` and
    ``AddBackward``, ``-0.3037`` and ``1.2``, read alike."""
    text = re.sub(r"(?<=[A-Za-z_])\d+", "", text)
    text = re.sub(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?", "#", text)
    return "".join(text.split())  # torch pads positive numbers: ``[ 0.5`` and ``[-0.5``


def _is_a(error: BaseException, name: str) -> bool:
    """``error`` is of the type named ``name`` (``RuntimeError``, ``torch.OutOfMemoryError``)
    or of a subclass of it."""
    short = name.rsplit(".", 1)[-1]
    return any(
        cls.__name__ == short or f"{cls.__module__}.{cls.__qualname__}" == name
        for cls in type(error).__mro__
    )


class OutputKind(Kind):
    """No comment makes a doctest output: ``docstrings.example_claims`` finds them."""

    name = "output"

    def checker(self, run: Run) -> Checker:
        return OutputChecker(self, run)


class OutputChecker(Checker):
    def __init__(self, kind: Kind, run: Run) -> None:
        super().__init__(kind, run)
        self.marks: list[int] = []  # where stdout stood before each example
        self.unseeded = _unseeded(run.fences)

    def names(
        self,
        claim: Claim,
        phase: int,
        names: tuple[str, ...],
        bindings: Bindings,
        frame: FrameType,
    ) -> None:
        """A doctest example's output: what it printed, and its value's repr, as doctest."""
        import doctest

        line = claim.line
        out = sys.stdout
        if phase == 0:
            self.marks.append(out.tell())
            return
        start = self.marks.pop() if self.marks else 0
        got = out.getvalue()[start:] if hasattr(out, "getvalue") else ""
        example = claim.parsed
        assert isinstance(example, Example)
        if expected_exception(example.want) or expected_warning(example.want):
            return  # checked by ``expecting``, around the statement
        flags = 0
        for flag, on in example.options:
            flags = flags | flag if on else flags & ~flag
        checker = doctest.OutputChecker()
        want = example.want
        if checker.check_output(want, got, flags) or (
            example.pasted and checker.check_output(_nodes(want), _nodes(got), flags)
        ):
            self.run.record(line, Verdict.PASSED, want.strip(), got.strip(), "")
        elif example.pasted and line in self.unseeded and want.strip():
            # a reader's run draws other numbers: what the lesson shows is an illustration
            beyond = "" if _but_numbers(want) == _but_numbers(got) else " (and differs beyond them)"
            self.run.record(
                line,
                Verdict.UNCHECKED,
                want.strip(),
                got.strip(),
                f"the output's numbers come from random values drawn without a seed in the "
                f"block (manual_seed): another run's cannot be compared{beyond}",
            )
        else:
            self.run.record(
                line,
                Verdict.FAILED,
                want.strip(),
                got.strip(),
                f"expected output {want.strip()!r}, got {got.strip()!r}",
            )

    @contextlib.contextmanager
    def expecting(self, claim: Claim | None, line: int) -> Iterator[None]:
        """Around a console statement whose expected output (at ``line``) is an exception or
        a warning: the exception must be raised, of that type or a subclass (its message is
        shown, not compared: torch rewords its messages), and is then caught, as the console
        prints it and goes on; a warning of that category must be emitted."""
        import warnings

        example = claim.parsed if claim is not None else None
        want = example.want if isinstance(example, Example) else ""
        exception = expected_exception(want)
        category = expected_warning(want)
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            try:
                yield
            except BaseException as error:
                if exception is None or isinstance(error, KeyboardInterrupt | SystemExit):
                    raise
                if not _is_a(error, exception[0]):  # the console shows it and goes on
                    found = f"{type(error).__name__}: {error}"
                    self.run.record(
                        line,
                        Verdict.FAILED,
                        exception[0],
                        found,
                        f"expected {exception[0]} to be raised, got {found}",
                    )
                    return
                self.run.record(
                    line, Verdict.PASSED, exception[0], f"{type(error).__name__}: {error}", ""
                )
                return
        if exception is not None:
            self.run.record(
                line,
                Verdict.FAILED,
                exception[0],
                "nothing raised",
                f"expected {exception[0]} to be raised, but the statement raised nothing",
            )
        if category is not None:
            names = [w.category.__name__ for w in seen]
            if any(c.__name__ == category for w in seen for c in w.category.__mro__):
                self.run.record(line, Verdict.PASSED, category, category, "")
            else:
                found = ", ".join(names) or "no warning"
                self.run.record(
                    line,
                    Verdict.FAILED,
                    category,
                    found,
                    f"expected a {category} warning, got {found}",
                )


OUTPUT = OutputKind()
