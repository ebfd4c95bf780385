"""The runtime side of claims: what instrumented lesson code calls while it runs.

A probe never raises into the lesson: whatever it cannot decide becomes ``unchecked``.
"""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from types import FrameType
from typing import Any

from harness.claims import ANY, COUNTED, SEEDED, Claim, behaviours
from harness.claims.formulas import compare, evaluate, parse_formula
from harness.claims.shapes import Shape, format_dims, match
from harness.lesson import Example, Fence, expected_exception, expected_warning
from harness.results import STDOUT_LIMIT, ClaimResult


def shape_of(value: object) -> tuple[tuple[int, ...] | None, str]:
    """The shape of a tensor-like value (or a ``torch.Size``), or why there is none."""
    if isinstance(value, tuple) and all(type(d) is int for d in value):
        return tuple(value), ""
    shape = getattr(value, "shape", None)
    if shape is not None:
        try:
            return tuple(int(d) for d in shape), ""
        except (TypeError, ValueError):
            return None, f"its shape {shape!r} is not a list of integers"
    if isinstance(value, tuple | list):
        return None, f"the value is a {type(value).__name__} of {len(value)}, not one tensor"
    return None, f"the value is a {type(value).__name__}, which has no shape"


def _names(text: str) -> list[str]:
    """Every identifier in a formula's text: the formula's names are among them."""
    return re.findall(r"[A-Za-z_]\w*", text)


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
    for fence in fences:
        lines = fence.code.split("\n")
        for example in fence.examples:
            if not example.pasted:
                continue
            before = "\n".join(lines[: example.end_line - fence.code_line + 1])
            if (drawn or _RANDOM.search(before)) and "manual_seed(" not in before:
                found.add(example.want_line)
        drawn = drawn or _RANDOM.search(fence.code) is not None
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


_TOKEN = re.compile(r"\.\.\.|(?<![\w.])([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)(?![\w])|\w+|\S")
_IGNORED = frozenset("()[]{},")
_EXTRAS = {  # parts of a tensor's repr a claim may leave out
    "device": re.compile(r",\s*device='[^']*'"),
    "grad_fn": re.compile(r",\s*grad_fn=<\w+>"),
    "requires_grad": re.compile(r",\s*requires_grad=True"),
    "dtype": re.compile(r",\s*dtype=torch\.\w+"),
}
MAX_STEPS = 2_000_000  # of matching a claim with ``...`` against an output


class TooLong(Exception):
    """An output too long to compare with a claim full of ``...``."""


_BACKWARD = re.compile(r"(Backward)\d+")  # grad_fn=<AddmmBackward0>, <AddmmBackward> in torch 1
_STAR = ("...", "")
MAX_SEEN = 200  # calls of one printed-value claim kept to compare (a print in a loop)


def _tokens(text: str, claimed: bool) -> list[tuple[str, str]]:
    """(kind, text) tokens: numbers, words, signs; brackets and commas are left out (``[1, 2]``
    and ``tensor([1, 2])`` show the same values); ``...`` in a claim matches anything."""
    found: list[tuple[str, str]] = []
    for part in _TOKEN.finditer(text):
        token = part.group(0)
        if token == "..." and claimed:
            found.append(_STAR)
        elif part.group(1) is not None:
            found.append(("number", token))
        elif token not in _IGNORED:
            found.append(("text", token))
    return found


def _ulp(number: str) -> float:
    """The unit of the last digit a number is written with; 0 when written exactly (``1.``)."""
    mantissa, _, exponent = number.lower().partition("e")
    if "." not in mantissa or mantissa.endswith("."):
        return 0.0
    decimals = len(mantissa.split(".")[1])
    return float(10.0 ** (int(exponent or 0) - decimals))


def _same(claimed: tuple[str, str], actual: tuple[str, str]) -> bool:
    if claimed[0] != actual[0]:
        return False
    if claimed[0] == "text":
        return claimed[1] == actual[1]
    want, got = float(claimed[1]), float(actual[1])
    if want == got:
        return True
    if "." not in claimed[1] and "e" not in claimed[1].lower():
        return False  # an integer claimed: exactly
    tolerance = 0.5 * max(_ulp(claimed[1]), _ulp(actual[1]))
    return abs(want - got) <= tolerance * (1 + 1e-9)


