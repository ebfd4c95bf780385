"""One lesson's results as views: each claim's view built once, each block's view with its
claims, errors, notes and moved-at markers placed on the lines they name, and the anchors the
summary links to, all known before anything is rendered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.lesson import PYTHON_LANGUAGES, Fence, fence_language, is_console
from harness.report.charts import Chart, loss_chart
from harness.report.formatting import NO_RESULT
from harness.report.highlight import CONSOLE, highlight_lines
from harness.report.inputs import (
    JSON,
    BenchEntry,
    device_key,
    integer,
    mapping,
    mappings,
    same_file,
)
from harness.report.views import (
    COVERAGE_FIELDS,
    BlockView,
    ClaimResultView,
    ClaimView,
    Coverage,
    DeviceResult,
    ErrorView,
    LineView,
    Need,
    NoteView,
    Output,
    ProseLine,
    directive_labels,
)
from harness.results import BlockRecord, ClaimRecord, ClaimResult, LessonRecord, Status, Verdict


def detail(result: ClaimResult) -> str:
    """A verdict's message without a leading "expected X, found Y" the page already shows."""
    said = f"expected {result.expected}, found {result.actual}"
    if result.actual and result.message.startswith(said):
        return result.message[len(said) :].lstrip(":; ")
    return result.message


def claim_view(claim: ClaimRecord, devices: Sequence[str]) -> ClaimView:
    """A claim with its verdict on each device (``not-run``, "no result", where it has none)."""
    views = [
        ClaimResultView(
            device=device,
            verdict=result.verdict or Verdict.NOT_RUN,
            expected=result.expected,
            actual=result.actual,
            message=detail(result),
            checks=result.checks,
        )
        for device, result in sorted(claim.results.items(), key=lambda item: device_key(item[0]))
    ]
    for device in devices:
        if device not in claim.results:
            views.append(ClaimResultView(device, Verdict.NOT_RUN, "", "", "no result", 0))
    return ClaimView(
        line=claim.line,
        text=claim.text,
        subject=claim.subject,
        kind=claim.kind,
        block=claim.block,
        results=views,
    )


def coverage_of(lesson: LessonRecord) -> Coverage | None:
    """The lesson's ``coverage``; None when the results have none (an older harness's)."""
    counts = [lesson.coverage.get(name) for name in COVERAGE_FIELDS]
    if any(count is None for count in counts):
        return None
    return Coverage(*(count or 0 for count in counts))


def notes_of(lesson: LessonRecord) -> list[NoteView]:
    notes = (NoteView(n.line, n.kind, n.message) for n in lesson.notes if n.line > 0)
    return sorted(notes, key=lambda n: n.line)


def prose_of(lesson: LessonRecord, shown: set[int]) -> list[ProseLine]:
    """The comments that claim nothing checkable, as the results list them (with a line: the
    loader reads a missing line as 0)."""
    prose = (ProseLine(p.line, p.text, p.line in shown) for p in lesson.prose if p.line > 0)
    return sorted(prose, key=lambda p: p.line)


def losses_of(lesson: JSON) -> dict[tuple[int, str], list[Any]]:
    """The losses each block recorded per device, by (block line, device), as the file has them.

    Read from the JSON as long as ``BlockResult`` has no ``losses`` (the run records them).
    """
    found: dict[tuple[int, str], list[Any]] = {}
    for block in mappings(lesson.get("blocks")):
        line = integer(block.get("line"))
        for device, result in mapping(block.get("results")).items():
            losses = mapping(result).get("losses")
            if line is not None and isinstance(losses, list) and losses:
                found[(line, str(device))] = losses
    return found


def bench_views(
    benchmarks: Sequence[BenchEntry], path: str, line: int
) -> tuple[list[BenchEntry], dict[str, list[Any]]]:
    """The benchmark figures of the block at ``line``, and its losses per device."""
    views: list[BenchEntry] = []
    losses: dict[str, list[Any]] = {}
    for entry in benchmarks:
        if not entry.located or entry.block != line or not same_file(entry.lesson, path):
            continue
        views.append(entry)
        if entry.losses:
            losses.setdefault(entry.device, list(entry.losses))
    views.sort(key=lambda view: device_key(view.device))
    return views, losses


