"""What a reader sees, as typed views: a claim and its verdicts, a block, a line, the counts.

The views are built from the results (``harness.report.blocks``) before anything is rendered;
the templates only read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from markupsafe import Markup

from harness.lesson.directives import Directives
from harness.report.charts import Chart
from harness.report.formatting import duration, label
from harness.report.inputs import BenchEntry
from harness.results import Status, Verdict, worst

BLOCK_STATES: tuple[str, ...] = tuple(Status)  # in the order the counts show them
CLAIM_STATES: tuple[str, ...] = tuple(Verdict)
SYMBOLS: dict[str, str] = {
    Verdict.PASSED: "\u2713",
    Verdict.FAILED: "\u2717",
    Verdict.UNCHECKED: "?",
    Verdict.NOT_RUN: "\u2013",
}
COVERAGE_FIELDS = ("comments", "claims", "checked", "unchecked", "not_run", "prose")


@dataclass
class ClaimResultView:
    device: str
    verdict: str
    expected: str
    actual: str
    message: str
    checks: int


@dataclass
class ClaimView:
    line: int
    text: str
    subject: str
    kind: str
    block: int | None
    results: list[ClaimResultView]
    anchor: str = ""

    @property
    def notes(self) -> list[tuple[list[str], ClaimResultView]]:
        """Results other than passed, those alike on several devices said once."""
        groups: dict[tuple[str, str, str, str], tuple[list[str], ClaimResultView]] = {}
        for result in self.results:
            if result.verdict != Verdict.PASSED:
                key = (result.verdict, result.expected, result.actual, result.message)
                groups.setdefault(key, ([], result))[0].append(result.device)
        return list(groups.values())

    @property
    def verdict(self) -> str:
        """The line's verdict over every device: failed, unchecked, passed, then not-run."""
        return worst((r.verdict for r in self.results), Verdict.NOT_RUN)

    @property
    def symbol(self) -> str:
        """The verdict as the line-number gutter shows it (``SYMBOLS``)."""
        return SYMBOLS.get(self.verdict, "\u2022")

    @property
    def summary(self) -> str:
        """The verdict per device in words (the gutter mark's title)."""
        return ", ".join(f"{r.device}: {label(r.verdict)}" for r in self.results)


@dataclass
class ErrorView:
    device: str
    type: str
    message: str
    line: int | None
    traceback: str
    anchor: str = ""
    linked: bool = True  # ``line`` is a line of code on the page (not a directive's, say)


@dataclass
class NoteView:
    line: int
    kind: str
    message: str


@dataclass
class DeviceResult:
    device: str
    status: str
    seconds: float | None
    reason: str
    census: dict[str, float]
    flags: list[str]
    moved_at: int | None

    @property
    def title(self) -> str:
        parts = [f"{self.device}: {label(self.status)}"]
        if self.seconds:
            parts.append(duration(self.seconds))
        if self.census:
            parts.append(
                "torch ops " + ", ".join(f"{d} {s:.0%}" for d, s in sorted(self.census.items()))
            )
        if self.reason:
            parts.append(self.reason)
        return " · ".join(parts)


@dataclass
class Output:
    devices: list[str]
    text: str

    @property
    def lines(self) -> int:
        return len(self.text.rstrip("\n").split("\n"))


@dataclass
class LineView:
    number: int
    html: Markup
    claim: ClaimView | None = None
    errors: list[ErrorView] = field(default_factory=list)
    notes: list[NoteView] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)  # devices whose work this line moved away
    prose: str | None = None  # the comment on this line claims nothing checkable
    continues: ClaimView | None = None  # a further line of a multi-line expected output

    @property
    def classes(self) -> str:
        names = ["line"]
        if self.claim is not None:
            names += ["claim", self.claim.verdict]
        elif self.continues is not None:
            names += ["continued", self.continues.verdict]
        elif self.prose is not None:
            names.append("prose")
        if self.errors:
            names.append("error")
        if self.notes or self.moved:
            names.append("noted")
        return " ".join(names)


@dataclass
class Need:
    name: str
    line: int | None


@dataclass
class DirectiveLabel:
    """A directive of the block, said in words: the article does not show the comment."""

    kind: str  # skip, raises, time-limit, replace
    text: str


