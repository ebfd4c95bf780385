"""What a run found, per block, claim and device (``LessonResult``), and the same read back
from a results file (``Document``: ``harness.results.document.load_document``).

Statuses and verdicts are ``harness.results.status`` members; the fields are typed ``str``
while other modules still pass their literals (a member is its string).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from harness.lesson import Lesson
from harness.results import messages
from harness.results.messages import Message
from harness.results.status import Verdict, rank
from harness.static.depends import Need
from harness.static.lint import Note

if TYPE_CHECKING:  # claims imports harness.results.status: importing it here is a cycle
    from harness.claims import Claim, Comment

STDOUT_LIMIT = 64_000

JSON = dict[str, Any]


@dataclass
class ErrorInfo:
    type: str
    message: str
    line: int | None
    traceback: str = ""


@dataclass
class BlockResult:
    """One block on one device. status: a ``Status`` (passed, failed, needs, skipped,
    unsupported or not-run).

    ``needs``: the block stopped for what this machine lacks, not for the lesson (``need``
    says what: ``package vit_pytorch``, ``cuda``, ``mps``, ``network``); ``error`` keeps the
    exception. ``resumed_after``: the line of a block that ran past its time limit, after
    which this block ran in a new worker, from its snippet's prelude. ``losses``: the loss of
    each step of the training loop the block ran, if any (written only when there are some).
    """

    status: str
    seconds: float = 0.0
    stdout: str = ""
    error: ErrorInfo | None = None
    reason: str = ""
    census: dict[str, float] = field(default_factory=dict)  # share of torch ops per device
    flags: list[str] = field(default_factory=list)  # "ran-elsewhere"
    moved_at: int | None = None  # the lesson line that moved work off the device
    cached: bool = False  # answered from the cache (harness.run.cache), not run this time
    need: str = ""  # status needs: what this machine lacks
    resumed_after: int | None = None  # ran in a new worker after this block's time limit
    losses: list[float] = field(default_factory=list)  # a training loop's loss per step

    @staticmethod
    def from_json(data: JSON) -> BlockResult:
        """The result as ``to_json`` wrote it (strict: the cache validates first)."""
        error = ErrorInfo(**data["error"]) if data.get("error") else None
        return BlockResult(**{**data, "error": error})

    def needs_text(self) -> str:
        """``needs package x``, or ``needs what line 12 needs (package x)``."""
        return self.reason if self.reason.startswith("needs ") else f"needs {self.need}"


def _union(first: str, second: str) -> str:
    seen = {part for text in (first, second) for part in text.split(" | ") if part}
    return " | ".join(sorted(seen))


@dataclass
class ClaimResult:
    """One claim on one device. verdict: a ``Verdict`` (passed, failed, unchecked, not-run)."""

    verdict: str
    expected: str = ""
    actual: str = ""
    message: str = ""
    checks: int = 0

    def add(self, verdict: str, expected: str, actual: str, message: str) -> None:
        """Fold in one more check: failed beats unchecked beats passed; the first failure stays.

        Passing checks of a claim in a function called with different shapes keep every
        shape seen, sorted (``[32, 30, 64] | [8, 20, 64]``): the same whatever the order.
        """
        self.checks += 1
        if verdict == self.verdict == Verdict.PASSED:
            self.expected = _union(self.expected, expected)
            self.actual = _union(self.actual, actual)
        elif rank(verdict) > rank(self.verdict):
            self.verdict, self.expected, self.actual, self.message = (
                verdict,
                expected,
                actual,
                message,
            )

    def fold(self, other: ClaimResult) -> None:
        """Fold in another tally of this claim (the checks a later block made): folded in
        block order, the same as one tally of every check in reader order."""
        if other.checks:
            checks = self.checks + other.checks
            self.add(other.verdict, other.expected, other.actual, other.message)
            self.checks = checks


@dataclass
class LessonResult:
    """A lesson checked on some devices: results per block line and per claim line."""

    lesson: Lesson
    claims: list[Claim]
    devices: list[str]
    blocks: dict[int, dict[str, BlockResult]] = field(default_factory=dict)
    verdicts: dict[int, dict[str, ClaimResult]] = field(default_factory=dict)
    needs: dict[int, tuple[Need, ...]] = field(default_factory=dict)
    mode: str = "reader"
    notes: list[Note] = field(default_factory=list)
    prose: list[Comment] = field(default_factory=list)  # comments that claim nothing checkable
    absent: dict[str, str] = field(default_factory=dict)  # device asked for -> why it is not here

    def messages(self, strict: bool = False, standalone: bool = False) -> list[Message]:
        """Everything a check says about this lesson (``messages.lesson_messages``)."""
        return messages.lesson_messages(self, strict, standalone)

    def borrowing(self) -> list[str]:
        """Portability notes: ``path.md:LINE: uses nn from line 609, ...`` per block."""
        return [str(message) for message in messages.borrowing(self, standalone=True)]

    def lint(self) -> list[str]:
        """``path.md:LINE: [info] kind: message`` per static note."""
        return [str(message) for message in messages.lint(self)]

    def failures(self, strict: bool = False) -> list[str]:
        """One line per failure, ``path.md:LINE: [device] what``, in line order.

        Each is one line whatever the lesson's code raised or printed: control characters
        (a newline, ESC) are shown escaped (``one_line``), so no message can forge another.
        Blocks whose status is ``needs`` are not failures (``needs_lines`` says what they
        need) unless ``strict``: then each is one, ``[cpu] needs package x: ...``.
        """
        return [str(message) for message in messages.failures(self, strict)]

    def needs_lines(self) -> list[str]:
        """One information line per block and device whose status is ``needs``:
        ``path.md:LINE: [info] [cpu] needs package x: ModuleNotFoundError: ...``."""
        return [str(message) for message in messages.needs(self)]

    def counts(self) -> dict[str, int]:
        """Blocks by status over every device, as the closing line of a check counts them."""
        tally: dict[str, int] = {}
        for per_device in self.blocks.values():
            for result in per_device.values():
                tally[result.status] = tally.get(result.status, 0) + 1
        return tally

    def coverage(self) -> dict[str, int]:
        """How much of what the lesson's code says the harness checks.

        ``comments``: every ``#`` comment in a Python block; ``claims``: comments recognised
        as claims, plus docstring entries and doctest outputs; ``checked``: claims passed or
        failed on some device; ``unchecked``: understood but not decidable (with why);
        ``not_run``: never reached; ``prose``: comments that claim nothing checkable.
        """
        decided = {Verdict.PASSED, Verdict.FAILED}
        outcomes = [
            {v.verdict for v in self.verdicts.get(claim.line, {}).values()} for claim in self.claims
        ]
        checked = sum(1 for seen in outcomes if seen & decided)
        unchecked = sum(1 for seen in outcomes if Verdict.UNCHECKED in seen and not seen & decided)
        from_comments = sum(1 for claim in self.claims if claim.source == "comment")
        return {
            "comments": from_comments + len(self.prose),
            "claims": len(self.claims),
            "checked": checked,
            "unchecked": unchecked,
            "not_run": len(self.claims) - checked - unchecked,
            "prose": len(self.prose),
        }

    def coverage_lines(self) -> list[str]:
        """``harness check --coverage``: the counts, then each unchecked claim and prose line."""
        return messages.coverage_lines(self)

    def to_json(self) -> JSON:
        """This lesson's entry of the results file (``document.lesson_json``)."""
        from harness.results.document import lesson_json

        return lesson_json(self)


