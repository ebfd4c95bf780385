"""One lesson page: the lesson's results, its text (read only where ``refused`` allows), and the
summary at its top: counts per device, coverage, the failures list (each failure a link, with
previous/next links where it lands), unchecked claims and prose comments.

``harness.report.article`` lays the page out (every view and anchor) and then renders it.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from markupsafe import Markup

from harness.lesson import Lesson, parse_lesson
from harness.lesson.errors import LessonError
from harness.report.blocks import Layout, coverage_of, losses_of, prose_of
from harness.report.inputs import JSON, BenchEntry, device_key, refused, text
from harness.report.views import BlockView, Counts, Coverage, Failure, ProseLine, Step, steps
from harness.results import LessonRecord, Status, Verdict

HTML_COMMENT = re.compile(r"<!--(?:>|->|.*?-->)", re.DOTALL)  # ``<!-->``, ``<!--->`` too


def uncommented(value: str) -> str:
    """``value`` without HTML comments (a title ``Sly <!-- x --> lesson`` reads ``Sly lesson``)."""
    return " ".join(HTML_COMMENT.sub(" ", value).split()) if "<!--" in value else value


@dataclass
class LessonPage:
    """Everything one lesson page shows; ``harness.report.article.lay_out`` fills it in."""

    lesson: LessonRecord
    devices: list[str]
    file: str
    benchmarks: list[BenchEntry]
    raw: JSON = field(default_factory=dict)  # the lesson's JSON, for what ``lesson`` lacks
    source: str | None = None
    source_problem: str = ""
    parsed: Lesson | None = None  # the lesson text, parsed; None: missing or does not parse
    parse_problem: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    article: Markup = field(default_factory=Markup)
    leftovers: list[BlockView] = field(default_factory=list)
    layout: Layout | None = None
    failure_list: list[Failure] | None = None
    steps: dict[str, Step] = field(default_factory=dict)  # failure places, by anchor

    @property
    def path(self) -> str:
        return self.lesson.path

    @property
    def title(self) -> str:
        title = self.meta.get("title") or self.lesson.title or self.lesson.id
        return uncommented(text(title))

    @property
    def description(self) -> str:
        return text(self.meta.get("description"))

    @property
    def failing(self) -> bool:
        return bool(self.failures())

    def read_source(self, root: Path | None = None, checked: Collection[str] = ()) -> None:
        """Read the lesson text from ``path``, relative to ``root`` (default: the current dir).

        Only a lesson the run ``checked``, or a path ``refused`` lets through, is read; only a
        regular file (a FIFO would block).
        """
        file = Path(self.path)
        if root is not None and not file.is_absolute():
            file = root / file
        why = "" if self.path in checked else refused(self.path, root)
        if why:
            self.source_problem = f"was not read: {why}"
            return
        try:
            if file.exists() and not file.is_file():
                self.source_problem = "is not a regular file"
                return
            raw = file.read_bytes()
        except FileNotFoundError:
            self.source_problem = "was not found"
            return
        except OSError as error:
            self.source_problem = f"cannot be read ({error.strerror})"
            return
        try:
            self.source = raw.decode("utf-8").removeprefix("\ufeff")
        except UnicodeDecodeError as error:
            self.source_problem = f"is not UTF-8 (byte {error.start})"
            return
        try:
            self.parsed = parse_lesson(self.source, self.path)
        except LessonError as error:  # it changed since the run: the article is still shown
            self.parse_problem = str(error)

    # ---- the summary

    def coverage(self) -> Coverage | None:
        return coverage_of(self.lesson)

    def prose(self) -> list[ProseLine]:
        shown = self.layout.shown_lines if self.layout is not None else set()
        return prose_of(self.lesson, shown)

    def counts(self) -> Counts:
        blocks: dict[str, dict[str, int]] = {d: {} for d in self.devices}
        claims: dict[str, dict[str, int]] = {d: {} for d in self.devices}
        for block in self.lesson.blocks:
            for device in self.devices:
                found = block.results.get(device)
                state = (found.status if found is not None else "") or Status.NOT_RUN
                blocks[device][state] = blocks[device].get(state, 0) + 1
        for claim in self.lesson.claims:
            for device in self.devices:
                said = claim.results.get(device)
                state = (said.verdict if said is not None else "") or Verdict.NOT_RUN
                claims[device][state] = claims[device].get(state, 0) + 1
        return Counts(blocks, claims)

    def note_failures(self) -> None:
        """List the failures and where each lands (once the layout knows every anchor)."""
        self.failure_list = self._failures()
        self.steps = steps(self.failure_list)

    def failures(self) -> list[Failure]:
        if self.failure_list is None:
            self.note_failures()
        return self.failure_list or []

    def _layout(self) -> Layout:
        if self.layout is None:
            self.layout = Layout(self.lesson, self.devices, self.benchmarks, losses_of(self.raw))
        return self.layout

    def _failures(self) -> list[Failure]:
        layout = self._layout()
        found: list[Failure] = []
        for block in self.lesson.blocks:
            line = block.line
            for device, result in sorted(block.results.items(), key=lambda i: device_key(i[0])):
                error = result.error
                if result.status == Status.NEEDS:  # what the machine lacks: not a failure
                    error = None
                if error is not None:
                    anchor = layout.error_anchor.get((line, device), f"B{line}")
                    said = f"{error.type}: {error.message}"
                    found.append(Failure(error.line or line, device, anchor, said))
                elif result.status == Status.FAILED and not self._claim_failed(line, device):
                    said = result.reason or "the block failed"
                    found.append(Failure(line, device, f"B{line}", said))
                if "ran-elsewhere" in result.flags:
                    anchor = layout.moved_anchor.get((line, device), f"B{line}")
                    shares = ", ".join(f"{d} {s:.0%}" for d, s in result.census.items())
                    said = "ran-elsewhere: the block ran its torch operations on " + (
                        shares or "another device"
                    )
                    found.append(Failure(result.moved_at or line, device, anchor, said))
        for view in layout.claims:
            for claimed in view.results:
                if claimed.verdict == Verdict.FAILED:
                    what = f"claimed {claimed.expected or view.text}"
                    if claimed.actual:
                        what += f", found {claimed.actual}"
                    if claimed.message:
                        what += f" ({claimed.message})"
                    subject = f"{view.subject}: " if view.subject else ""
                    anchor = layout.claim_anchor.get(view.line, f"L{view.line}")
                    found.append(Failure(view.line, claimed.device, anchor, subject + what))
        return sorted(found, key=lambda f: (f.line, device_key(f.device)))

    def _claim_failed(self, block: int, device: str) -> bool:
        """A claim of the block failed on the device (the block's failure, already listed)."""
        return any(
            claim.block == block
            and any(r.device == device and r.verdict == Verdict.FAILED for r in claim.results)
            for claim in self._layout().claims
        )

    def unchecked(self) -> list[Failure]:
        layout = self._layout()
        found = []
        for view in layout.claims:
            for result in view.results:
                if result.verdict == Verdict.UNCHECKED:
                    anchor = layout.claim_anchor.get(view.line, f"L{view.line}")
                    said = (
                        f"{view.subject or view.text}: {result.message or 'could not be checked'}"
                    )
                    found.append(Failure(view.line, result.device, anchor, said))
        return found