@dataclass
class Layout:
    """The views of one lesson page, built in the order the article shows its blocks.

    ``block`` is called once per block shown (in order): a claim goes to the first block that
    owns it; the anchors the summary links to are filled in as the views are built.
    """

    lesson: LessonRecord
    devices: list[str]
    benchmarks: list[BenchEntry]
    losses: dict[tuple[int, str], list[Any]] = field(default_factory=dict)  # ``losses_of``
    has_source: bool = True  # the lesson text was read (else no block shows its code)
    fences: dict[int, Fence] | None = None  # by opening line; None: the text does not parse
    code_lines: set[int] = field(default_factory=set)  # lines of code the page shows
    claims: list[ClaimView] = field(default_factory=list)
    notes: list[NoteView] = field(default_factory=list)
    views: dict[int, BlockView] = field(default_factory=dict)  # by opening line
    hidden_in: dict[int, list[int]] = field(default_factory=dict)  # comment line -> its blocks
    claim_anchor: dict[int, str] = field(default_factory=dict)
    error_anchor: dict[tuple[int, str], str] = field(default_factory=dict)
    moved_anchor: dict[tuple[int, str], str] = field(default_factory=dict)
    shown_claims: set[int] = field(default_factory=set)
    shown_lines: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.claims = [claim_view(c, self.devices) for c in self.lesson.claims]
        self.notes = notes_of(self.lesson)

    @property
    def path(self) -> str:
        return self.lesson.path

    def block(
        self, line: int, info: str, code: str | None, end_line: int | None, hidden: bool
    ) -> BlockView:
        """The block whose opening fence is ``line``; ``code`` None when the text is missing.

        ``code`` is the block as the markdown has it (prompts and outputs of a console session
        included), never the code the harness ran.
        """
        fence = (self.fences or {}).get(line)
        block = next((b for b in self.lesson.blocks if b.line == line), None)
        language = fence_language(info) or (block.language if block is not None else "")
        if end_line is None and block is not None:
            end_line = block.end_line
        first, last = line + 1, (end_line if end_line is not None else line)
        results, errors, outputs, raw_losses, needs = self._results(line, block)
        bench, bench_losses = bench_views(self.benchmarks, self.path, line)
        charts: list[Chart] = []
        for device in sorted(set(raw_losses) | set(bench_losses), key=device_key):
            source = "run" if device in raw_losses else "benchmark"
            chart = loss_chart(device, raw_losses.get(device) or bench_losses[device], source)
            if chart is not None:
                charts.append(chart)
        claims = [
            c
            for c in self.claims
            if c.line not in self.shown_claims
            and (c.block == line or (c.block is None and first <= c.line <= last))
        ]
        view = BlockView(
            line=line,
            end_line=end_line,
            language=language,
            python=language in PYTHON_LANGUAGES,
            lines=None,
            claims=claims,
            results=results,
            outputs=outputs,
            errors=errors,
            needs=needs,
            bench=bench,
            charts=charts,
            notes=[n for n in self.notes if first <= n.line <= last],
            directives=directive_labels(fence.directives) if fence is not None else [],
            hidden=hidden or (fence is not None and fence.hidden),
            console=(
                fence.doctest
                if fence is not None
                else code is not None
                and language in PYTHON_LANGUAGES
                and is_console(language, code)
            ),
        )
        if code is not None:
            self._place_on_lines(view, code)
        self._anchor(view, errors, unplaced_prefix="C" if self.has_source else "L")
        self.views.setdefault(line, view)
        return view

    def _results(
        self, line: int, block: BlockRecord | None
    ) -> tuple[list[DeviceResult], list[ErrorView], list[Output], dict[str, list[Any]], list[Need]]:
        """The block's results per device: statuses, errors, outputs, losses and needs."""
        found = block.results if block is not None else {}
        results: list[DeviceResult] = []
        errors: list[ErrorView] = []
        outputs: dict[str, Output] = {}
        losses: dict[str, list[Any]] = {}
        needs = [Need(n.name, n.line) for n in block.needs] if block is not None else []
        for device in sorted(set(found) | set(self.devices), key=device_key):
            result = found.get(device)
            if result is None:
                status = Status.NOT_RUN if block is not None else NO_RESULT
                reason = "no result for this device" if block is not None else "not in the results"
                results.append(DeviceResult(device, status, None, reason, {}, [], None))
                continue
            results.append(
                DeviceResult(
                    device=device,
                    status=result.status or Status.NOT_RUN,
                    seconds=result.seconds or None,
                    reason=result.reason,
                    census=dict(result.census),
                    flags=list(result.flags),
                    moved_at=result.moved_at,
                )
            )
            error = result.error
            if error is not None:
                errors.append(
                    ErrorView(
                        device=device,
                        type=error.type or "Error",
                        message=error.message,
                        line=error.line,
                        traceback=error.traceback,
                        anchor=f"E{line}-{len(errors) + 1}",
                        linked=error.line in self.code_lines,
                    )
                )
            if result.stdout:
                outputs.setdefault(result.stdout, Output([], result.stdout)).devices.append(device)
            recorded = getattr(result, "losses", None) or self.losses.get((line, device))
            if recorded:
                losses[device] = list(recorded)
        return results, errors, list(outputs.values()), losses, needs

    def _anchor(self, view: BlockView, errors: list[ErrorView], unplaced_prefix: str) -> None:
        """Note where the summary's links land: claims, errors and moved-at lines."""
        for claim in view.claims:
            claim.anchor = f"{unplaced_prefix}{claim.line}"
        for claim in view.claims + [ln.claim for ln in view.lines or [] if ln.claim]:
            self.shown_claims.add(claim.line)
            self.claim_anchor[claim.line] = claim.anchor
        placed = {id(e) for ln in view.lines or [] for e in ln.errors}
        for error in errors:
            at = f"L{error.line}" if id(error) in placed else error.anchor
            self.error_anchor[(view.line, error.device)] = at
        for result in view.moved:
            self.moved_anchor[(view.line, result.device)] = view.anchor
        for line_view in view.lines or []:
            for device in line_view.moved:
                self.moved_anchor[(view.line, device)] = f"L{line_view.number}"

    def _place_on_lines(self, view: BlockView, code: str) -> None:
        """Put claims, errors, lesson notes and moved-at markers on the lines they name."""
        lexer = CONSOLE if view.console else view.language
        lines = [
            LineView(number=view.line + 1 + index, html=html)
            for index, html in enumerate(highlight_lines(code, lexer))
        ]
        by_number = {line.number: line for line in lines}
        self.shown_lines.update(by_number)
        kept: list[ClaimView] = []
        for claim in view.claims:
            target = by_number.get(claim.line)
            if target is not None and target.claim is None:
                claim.anchor = f"L{claim.line}"
                target.claim = claim
                if view.console and claim.kind == "output":  # its further output lines
                    for number in range(claim.line + 1, claim.line + claim.text.count("\n") + 1):
                        more = by_number.get(number)
                        if more is not None and more.claim is None:
                            more.continues = claim
            else:
                kept.append(claim)
        view.claims = kept
        for prose in prose_of(self.lesson, set(by_number)):
            target = by_number.get(prose.line)
            if target is not None:
                target.prose = prose.text
        elsewhere: list[ErrorView] = []
        for error in view.errors:
            target = by_number.get(error.line) if error.line is not None else None
            if target is not None:
                target.errors.append(error)
            else:
                elsewhere.append(error)
        view.errors = elsewhere
        unplaced: list[NoteView] = []
        for note in view.notes:
            target = by_number.get(note.line)
            if target is not None:
                target.notes.append(note)
            else:
                unplaced.append(note)
        view.notes = unplaced
        for result in view.moved:
            target = by_number.get(result.moved_at) if result.moved_at is not None else None
            if target is not None:
                target.moved.append(result.device)
        view.lines = lines
