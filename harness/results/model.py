"""What a run found, and the JSON results file (schema 1) every report is built from.

The schema is a public contract (README, "JSON results"): fields may be added, never
renamed or removed.
"""

from __future__ import annotations

import platform
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from typing import Any

from harness.claims import Claim, Comment
from harness.lesson import Fence, Lesson
from harness.static.depends import Need
from harness.static.lint import Note

SCHEMA = 1
STDOUT_LIMIT = 64_000

JSON = dict[str, Any]

# What may not reach a terminal or an annotation as it is: C0 and C1 control characters (the
# newline that would start a forged message, ESC and CSI that colour or move the cursor), line
# and paragraph separators, bidirectional overrides, and lone surrogates (not text at all).
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
_SURROGATE = re.compile("[\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped(found: re.Match[str]) -> str:
    char = found.group()
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def one_line(text: str) -> str:
    """``text`` as one line that is safe on a terminal: control characters (``\\n``,
    ``\\x1b``, ...), line separators, bidirectional overrides and lone surrogates are shown
    escaped as Python writes them; everything else, backslashes included, stays as it is."""
    return _UNSAFE.sub(_escaped, text)


def valid_text(text: str) -> str:
    """``text`` without lone surrogates (undecodable output, a file name that is not UTF-8):
    each is shown escaped (``\\udc80``), so the text encodes as UTF-8 and as valid JSON."""
    return _SURROGATE.sub(_escaped, text) if _SURROGATE.search(text) else text


def valid_json(value: Any) -> Any:
    """A copy of a JSON value (``dict``, ``list``, ``str``, numbers) with every string, keys
    included, passed through ``valid_text``. Iterative: any depth ``json.loads`` accepts."""
    if not isinstance(value, dict | list | tuple):
        return valid_text(value) if isinstance(value, str) else value
    top: list[Any] = [None]
    work: list[tuple[Any, list[Any] | dict[Any, Any], Any]] = [(value, top, 0)]
    while work:
        item, into, key = work.pop()
        if isinstance(item, dict):
            copy: dict[Any, Any] = {}
            into[key] = copy
            for name, child in item.items():
                name = valid_text(name) if isinstance(name, str) else name
                copy[name] = None
                work.append((child, copy, name))
        elif isinstance(item, list | tuple):
            items: list[Any] = [None] * len(item)
            into[key] = items
            work.extend((child, items, index) for index, child in enumerate(item))
        else:
            into[key] = valid_text(item) if isinstance(item, str) else item
    return top[0]


@dataclass
class ErrorInfo:
    type: str
    message: str
    line: int | None
    traceback: str = ""


@dataclass
class BlockResult:
    """One block on one device. status: passed, failed, needs, skipped, unsupported or not-run.

    ``needs``: the block stopped for what this machine lacks, not for the lesson (``need``
    says what: ``package vit_pytorch``, ``cuda``, ``mps``, ``network``); ``error`` keeps the
    exception. ``resumed_after``: the line of a block that ran past its time limit, after
    which this block ran in a new worker, from its snippet's prelude.
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

    @staticmethod
    def from_json(data: JSON) -> BlockResult:
        return _block_from_json(data)

    def needs_text(self) -> str:
        """``needs package x``, or ``needs what line 12 needs (package x)``."""
        return self.reason if self.reason.startswith("needs ") else f"needs {self.need}"


_RANK = {"not-run": 0, "passed": 1, "unchecked": 2, "failed": 3}


def _block_from_json(data: JSON) -> BlockResult:
    error = ErrorInfo(**data["error"]) if data.get("error") else None
    return BlockResult(**{**data, "error": error})


def _union(first: str, second: str) -> str:
    seen = {part for text in (first, second) for part in text.split(" | ") if part}
    return " | ".join(sorted(seen))


@dataclass
class ClaimResult:
    """One claim on one device. verdict: passed, failed, unchecked or not-run."""

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
        if verdict == self.verdict == "passed":
            self.expected = _union(self.expected, expected)
            self.actual = _union(self.actual, actual)
        elif _RANK[verdict] > _RANK[self.verdict]:
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

    def borrowing(self) -> list[str]:
        """Portability notes: ``path.md:LINE: uses nn from line 609, ...`` per block."""
        notes = []
        for line, needs in sorted(self.needs.items()):
            if needs:
                names = ", ".join(f"{need.name} from line {need.line}" for need in needs)
                text = f"{self.lesson.path}:{line}: uses {names}; the block does not run alone"
                notes.append(one_line(text))
        return notes

    def lint(self) -> list[str]:
        path = self.lesson.path
        return [one_line(f"{path}:{n.line}: [info] {n.kind}: {n.message}") for n in self.notes]

    def block_status(self, fence: Fence, device: str) -> str:
        result = self.blocks.get(fence.line, {}).get(device)
        return result.status if result else "not-run"

    def failures(self, strict: bool = False) -> list[str]:
        """One line per failure, ``path.md:LINE: [device] what``, in line order.

        Each is one line whatever the lesson's code raised or printed: control characters
        (a newline, ESC) are shown escaped (``one_line``), so no message can forge another.
        Blocks whose status is ``needs`` are not failures (``needs_lines`` says what they
        need) unless ``strict``: then each is one, ``[cpu] needs package x: ...``.
        """
        path = self.lesson.path
        found: list[tuple[int, str]] = []
        for fence in self.lesson.fences:
            for device, result in self.blocks.get(fence.line, {}).items():
                if result.status == "needs" and not strict:
                    continue
                if result.error is not None:
                    line = result.error.line or fence.line
                    text = f"{result.error.type}: {result.error.message}"
                    if result.status == "needs":
                        text = f"{result.needs_text()}: {text}"
                    found.append((line, f"{path}:{line}: [{device}] {text}"))
        for fence in self.lesson.fences:
            for device, result in self.blocks.get(fence.line, {}).items():
                if "ran-elsewhere" in result.flags:
                    line = result.moved_at or fence.line
                    shares = ", ".join(f"{d} {s:.0%}" for d, s in result.census.items())
                    found.append(
                        (
                            line,
                            f"{path}:{line}: [{device}] ran-elsewhere: the block at line "
                            f"{fence.line} ran its torch operations on {shares}",
                        )
                    )
        for claim in self.claims:
            for device, verdict in self.verdicts.get(claim.line, {}).items():
                if verdict.verdict == "failed":
                    message = (
                        f"{claim.subject}: {verdict.message}" if claim.subject else verdict.message
                    )
                    found.append((claim.line, f"{path}:{claim.line}: [{device}] {message}"))
        return [one_line(text) for _, text in sorted(found, key=lambda item: item[0])]

    def needs_lines(self) -> list[str]:
        """One information line per block and device whose status is ``needs``:
        ``path.md:LINE: [info] [cpu] needs package x: ModuleNotFoundError: ...``."""
        path = self.lesson.path
        found: list[tuple[int, str]] = []
        for fence in self.lesson.fences:
            for device, result in self.blocks.get(fence.line, {}).items():
                if result.status != "needs":
                    continue
                line = (result.error.line if result.error else None) or fence.line
                why = f": {result.error.type}: {result.error.message}" if result.error else ""
                found.append((line, f"{path}:{line}: [info] [{device}] {result.needs_text()}{why}"))
        return [one_line(text) for _, text in sorted(found, key=lambda item: item[0])]

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
        outcomes = [
            {v.verdict for v in self.verdicts.get(claim.line, {}).values()} for claim in self.claims
        ]
        checked = sum(1 for seen in outcomes if seen & {"passed", "failed"})
        unchecked = sum(
            1 for seen in outcomes if "unchecked" in seen and not seen & {"passed", "failed"}
        )
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
        path, counts = self.lesson.path, self.coverage()
        lines = [
            f"{path}: coverage: {counts['comments']} comments, {counts['claims']} claims "
            f"({sum(1 for c in self.claims if c.source != 'comment')} from docstrings and "
            f"doctest outputs), {counts['checked']} checked, {counts['unchecked']} unchecked, "
            f"{counts['not_run']} not run, {counts['prose']} prose"
        ]
        for claim in self.claims:
            verdicts = self.verdicts.get(claim.line, {})
            for device, verdict in verdicts.items():
                if verdict.verdict in ("unchecked", "not-run"):
                    lines.append(
                        f"{path}:{claim.line}: [{device}] {verdict.verdict}: {claim.text}: "
                        f"{verdict.message}"
                    )
        lines += [f"{path}:{c.line}: prose: {c.text}" for c in self.prose]
        return [one_line(line) for line in lines]

    def to_json(self) -> JSON:
        lesson = self.lesson
        return {
            "path": lesson.path,
            "id": lesson.id,
            "title": lesson.title,
            "notes": [asdict(note) for note in self.notes],
            "coverage": self.coverage(),
            "prose": [{"line": c.line, "text": c.text} for c in self.prose],
            "blocks": [
                {
                    "line": fence.line,
                    "end_line": fence.end_line,
                    "language": fence.language,
                    "info": fence.info,
                    "needs": [
                        {"name": need.name, "line": need.line}
                        for need in self.needs.get(fence.line, ())
                    ],
                    "mode": self.mode,
                    "results": {
                        device: asdict(result)
                        for device, result in self.blocks.get(fence.line, {}).items()
                    },
                }
                for fence in lesson.fences
            ],
            "claims": [
                {
                    "line": claim.line,
                    "text": claim.text,
                    "kind": claim.kind,
                    "subject": claim.subject,
                    "block": claim.block,
                    "results": {
                        device: asdict(result)
                        for device, result in self.verdicts.get(claim.line, {}).items()
                    },
                }
                for claim in self.claims
            ],
        }


def environment(devices: Sequence[str]) -> JSON:
    try:
        torch_version = metadata.version("torch")  # without importing torch: cached runs stay fast
    except metadata.PackageNotFoundError:  # pragma: no cover - torch is a dependency
        torch_version = "not installed"
    return {
        "python": platform.python_version(),
        "torch": torch_version,
        "devices": list(devices),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "argv": sys.argv[1:],
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _fold(old: JSON | None, new: JSON) -> JSON:
    """Two verdicts of one claim on one device (checked in two runs) as one."""
    if old is None:
        return new
    merged = ClaimResult(**old)
    if new["checks"] or new["verdict"] != "not-run":
        merged.add(new["verdict"], new["expected"], new["actual"], new["message"])
        merged.checks = old["checks"] + new["checks"]
    return asdict(merged)


def merge_lessons(parts: Iterable[JSON]) -> list[JSON]:
    """Merge partial lesson results (some blocks, some devices each) by lesson path.

    Blocks and claims are matched by line; their per-device results are united. Used for
    pytest items (one block each) and for results files from several runners.
    """
    merged: dict[str, JSON] = {}
    for part in parts:
        lesson = merged.setdefault(part["path"], {**part, "blocks": [], "claims": []})
        for key in ("blocks", "claims"):
            by_line = {item["line"]: item for item in lesson[key]}
            for item in part[key]:
                if item["line"] in by_line and key == "claims":
                    results = by_line[item["line"]]["results"]
                    for device, verdict in item["results"].items():
                        results[device] = _fold(results.get(device), verdict)
                elif item["line"] in by_line:
                    by_line[item["line"]]["results"].update(item["results"])
                else:
                    by_line[item["line"]] = {**item, "results": dict(item["results"])}
            lesson[key] = sorted(by_line.values(), key=lambda entry: entry["line"])
    return sorted(merged.values(), key=lambda lesson: lesson["path"])


def results_json(lessons: Iterable[JSON], devices: Sequence[str], problems: Sequence[str]) -> JSON:
    """The whole results document. ``problems``: one-line messages for unusable lessons.

    Every string is valid text (``valid_json``): output that was not (a lone surrogate, bytes
    that are not UTF-8) is shown escaped, so the file is valid UTF-8 JSON and the report
    built from it is written whole.
    """
    document: JSON = valid_json(
        {
            "schema": SCHEMA,
            "environment": environment(devices),
            "lessons": list(lessons),
            "problems": list(problems),
        }
    )
    return document