def output_matches(claimed: str, actual: str) -> bool:
    """Whether ``actual`` output is what ``claimed`` shows, as doctest would see it with
    NORMALIZE_WHITESPACE and ELLIPSIS, and more leniently: numbers equal at the precision
    either is written with, brackets and commas aside, ``tensor(...)`` and its ``device=``,
    ``dtype=``, ``grad_fn=`` left out when the claim leaves them out."""
    for word, pattern in _EXTRAS.items():
        if word not in claimed:
            actual = pattern.sub("", actual)
    claimed, actual = (_BACKWARD.sub(r"\1", text) for text in (claimed, actual))
    want = _tokens(claimed, True)
    got = _tokens(actual, False)
    if ("text", "tensor") not in want:
        got = [t for t in got if t != ("text", "tensor")]
    i = j = 0
    star, mark = -1, 0
    budget = MAX_STEPS
    while j < len(got):
        budget -= 1
        if budget < 0:
            raise TooLong(f"comparing took over {MAX_STEPS:,} steps")
        if i < len(want) and want[i] is not _STAR and _same(want[i], got[j]):
            i, j = i + 1, j + 1
        elif i < len(want) and want[i] is _STAR:
            star, mark = i, j
            i += 1
        elif star >= 0:
            i, mark = star + 1, mark + 1
            j = mark
        else:
            return False
    while i < len(want) and want[i] is _STAR:
        i += 1
    return i == len(want)