def directive_labels(directives: Directives) -> list[DirectiveLabel]:
    """``skipped: why``, ``expects ValueError``, ``time limit 30 s``, ``runs with 'a' → 'b'``."""
    labels = []
    if directives.skip is not None:
        labels.append(DirectiveLabel("skip", f"skipped: {directives.skip}"))
    if directives.raises is not None:
        labels.append(DirectiveLabel("raises", f"expects {directives.raises}"))
    if directives.time_limit is not None:
        labels.append(DirectiveLabel("time-limit", f"time limit {directives.time_limit:g} s"))
    for _, old, new in directives.replacements:
        labels.append(DirectiveLabel("replace", f"runs with {old!r} → {new!r}"))
    return labels


@dataclass
class Coverage:
    """How many of a lesson's comments are claims, and how many of those were checked."""

    comments: int
    claims: int
    checked: int
    unchecked: int
    not_run: int
    prose: int

    @property
    def parts(self) -> list[tuple[str, int]]:
        """(what, how many) in reading order, for the summary and the index."""
        return [
            ("comments", self.comments),
            ("claims", self.claims),
            ("checked", self.checked),
            ("unchecked", self.unchecked),
            ("not run", self.not_run),
            ("prose", self.prose),
        ]


@dataclass
class ProseLine:
    line: int
    text: str
    shown: bool  # the line is on the page (it can be linked to)


@dataclass
class BlockView:
    line: int
    end_line: int | None
    language: str
    python: bool
    lines: list[LineView] | None  # None: the lesson text is not available
    claims: list[ClaimView]  # claims not shown on a line of ``lines``
    results: list[DeviceResult]
    outputs: list[Output]
    errors: list[ErrorView]  # errors not shown on a line of ``lines``
    needs: list[Need]
    bench: list[BenchEntry]  # the block's benchmark figures, one per device
    charts: list[Chart]
    notes: list[NoteView]
    directives: list[DirectiveLabel] = field(default_factory=list)
    hidden: bool = False  # written inside an HTML comment: runs, not shown in the article
    console: bool = False  # a console session: ``>>>`` prompts and expected outputs

    @property
    def anchor(self) -> str:
        return f"B{self.line}"

    @property
    def troubled(self) -> bool:
        """Something other than passed on some device: a hidden block then shows unfolded."""
        claims = self.claims + [ln.claim for ln in self.lines or [] if ln.claim is not None]
        return any(r.status not in (Status.PASSED, Status.SKIPPED) for r in self.results) or any(
            c.verdict in (Verdict.FAILED, Verdict.UNCHECKED) for c in claims
        )

    @property
    def moved(self) -> list[DeviceResult]:
        return [r for r in self.results if "ran-elsewhere" in r.flags]

    @property
    def reasons(self) -> list[tuple[list[str], str, str]]:
        """Why the block did not pass, per reason: (devices, status, reason)."""
        groups: dict[tuple[str, str], list[str]] = {}
        for result in self.results:
            if result.reason and result.status != Status.PASSED:
                groups.setdefault((result.status, result.reason), []).append(result.device)
        return [(devices, status, reason) for (status, reason), devices in groups.items()]


@dataclass
class Failure:
    line: int
    device: str
    anchor: str
    text: str


@dataclass
class Step:
    """A place the failures list links to, with the previous and next such place."""

    anchor: str
    number: int  # from 1, in the order of the failures list
    total: int
    previous: str  # the previous place's anchor ("": none)
    next: str  # the next place's anchor ("": none)


def steps(failures: list[Failure]) -> dict[str, Step]:
    """Each distinct anchor of ``failures``, in their order, by anchor."""
    anchors = list(dict.fromkeys(f.anchor for f in failures))
    return {
        anchor: Step(
            anchor=anchor,
            number=index + 1,
            total=len(anchors),
            previous=anchors[index - 1] if index else "",
            next=anchors[index + 1] if index + 1 < len(anchors) else "",
        )
        for index, anchor in enumerate(anchors)
    }


@dataclass
class Counts:
    """Per device: blocks by status and claims by verdict."""

    blocks: dict[str, dict[str, int]]
    claims: dict[str, dict[str, int]]

    def block_states(self) -> list[str]:
        used = {s for per in self.blocks.values() for s, n in per.items() if n}
        always = (Status.PASSED, Status.FAILED, Status.NOT_RUN)
        return [s for s in BLOCK_STATES if s in used or s in always] + [
            s for s in sorted(used) if s not in BLOCK_STATES
        ]

    def claim_states(self) -> list[str]:
        used = {s for per in self.claims.values() for s, n in per.items() if n}
        return list(CLAIM_STATES) + [s for s in sorted(used) if s not in CLAIM_STATES]

    def failed(self) -> int:
        return sum(
            per.get(Status.FAILED, 0)
            for part in (self.blocks, self.claims)
            for per in part.values()
        )