# ------------------------------------------------------------------ a results file, read back


@dataclass
class NeedRecord:
    name: str
    line: int


@dataclass
class NoteRecord:
    line: int
    kind: str
    message: str


@dataclass
class ProseRecord:
    line: int
    text: str


@dataclass
class BlockRecord:
    """One fence's entry: where it is and its result per device."""

    line: int
    end_line: int | None = None
    language: str = ""
    info: str = ""
    needs: list[NeedRecord] = field(default_factory=list)
    mode: str = "reader"
    results: dict[str, BlockResult] = field(default_factory=dict)


@dataclass
class ClaimRecord:
    """One claim's entry: where and what it claims, and its verdict per device."""

    line: int
    text: str = ""
    kind: str = ""
    subject: str = ""
    block: int | None = None
    results: dict[str, ClaimResult] = field(default_factory=dict)


@dataclass
class LessonRecord:
    """One lesson of a results file. ``coverage``: as written (``LessonResult.coverage``);
    ``config``: the configuration file that applied (None: none, or not said)."""

    path: str
    id: str = ""
    title: str = ""
    notes: list[NoteRecord] = field(default_factory=list)
    coverage: dict[str, int] = field(default_factory=dict)
    prose: list[ProseRecord] = field(default_factory=list)
    blocks: list[BlockRecord] = field(default_factory=list)
    claims: list[ClaimRecord] = field(default_factory=list)
    config: str | None = None


@dataclass
class Document:
    """A whole results file (schema 1): the run's environment, its lessons, and the one-line
    problems of input it could not use."""

    schema: int | None = None
    environment: JSON = field(default_factory=dict)
    lessons: list[LessonRecord] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