def _shown(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _int(value: object) -> int | None:
    return value if type(value) is int else None


class Probe:
    """Checks claims for one lesson run and tallies a verdict per claim line."""

    def __init__(
        self, claims: Sequence[Claim], filename: str, fences: Sequence[Fence] = ()
    ) -> None:
        self.claims = {claim.line: claim for claim in claims}
        self.filename = filename
        self.tallies: dict[int, ClaimResult] = {}
        self.block_names: frozenset[str] = frozenset()
        self.operands: dict[int, dict[int, object]] = {}
        self.states: dict[int, list[Any]] = {}  # call behaviours: what ``before`` saw
        self.marks: list[int] = []  # doctest outputs: where stdout stood before the example
        self.inputs: dict[int, list[tuple[str, tuple[int, ...]]]] = {}  # transitions' inputs
        outputs: dict[int, Example] = {}  # each doctest output by its line: linear in both
        for fence in fences:
            for example in reversed(fence.examples):  # the first of a line wins, as example_of
                outputs[example.want_line] = example
        self.examples = {line: outputs[line] for line in self.claims if line in outputs}
        self.unseeded = _unseeded(fences)
        self.printed_marks: dict[int, list[int]] = {}  # printed values: stdout before each print
        self.printed_values: dict[int, object] = {}  # an expression statement's value
        self.printed_seen: dict[int, tuple[bool, list[str]]] = {}  # matched yet, outputs

    # called by instrumented code -------------------------------------------------------
    def value(self, line: int, value: object, bindings: dict[str, int], phase: int = 0) -> object:
        try:
            frame = sys._getframe(1)
            kind = self.claims[line].kind
            if kind == "printed":
                self.printed_values[line] = value
            elif kind == "formula":
                self._formula(line, value, frame)
            elif kind == "behaviour":
                self._behaviour(line, value)
            else:
                self._input_check(line, bindings, frame)
                shape, why = shape_of(value)
                self._check(line, phase, shape, why, bindings, frame, "")
        except Exception as error:
            self._record(line, "unchecked", "", "", f"the harness could not check: {error!r}")
        return value

    @staticmethod
    def display(value: object) -> None:
        """An expression statement of a console session: its repr, as the console shows it."""
        if value is not None:
            print(repr(value))

    def operand(self, line: int, index: int, value: object) -> object:
        """Keep an operand of the claim's operation (evaluated before the operation)."""
        self.operands.setdefault(line, {})[index] = value
        return value

    def names(
        self, line: int, phase: int, names: tuple[str, ...], bindings: dict[str, int]
    ) -> None:
        try:
            frame = sys._getframe(1)
            kind = self.claims[line].kind
            if kind == "behaviour" and phase == 3:
                self._last_module(line, names, frame)
                return
            if kind == "behaviour":
                self._around_call(line, phase, names, frame)
                return
            if kind == "output":
                self._output(line, phase)
                return
            if kind == "printed":
                self._printed(line, phase)
                return
            if names and names[0] == ANY:  # a transition's input: checked with its result
                self._inputs_before(line, names, frame)
                return
            self._input_check(line, bindings, frame)
            for name in names:
                found, value = self._resolve(name, frame)
                if not found:
                    why = f"no variable named {name} at this point"
                    self._check(line, phase, None, why, bindings, frame, name)
                    continue
                shape, why = shape_of(value)
                self._check(line, phase, shape, why, bindings, frame, name)
        except Exception as error:
            self._record(line, "unchecked", "", "", f"the harness could not check: {error!r}")

    def _inputs_before(self, line: int, names: tuple[str, ...], frame: FrameType) -> None:
        """A transition's candidate inputs, looked up before its statement runs; checked
        with its result (``_input_check``), with the inner values the statement computes."""
        found: list[tuple[str, tuple[int, ...]]] = []
        for name in names:
            if name == ANY:
                continue
            ok, value = self._resolve(name.removeprefix(ANY), frame)
            shape, _ = shape_of(value) if ok and not isinstance(value, tuple) else (None, "")
            if shape is not None:
                found.append((name.removeprefix(ANY), shape))
        self.inputs[line] = found
        self.operands.pop(line, None)

    def _input_check(self, line: int, bindings: dict[str, int], frame: FrameType) -> None:
        """The input of a transition: passed when any candidate has the claimed shape."""
        found = self.inputs.pop(line, None)
        if found is None:
            return
        inner = self.operands.pop(line, {})
        for index in sorted(inner):
            shape, _ = shape_of(inner[index])
            if shape is not None and not isinstance(inner[index], tuple):
                found.append(("", shape))
        if not found:
            why = "no input of the statement holds a tensor"
            self._check(line, 0, None, why, bindings, frame, "")
            return
        claim = self.claims[line]
        for _, shape in found:
            trial = match(claim.shapes[0], shape, dict(bindings), self._lookup(frame))
            if trial.verdict == "passed":
                self._check(line, 0, shape, "", bindings, frame, "")
                return
        self._check(line, 0, found[-1][1], "", bindings, frame, "")

    # formulas, behaviours, doctest outputs ---------------------------------------------
    def _formula(self, line: int, value: object, frame: FrameType) -> None:
        claim = self.claims[line]
        formula = parse_formula(claim.text, frozenset(_names(claim.text)))
        if formula is None:  # pragma: no cover - the claim was found by parsing this text
            raise ValueError("the formula does not parse")
        values: dict[str, object] = {}
        for name in formula.names:
            found, named = self._resolve(name, frame)
            if not found:
                self._record(line, "unchecked", claim.text, "", f"no variable named {name} here")
                return
            values[name] = named
        import torch

        if not isinstance(value, torch.Tensor | int | float) or isinstance(value, bool):
            why = f"a {type(value).__name__} is not a tensor or number to compare with a formula"
            self._record(line, "unchecked", claim.text, "", why)
            return
        expected = evaluate(formula, values, value)
        equal, actual, why = compare(formula, value, expected)
        shown = f"{claim.text} element-wise"
        if equal:
            self._record(line, "passed", shown, shown, "")
        else:
            self._record(line, "failed", shown, actual, f"expected {shown}, got {why}")

    def _outcome(self, line: int, outcome: behaviours.Outcome) -> None:
        self._record(line, outcome.verdict, outcome.expected, outcome.actual, outcome.message)

    def _behaviour(self, line: int, value: object) -> None:
        parts = behaviours.read(self.claims[line].text) or []
        given = self.operands.pop(line, {})
        context = behaviours.Context(
            operands=[given[i] for i in sorted(given)],
            later=lambda outcome: self._later(line, outcome),
        )
        for behaviour, phrase in parts:
            assert behaviour.check is not None
            outcome = behaviour.check(phrase, value, context)
            if outcome is not None:
                self._outcome(line, outcome)

    def _last_module(self, line: int, names: tuple[str, ...], frame: FrameType) -> None:
        """A count on a line of its own: the first of ``names`` (latest first) that holds a
        module, or a count computed with ``numel`` (``int:`` names)."""
        import torch

        for modules in (True, False):  # a module first, else a count computed before
            for name in names:
                counted = name.startswith(COUNTED)
                found, value = self._resolve(name.removeprefix(COUNTED), frame)
                if not found or isinstance(value, torch.nn.Module) != modules:
                    continue
                if modules or (counted and type(value) is int):
                    shown = name.removeprefix(COUNTED)
                    for behaviour, phrase in behaviours.read(self.claims[line].text) or []:
                        assert behaviour.check is not None
                        outcome = behaviour.check(phrase, value, behaviours.Context())
                        if outcome is not None:
                            why = f"{outcome.message} ({shown})" if outcome.message else ""
                            self._record(
                                line, outcome.verdict, outcome.expected, outcome.actual, why
                            )
                    return
        shown = ", ".join(n.removeprefix(COUNTED) for n in names[:5])
        why = f"none of {shown} holds a module here: which module's parameters are counted?"
        self._record(line, "unchecked", "", "", why)

    def _later(self, line: int, outcome: behaviours.Outcome) -> None:
        with contextlib.suppress(Exception):  # a hook never breaks the lesson's forward pass
            self._outcome(line, outcome)

    def _around_call(self, line: int, phase: int, names: tuple[str, ...], frame: FrameType) -> None:
        parts = behaviours.read(self.claims[line].text) or []
        found, owner = self._resolve(names[0], frame)
        if not found:
            if phase == 1:
                self._record(line, "unchecked", "", "", f"no variable named {names[0]} here")
            return
        if phase == 0:
            self.states[line] = [b.before(m, owner) if b.before else None for b, m in parts]
            return
        states = self.states.pop(line, [None] * len(parts))
        for (behaviour, phrase), state in zip(parts, states, strict=True):
            assert behaviour.after is not None
            self._outcome(line, behaviour.after(phrase, owner, state))

    def _output(self, line: int, phase: int) -> None:
        """A doctest example's output: what it printed, and its value's repr, as doctest."""
        import doctest

        out = sys.stdout
        if phase == 0:
            self.marks.append(out.tell())
            return
        start = self.marks.pop() if self.marks else 0
        got = out.getvalue()[start:] if hasattr(out, "getvalue") else ""
        example = self.examples[line]
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
            self._record(line, "passed", want.strip(), got.strip(), "")
        elif example.pasted and line in self.unseeded and want.strip():
            # a reader's run draws other numbers: what the lesson shows is an illustration
            beyond = "" if _but_numbers(want) == _but_numbers(got) else " (and differs beyond them)"
            self._record(
                line,
                "unchecked",
                want.strip(),
                got.strip(),
                f"the output's numbers come from random values drawn without a seed in the "
                f"block (manual_seed): another run's cannot be compared{beyond}",
            )
        else:
            self._record(
                line,
                "failed",
                want.strip(),
                got.strip(),
                f"expected output {want.strip()!r}, got {got.strip()!r}",
            )

    @contextlib.contextmanager
    def expecting(self, line: int) -> Iterator[None]:
        """Around a console statement whose expected output (at ``line``) is an exception or
        a warning: the exception must be raised, of that type or a subclass (its message is
        shown, not compared: torch rewords its messages), and is then caught, as the console
        prints it and goes on; a warning of that category must be emitted."""
        import warnings

        want = self.examples[line].want if line in self.examples else ""
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
                    self._record(
                        line,
                        "failed",
                        exception[0],
                        found,
                        f"expected {exception[0]} to be raised, got {found}",
                    )
                    return
                self._record(line, "passed", exception[0], f"{type(error).__name__}: {error}", "")
                return
        if exception is not None:
            self._record(
                line,
                "failed",
                exception[0],
                "nothing raised",
                f"expected {exception[0]} to be raised, but the statement raised nothing",
            )
        if category is not None:
            names = [w.category.__name__ for w in seen]
            if any(c.__name__ == category for w in seen for c in w.category.__mro__):
                self._record(line, "passed", category, category, "")
            else:
                found = ", ".join(names) or "no warning"
                self._record(
                    line,
                    "failed",
                    category,
                    found,
                    f"expected a {category} warning, got {found}",
                )

    def _printed(self, line: int, phase: int) -> None:
        """A printed-value claim: marks stdout before each print (phases 0 and 2), then
        compares what they printed (phase 1). Passed when any call printed the claimed text,
        or all calls together did (a print in a loop)."""
        out = sys.stdout
        if phase != 1:
            try:
                mark = out.tell()
            except (OSError, ValueError, AttributeError):
                mark = -1
            if phase == 0:
                self.printed_marks[line] = [mark]
                self.printed_values.pop(line, None)
            else:
                self.printed_marks.setdefault(line, []).append(mark)
            return
        claim = self.claims[line]
        marks = self.printed_marks.pop(line, [])
        getvalue = getattr(out, "getvalue", None)
        if not marks or min(marks) < 0 or getvalue is None:
            why = "the output went elsewhere (sys.stdout was replaced): nothing to compare"
            self._record(line, "unchecked", claim.text, "", why)
            return
        if out.tell() >= STDOUT_LIMIT:
            why = f"the block printed over {STDOUT_LIMIT:,} characters before this: not kept"
            self._record(line, "unchecked", claim.text, "", why)
            return
        text = getvalue()
        candidates = [text[mark:] for mark in marks]
        if line in self.printed_values:
            value = self.printed_values.pop(line)
            shown = repr(value)  # a notebook shows the value after what was printed
            candidates = [c + shown for c in candidates] + [shown]
        matched, seen = self.printed_seen.get(line, (False, []))
        if len(seen) < MAX_SEEN:
            seen.append(candidates[0])
        try:
            matched = matched or any(output_matches(claim.text, c) for c in candidates)
            matched = matched or (len(seen) > 1 and output_matches(claim.text, "".join(seen)))
        except TooLong as error:
            self._record(line, "unchecked", claim.text, "", f"the output is too long: {error}")
            return
        self.printed_seen[line] = (matched, seen)
        checks = self.tallies[line].checks + 1 if line in self.tallies else 1
        expected = _shown(claim.text)
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
            tally = ClaimResult("passed", expected, _shown(candidates[0]), "", checks)
        elif note:
            why = f"{note} (printed {_shown(candidates[0], 80)})"
            tally = ClaimResult("unchecked", expected, _shown(candidates[0]), why, checks)
        else:
            calls = f" in {len(seen)} calls" if len(seen) > 1 else ""
            found = "; ".join(_shown(s, 200 // len(seen[:3])) for s in seen[:3])
            message = f"expected {expected}, found {found or repr('')}{calls}"
            tally = ClaimResult("failed", expected, _shown(candidates[0]), message, checks)
        self.tallies[line] = tally

    # checking --------------------------------------------------------------------------
    def _check(
        self,
        line: int,
        phase: int,
        shape: tuple[int, ...] | None,
        why: str,
        bindings: dict[str, int],
        frame: FrameType,
        name: str,
    ) -> None:
        claim = self.claims[line]
        when = ("before line", "after line")[phase] if len(claim.shapes) == 2 else ""
        prefix = f"{name}: " if name and len(claim.subject.split(",")) > 1 else ""
        if when:
            prefix += f"{when} {self._statement_line(claim, phase)}: "
        elif len(claim.shapes) == 3:  # (2, 3) @ (3, 4) -> (2, 4)
            prefix += ("left operand: ", "right operand: ", "result: ")[min(phase, 2)]
        expected: Shape = claim.shapes[min(phase, len(claim.shapes) - 1)]
        if shape is None:
            self._record(line, "unchecked", expected.text, "", prefix + why)
            return
        result = match(expected, shape, bindings, self._lookup(frame))
        message = result.message
        if message:
            message = prefix + message + self._call_site(frame)
        self._record(line, result.verdict, result.expected, format_dims(shape), message)

    @staticmethod
    def _statement_line(claim: Claim, phase: int) -> int:
        return claim.places[phase].line if phase < len(claim.places) else claim.line

    def _record(self, line: int, verdict: str, expected: str, actual: str, message: str) -> None:
        tally = self.tallies.setdefault(line, ClaimResult("not-run"))
        tally.add(verdict, expected, actual, message)

    def _resolve(self, dotted: str, frame: FrameType) -> tuple[bool, Any]:
        root, *attrs = dotted.split(".")
        scopes = (frame.f_locals, frame.f_globals, frame.f_builtins)
        for scope in scopes:
            if root in scope:
                value = scope[root]
                break
        else:
            return False, None
        for attr in attrs:
            try:
                value = getattr(value, attr)
            except AttributeError:
                return False, None
        return True, value

    def _lookup(self, frame: FrameType) -> Callable[[str], int | None]:
        """Values a dimension name may take before binding freely: locals and self, no global."""
        at_top = frame.f_code.co_name == "<module>"
        local = frame.f_locals

        def lookup(name: str) -> int | None:
            if at_top:
                return _int(local.get(name)) if name in self.block_names else None
            found = _int(local.get(name))
            if found is None and "self" in local:
                try:
                    found = _int(getattr(local["self"], name))
                except Exception:
                    found = None
            return found

        return lookup

    def _call_site(self, frame: FrameType) -> str:
        """`` (in the call from line N)`` for a claim inside a function."""
        if frame.f_code.co_name == "<module>":
            return ""
        outer: FrameType | None = frame.f_back
        line = None
        while outer is not None:  # through torch's frames too: the outermost lesson line
            if outer.f_code.co_filename == self.filename:
                line = outer.f_lineno
            outer = outer.f_back
        return f" (in the call from line {line})" if line is not None else ""
