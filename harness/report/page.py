"""HTML reports built from JSON results files (and pytest-benchmark JSON): issue 6.

``write_report`` renders, without re-running anything, ``index.html`` (every lesson with its
counts per device, the environment of each run, the problems) and one page per lesson: the
article itself (markdown-it-py), each code block decorated where it is written: a status badge
per device, each claim's line marked with its verdict, stdout folded under the block, an error
at its line, dependency notes, benchmark figures and loss curves as inline SVG.

Several results documents (a CPU runner's, a GPU runner's) merge into one report, one column
per device (``harness.results.merge_lessons``). Pages are self-contained (inline CSS and SVG,
no script, nothing fetched) and everything that comes from a lesson or its output is escaped:
Jinja2 autoescapes, markdown-it runs with ``html`` off, Pygments escapes the code.

HTML comments render as nothing, as on GitHub: a lesson's directives
(``<!-- harness: skip "why" -->``) are shown instead as labels on their block, read with
``harness.lesson.parse_lesson``, and a hidden block (``<!-- harness: hidden`` + a fence +
``-->``) is shown folded where its comment stands.

The report reads no file but the lessons: a lesson path from a results file is read only when
it names a ``.md`` file inside the current folder (``root``) once symlinks are resolved
(``refused``); ``harness report`` refuses a results file naming any other (one line, exit 2).
Text that is not valid (a lone surrogate in output) is shown escaped (``valid_json``).
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.rules_block import StateBlock
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from markupsafe import Markup
from mdit_py_plugins.anchors import anchors_plugin
from mdit_py_plugins.front_matter import front_matter_plugin
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import PythonLexer, TextLexer, get_lexer_by_name
from pygments.util import ClassNotFound

from harness.lesson import (
    PYTHON_LANGUAGES,
    Fence,
    fence_language,
    front_matter,
    is_console,
    parse_lesson,
)
from harness.lesson.directives import Directives
from harness.lesson.errors import LessonError
from harness.results import ClaimResult, merge_lessons, valid_json

JSON = dict[str, Any]

TEMPLATES = Path(__file__).resolve().parent / "templates"
KNOWN_SCHEMA = 1
PYGMENTS_STYLE = "friendly"
CONSOLE = "pycon"  # the lexer of console sessions (``>>>`` prompts and their outputs)
_HTML_COMMENT = re.compile(r"<!--(?:>|->|.*?-->)", re.DOTALL)  # ``<!-->``, ``<!--->`` too
COVERAGE_FIELDS = ("comments", "claims", "checked", "unchecked", "not_run", "prose")

BLOCK_STATES = ("passed", "failed", "needs", "skipped", "unsupported", "not-run")
CLAIM_STATES = ("passed", "failed", "unchecked", "not-run")
_RANK = {
    "not-run": 0,
    "skipped": 1,
    "passed": 2,
    "needs": 3,
    "unsupported": 3,
    "unchecked": 3,
    "failed": 4,
}
LABELS = {"not-run": "not run", "no-result": "no result"}


def label(state: str) -> str:
    return LABELS.get(state, state)


# --------------------------------------------------------------------------- reading input


def read_inputs(paths: Iterable[Path], root: Path | None = None) -> tuple[list[JSON], list[JSON]]:
    """Results documents and pytest-benchmark documents among ``paths``, told apart by content.

    Raises ValueError (one line) naming a file that is neither (or is not JSON), or a results
    file with a lesson path the report may not read (``refused``; ``root``: default the
    current directory).
    """
    documents: list[JSON] = []
    benchmarks: list[JSON] = []
    for path in paths:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as error:
            raise ValueError(f"{path}: cannot be read ({error.strerror or error})") from None
        except UnicodeDecodeError as error:
            raise ValueError(f"{path}: is not UTF-8 (byte {error.start})") from None
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}: is not JSON ({error})") from None
        except RecursionError:
            raise ValueError(f"{path}: is not usable JSON (nested too deeply)") from None
        if isinstance(data, dict) and "lessons" in data:
            for lesson in _dicts(data["lessons"]):
                why = refused(lesson.get("path"), root)
                if why:
                    raise ValueError(f"{path}: lesson path {lesson['path']!r} refused: {why}")
            documents.append(data)
        elif isinstance(data, dict) and isinstance(data.get("benchmarks"), list):
            benchmarks.append(data)
        else:
            raise ValueError(f"{path}: neither JSON results nor pytest-benchmark JSON")
    return documents, benchmarks


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _dict(value: Any) -> JSON:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dicts(value: Any) -> list[JSON]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _detail(result: JSON) -> str:
    """A verdict's message without a leading "expected X, found Y" the page already shows."""
    message = _text(result.get("message"))
    said = f"expected {_text(result.get('expected'))}, found {_text(result.get('actual'))}"
    if result.get("actual") and message.startswith(said):
        return message[len(said) :].lstrip(":; ")
    return message


def _device_key(device: str) -> tuple[bool, str]:
    return (device != "cpu", device)


# --------------------------------------------------------------------------- formatting


def duration(seconds: float | None) -> str:
    """``250 µs``, ``12 ms``, ``1.64 s``, ``2 min 5 s``."""
    if seconds is None:
        return ""
    if seconds < 0.001:
        return f"{seconds * 1e6:.3g} µs"
    if seconds < 1:
        return f"{seconds * 1000:.3g} ms"
    if seconds < 120:
        return f"{seconds:.3g} s"
    return f"{int(seconds // 60)} min {round(seconds % 60)} s"


def rate(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def when(text: str) -> str:
    """An ISO timestamp as ``2026-11-24 04:03 UTC``; anything else as given."""
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return text
    zone = moment.strftime("%Z") if moment.tzinfo else ""
    zone = "UTC" if zone in ("UTC", "UTC+00:00") else zone
    return f"{moment:%Y-%m-%d %H:%M} {zone}".strip()


# --------------------------------------------------------------------------- charts


@dataclass
class Chart:
    """A loss curve, drawn as an inline SVG polyline."""

    device: str
    source: str
    count: int
    first: float
    last: float
    low: float
    high: float
    points: str
    skipped: int
    width: int = 320
    height: int = 132
    left: int = 52
    top: int = 12
    right: int = 12
    bottom: int = 26

    @property
    def plot_width(self) -> int:
        return self.width - self.left - self.right

    @property
    def plot_height(self) -> int:
        return self.height - self.top - self.bottom

    @property
    def description(self) -> str:
        return (
            f"Loss on {self.device} over {self.count} steps: "
            f"{self.first:.4g} first, {self.last:.4g} last, {self.low:.4g} lowest"
        )


def loss_chart(device: str, losses: Sequence[Any], source: str) -> Chart | None:
    values = [v for v in (_number(x) for x in losses) if v is not None]
    if not values:
        return None
    chart = Chart(
        device=device,
        source=source,
        count=len(values),
        first=values[0],
        last=values[-1],
        low=min(values),
        high=max(values),
        points="",
        skipped=len(losses) - len(values),
    )
    span = (chart.high - chart.low) or 1.0
    steps = max(len(values) - 1, 1)
    coordinates = []
    for index, value in enumerate(values):
        x = chart.left + chart.plot_width * index / steps
        y = chart.top + chart.plot_height * (chart.high - value) / span
        coordinates.append(f"{x:.1f},{y:.1f}")
    chart.points = " ".join(coordinates)
    return chart


# --------------------------------------------------------------------------- views


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
            if result.verdict != "passed":
                key = (result.verdict, result.expected, result.actual, result.message)
                groups.setdefault(key, ([], result))[0].append(result.device)
        return list(groups.values())

    @property
    def verdict(self) -> str:
        """The line's verdict over every device: failed, unchecked, passed, then not-run."""
        states = [r.verdict for r in self.results] or ["not-run"]
        return max(states, key=lambda state: _RANK.get(state, 0))


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
class BenchView:
    device: str
    name: str
    mean: float | None
    stddev: float | None
    rounds: int | None
    steps: int | None
    samples: int | None
    steps_per_second: float | None
    samples_per_second: float | None


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

    @classmethod
    def of(cls, lesson: JSON) -> Coverage | None:
        """The lesson's ``coverage``; None when the results have none (an older harness's)."""
        found = _dict(lesson.get("coverage"))
        counts = [_int(found.get(name)) for name in COVERAGE_FIELDS]
        if not found or any(count is None for count in counts):
            return None
        return cls(*(count or 0 for count in counts))

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
    bench: list[BenchView]
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
        return any(r.status not in ("passed", "skipped") for r in self.results) or any(
            c.verdict in ("failed", "unchecked") for c in claims
        )

    @property
    def moved(self) -> list[DeviceResult]:
        return [r for r in self.results if "ran-elsewhere" in r.flags]

    @property
    def reasons(self) -> list[tuple[list[str], str, str]]:
        """Why the block did not pass, per reason: (devices, status, reason)."""
        groups: dict[tuple[str, str], list[str]] = {}
        for result in self.results:
            if result.reason and result.status != "passed":
                groups.setdefault((result.status, result.reason), []).append(result.device)
        return [(devices, status, reason) for (status, reason), devices in groups.items()]


@dataclass
class Failure:
    line: int
    device: str
    anchor: str
    text: str


@dataclass
class Counts:
    """Per device: blocks by status and claims by verdict."""

    blocks: dict[str, dict[str, int]]
    claims: dict[str, dict[str, int]]

    def block_states(self) -> list[str]:
        used = {s for per in self.blocks.values() for s, n in per.items() if n}
        return [s for s in BLOCK_STATES if s in used or s in ("passed", "failed", "not-run")] + [
            s for s in sorted(used) if s not in BLOCK_STATES
        ]

    def claim_states(self) -> list[str]:
        used = {s for per in self.claims.values() for s, n in per.items() if n}
        return list(CLAIM_STATES) + [s for s in sorted(used) if s not in CLAIM_STATES]

    def failed(self) -> int:
        return sum(
            per.get("failed", 0) for part in (self.blocks, self.claims) for per in part.values()
        )


# --------------------------------------------------------------------------- templates


@cache
def _environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["duration"] = duration
    environment.filters["rate"] = rate
    environment.filters["when"] = when
    environment.filters["label"] = label
    environment.globals["pygments_css"] = _pygments_css()
    return environment


def _pygments_css() -> Markup:
    """The highlighting style's token colours, scoped to ``.hl`` (no ``pre`` or line rules)."""
    style_defs: Callable[[str], str] = HtmlFormatter(style=PYGMENTS_STYLE).get_style_defs
    rules = style_defs(".hl").splitlines()  # (types-Pygments leaves the method unannotated)
    return Markup("\n".join(rule for rule in rules if rule.startswith(".hl .")))


@cache
def _lexer(language: str) -> Lexer:
    options: dict[str, Any] = {"stripnl": False, "stripall": False, "ensurenl": True}
    lexer: Lexer
    if language == CONSOLE:
        lexer = get_lexer_by_name(CONSOLE, **options)
    elif language in PYTHON_LANGUAGES:
        lexer = PythonLexer(**options)
    elif not language:
        lexer = TextLexer(**options)
    else:
        try:
            lexer = get_lexer_by_name(language, **options)
        except ClassNotFound:
            lexer = TextLexer(**options)
    return lexer


def highlight_lines(code: str, language: str) -> list[Markup]:
    """One highlighted, escaped HTML fragment per line of ``code``.

    Pygments' HtmlFormatter closes its spans at each line end, so its output splits into
    self-contained lines; if the counts ever disagree, the lines are escaped unhighlighted.
    """
    lines = code.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines:
        return []
    html = highlight("\n".join(lines) + "\n", _lexer(language), HtmlFormatter(nowrap=True))
    parts = html.split("\n")
    if parts and parts[-1] == "":
        parts.pop()
    if len(parts) != len(lines):
        return [Markup(escapeHtml(line)) for line in lines]
    return [Markup(part) for part in parts]


def refused(path: Any, root: Path | None = None) -> str:
    """Why the report may not read the lesson text at ``path`` ("" when it may).

    A lesson path read by the report must end in ``.md`` and, relative to ``root`` (default:
    the current directory) and with every symlink resolved, lie inside ``root``: so results
    naming ``/etc/passwd``, ``../../x.md`` or a link that leads out are never read.
    """
    if not isinstance(path, str):
        return ""  # no path: nothing is read (``_lesson_part`` leaves the lesson out)
    base = Path.cwd() if root is None else root
    rule = f"the report reads only .md files inside {base}"
    if not path.lower().endswith(".md"):
        return f"not a markdown file ({rule})"
    try:
        inside = Path(os.path.realpath(base / path)).is_relative_to(os.path.realpath(base))
    except (OSError, ValueError):
        inside = False
    return "" if inside else f"outside the folder ({rule})"


# --------------------------------------------------------------------------- one lesson


def _same_file(first: str, second: str) -> bool:
    """Whether two lesson paths name one file, also when one is absolute from another machine."""
    if first == second:
        return True
    a, b = Path(first), Path(second)
    try:
        if a.resolve() == b.resolve():
            return True
    except OSError:
        pass
    shorter, longer = sorted((a.parts, b.parts), key=len)
    if a.is_absolute() == b.is_absolute() or not shorter:
        return False
    tail = [p for p in shorter if p not in (".", "")]
    return bool(tail) and list(longer[-len(tail) :]) == tail


@dataclass
class LessonPage:
    """Everything one lesson page shows; ``render_article`` fills ``article`` and the anchors."""

    lesson: JSON
    devices: list[str]
    file: str
    benchmarks: list[JSON]
    source: str | None = None
    source_problem: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    article: Markup = field(default_factory=Markup)
    leftovers: list[BlockView] = field(default_factory=list)
    claim_anchor: dict[int, str] = field(default_factory=dict)
    error_anchor: dict[tuple[int, str], str] = field(default_factory=dict)
    moved_anchor: dict[tuple[int, str], str] = field(default_factory=dict)
    fences: dict[int, Fence] | None = None  # by opening line; None: the text does not parse
    parse_problem: str = ""
    _shown_blocks: set[int] = field(default_factory=set)
    _shown_claims: set[int] = field(default_factory=set)
    _shown_lines: set[int] = field(default_factory=set)
    _code_lines: set[int] = field(default_factory=set)

    @property
    def path(self) -> str:
        return _text(self.lesson.get("path"))

    @property
    def title(self) -> str:
        title = self.meta.get("title") or self.lesson.get("title") or self.lesson.get("id")
        return _uncommented(_text(title))

    @property
    def description(self) -> str:
        return _text(self.meta.get("description"))

    @property
    def failing(self) -> bool:
        return bool(self.failures())

    # ---- results, indexed

    def blocks(self) -> list[JSON]:
        return _dicts(self.lesson.get("blocks"))

    def claims(self) -> list[JSON]:
        return _dicts(self.lesson.get("claims"))

    def notes(self) -> list[NoteView]:
        found = []
        for note in _dicts(self.lesson.get("notes")):
            line = _int(note.get("line"))
            if line is not None:
                found.append(NoteView(line, _text(note.get("kind")), _text(note.get("message"))))
        return sorted(found, key=lambda n: n.line)

    def _is_code(self, line: int | None) -> bool:
        """Whether ``line`` is a line of code the page shows (one a link can land on)."""
        return line in self._code_lines

    def coverage(self) -> Coverage | None:
        return Coverage.of(self.lesson)

    def prose(self) -> list[ProseLine]:
        """The comments that claim nothing checkable, as the results list them."""
        found = []
        for item in _dicts(self.lesson.get("prose")):
            line = _int(item.get("line"))
            if line is not None:
                found.append(ProseLine(line, _text(item.get("text")), line in self._shown_lines))
        return sorted(found, key=lambda p: p.line)

    def counts(self) -> Counts:
        blocks: dict[str, dict[str, int]] = {d: {} for d in self.devices}
        claims: dict[str, dict[str, int]] = {d: {} for d in self.devices}
        for tally, items, key in (
            (blocks, self.blocks(), "status"),
            (claims, self.claims(), "verdict"),
        ):
            for item in items:
                results = _dict(item.get("results"))
                for device in self.devices:
                    result = results.get(device)
                    state = _text(result.get(key)) if isinstance(result, dict) else ""
                    state = state or "not-run"
                    tally[device][state] = tally[device].get(state, 0) + 1
        return Counts(blocks, claims)

    # ---- views

    def _claim_view(self, claim: JSON) -> ClaimView:
        results = _dict(claim.get("results"))
        views = []
        for device in sorted(results, key=_device_key):
            result = results[device]
            if not isinstance(result, dict):
                continue
            views.append(
                ClaimResultView(
                    device=device,
                    verdict=_text(result.get("verdict")) or "not-run",
                    expected=_text(result.get("expected")),
                    actual=_text(result.get("actual")),
                    message=_detail(result),
                    checks=_int(result.get("checks")) or 0,
                )
            )
        for device in self.devices:
            if device not in results:
                views.append(ClaimResultView(device, "not-run", "", "", "no result", 0))
        return ClaimView(
            line=_int(claim.get("line")) or 0,
            text=_text(claim.get("text")),
            subject=_text(claim.get("subject")),
            kind=_text(claim.get("kind")),
            block=_int(claim.get("block")),
            results=views,
        )

    def _bench(self, line: int) -> tuple[list[BenchView], dict[str, list[Any]]]:
        views: list[BenchView] = []
        losses: dict[str, list[Any]] = {}
        for document in self.benchmarks:
            for entry in _dicts(document.get("benchmarks")):
                extra = entry.get("extra_info")
                if not isinstance(extra, dict) or not {"lesson", "block", "device"} <= set(extra):
                    continue
                if _int(extra["block"]) != line or not _same_file(str(extra["lesson"]), self.path):
                    continue
                stats = _dict(entry.get("stats"))
                device = _text(extra["device"])
                views.append(
                    BenchView(
                        device=device,
                        name=_text(entry.get("name")),
                        mean=_number(stats.get("mean")),
                        stddev=_number(stats.get("stddev")),
                        rounds=_int(stats.get("rounds")),
                        steps=_int(extra.get("steps")),
                        samples=_int(extra.get("samples")),
                        steps_per_second=_number(extra.get("steps_per_second")),
                        samples_per_second=_number(extra.get("samples_per_second")),
                    )
                )
                if isinstance(extra.get("losses"), list) and extra["losses"]:
                    losses.setdefault(device, extra["losses"])
        views.sort(key=lambda view: _device_key(view.device))
        return views, losses

    def block_view(
        self,
        line: int,
        info: str,
        code: str | None,
        end_line: int | None = None,
        hidden: bool = False,
    ) -> BlockView:
        """The block whose opening fence is ``line``; ``code`` None when the text is missing.

        ``code`` is the block as the markdown has it (prompts and outputs of a console session
        included), never the code the harness ran.
        """
        self._shown_blocks.add(line)
        fence = (self.fences or {}).get(line)
        block = next((b for b in self.blocks() if _int(b.get("line")) == line), {})
        language = fence_language(info) or _text(block.get("language"))
        if end_line is None:
            end_line = _int(block.get("end_line"))
        first, last = line + 1, (end_line if end_line is not None else line)
        raw_results = _dict(block.get("results"))
        results: list[DeviceResult] = []
        errors: list[ErrorView] = []
        outputs: dict[str, Output] = {}
        raw_losses: dict[str, list[Any]] = {}
        needs: list[Need] = []
        for need in _dicts(block.get("needs")):
            needs.append(Need(_text(need.get("name")), _int(need.get("line"))))
        for device in sorted(set(raw_results) | set(self.devices), key=_device_key):
            result = raw_results.get(device)
            if not isinstance(result, dict):
                status = "not-run" if block else "no-result"
                reason = "no result for this device" if block else "not in the results"
                results.append(DeviceResult(device, status, None, reason, {}, [], None))
                continue
            census = _dict(result.get("census"))
            results.append(
                DeviceResult(
                    device=device,
                    status=_text(result.get("status")) or "not-run",
                    seconds=_number(result.get("seconds")),
                    reason=_text(result.get("reason")),
                    census={str(k): v for k, v in census.items() if _number(v) is not None},
                    flags=[str(f) for f in result.get("flags") or [] if isinstance(f, str)],
                    moved_at=_int(result.get("moved_at")),
                )
            )
            error = result.get("error")
            if isinstance(error, dict):
                errors.append(
                    ErrorView(
                        device=device,
                        type=_text(error.get("type")) or "Error",
                        message=_text(error.get("message")),
                        line=_int(error.get("line")),
                        traceback=_text(error.get("traceback")),
                        anchor=f"E{line}-{len(errors) + 1}",
                        linked=self._is_code(_int(error.get("line"))),
                    )
                )
            stdout = _text(result.get("stdout"))
            if stdout:
                outputs.setdefault(stdout, Output([], stdout)).devices.append(device)
            if isinstance(result.get("losses"), list) and result["losses"]:
                raw_losses[device] = result["losses"]
            for need in _dicts(result.get("needs")):
                found = Need(_text(need.get("name")), _int(need.get("line")))
                if found not in needs:
                    needs.append(found)
        bench, bench_losses = self._bench(line)
        charts = []
        for device in sorted(set(raw_losses) | set(bench_losses), key=_device_key):
            source = "run" if device in raw_losses else "benchmark"
            chart = loss_chart(device, raw_losses.get(device) or bench_losses[device], source)
            if chart is not None:
                charts.append(chart)
        claims = [
            self._claim_view(c)
            for c in self.claims()
            if (_int(c.get("line")) or 0) not in self._shown_claims
            and (
                _int(c.get("block")) == line
                or (c.get("block") is None and first <= (_int(c.get("line")) or 0) <= last)
            )
        ]
        notes = [n for n in self.notes() if first <= n.line <= last]
        view = BlockView(
            line=line,
            end_line=end_line,
            language=language,
            python=language in PYTHON_LANGUAGES,
            lines=None,
            claims=claims,
            results=results,
            outputs=list(outputs.values()),
            errors=errors,
            needs=needs,
            bench=bench,
            charts=charts,
            notes=notes,
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
        for claim in view.claims:
            claim.anchor = f"L{claim.line}" if self.source is None else f"C{claim.line}"
        for claim in view.claims + [ln.claim for ln in view.lines or [] if ln.claim]:
            self._shown_claims.add(claim.line)
            self.claim_anchor[claim.line] = claim.anchor
        placed = {id(e) for ln in view.lines or [] for e in ln.errors}
        for error in errors:
            at = f"L{error.line}" if id(error) in placed else error.anchor
            self.error_anchor[(line, error.device)] = at
        for result in view.moved:
            self.moved_anchor[(line, result.device)] = view.anchor
        for line_view in view.lines or []:
            for device in line_view.moved:
                self.moved_anchor[(line, device)] = f"L{line_view.number}"
        return view

    def _place_on_lines(self, view: BlockView, code: str) -> None:
        """Put claims, errors, lesson notes and moved-at markers on the lines they name."""
        lexer = CONSOLE if view.console else view.language
        lines = [
            LineView(number=view.line + 1 + index, html=html)
            for index, html in enumerate(highlight_lines(code, lexer))
        ]
        by_number = {line.number: line for line in lines}
        self._shown_lines.update(by_number)
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
        for prose in self.prose():
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

    # ---- the article

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
            lesson = parse_lesson(self.source, self.path)
        except LessonError as error:  # it changed since the run: the article is still shown
            self.parse_problem = str(error)
        else:
            self.fences = {fence.line: fence for fence in lesson.fences}

    def comment(self, token: Token, render_block: Callable[[BlockView], str]) -> str:
        """An HTML comment renders as nothing, except the hidden blocks it holds, folded.

        A fence inside the comment is a hidden block when ``parse_lesson`` says so, or, when
        the lesson text no longer parses, when the results have a block at its line.
        """
        return "".join(
            render_block(self.block_view(line, fence.info, fence.content, end, hidden=True))
            for line, end, fence in self._hidden_fences(token)
        )

    def _hidden_fences(self, comment: Token) -> list[tuple[int, int, Token]]:
        """(opening line, closing line, fence token) of each hidden block in a comment.

        The comment is parsed again for each fence's text as written (``Fence.code`` is what
        runs), and to find the fences at all when the lesson does not parse now.
        """
        if comment.map is None:
            return []
        found = []
        for inner in MarkdownIt("commonmark", {"html": False}).parse(comment.content):
            if inner.type != "fence" or inner.map is None:
                continue
            line = comment.map[0] + inner.map[0] + 1
            if self.fences is not None:
                fence = self.fences.get(line)
                if fence is None or not fence.hidden:
                    continue
            elif not any(_int(b.get("line")) == line for b in self.blocks()):
                continue
            found.append((line, comment.map[0] + inner.map[1], inner))
        return found

    def _note_code_lines(self, tokens: Sequence[Token]) -> None:
        """Remember the lines of code the article will show, hidden blocks' included."""
        for token in tokens:
            fences: list[tuple[int, Token]] = []
            if token.type == "fence" and token.map is not None:
                fences = [(token.map[0] + 1, token)]
            elif token.type == "html_block":
                fences = [(line, fence) for line, _, fence in self._hidden_fences(token)]
            for line, fence in fences:
                self._code_lines.update(range(line + 1, line + 1 + fence.content.count("\n")))

    def render_article(self) -> None:
        """Render the lesson text, or, without it, every block of the results on its own."""
        environment = _environment()
        block_template = environment.get_template("block.html.j2")

        def render_block(view: BlockView) -> str:
            return block_template.render(block=view, devices=self.devices)

        if self.source is None:
            self.article = Markup("").join(
                Markup(
                    render_block(
                        self.block_view(_int(b.get("line")) or 0, _text(b.get("info")), None)
                    )
                )
                for b in self.blocks()
            )
            return
        markdown = _markdown(self, render_block)
        tokens = markdown.parse(self.source)
        for token in tokens:
            if token.type == "front_matter":
                try:
                    self.meta = front_matter(token.content, self.path)
                except LessonError:  # not YAML, or not a mapping: the page does without it
                    self.meta = {}
        tokens = _without_title(tokens, self.title)
        self._note_code_lines(tokens)
        self.article = Markup(markdown.renderer.render(tokens, markdown.options, {}))
        for block in self.blocks():
            line = _int(block.get("line")) or 0
            if line not in self._shown_blocks:
                self.leftovers.append(self.block_view(line, _text(block.get("info")), None))
        claims = [c for c in self.claims() if (_int(c.get("line")) or 0) not in self._shown_claims]
        if claims:
            views = [self._claim_view(c) for c in claims]
            for claim in views:
                claim.anchor = f"C{claim.line}"
                self.claim_anchor[claim.line] = claim.anchor
            self.leftovers.append(
                BlockView(0, None, "", False, None, views, [], [], [], [], [], [], [])
            )

    # ---- the summary

    def failures(self) -> list[Failure]:
        found: list[Failure] = []
        for block in self.blocks():
            line = _int(block.get("line")) or 0
            results = _dict(block.get("results"))
            for device, result in sorted(results.items(), key=lambda item: _device_key(item[0])):
                if not isinstance(result, dict):
                    continue
                error = result.get("error")
                if result.get("status") == "needs":  # what the machine lacks: not a failure
                    error = None
                if isinstance(error, dict):
                    at = _int(error.get("line")) or line
                    anchor = self.error_anchor.get((line, device), f"B{line}")
                    text = f"{_text(error.get('type'))}: {_text(error.get('message'))}"
                    found.append(Failure(at, device, anchor, text))
                elif result.get("status") == "failed" and not self._claim_failed(line, device):
                    text = _text(result.get("reason")) or "the block failed"
                    found.append(Failure(line, device, f"B{line}", text))
                flags = result.get("flags")
                if isinstance(flags, list) and "ran-elsewhere" in flags:
                    at = _int(result.get("moved_at")) or line
                    anchor = self.moved_anchor.get((line, device), f"B{line}")
                    census = _dict(result.get("census"))
                    shares = ", ".join(
                        f"{d} {s:.0%}" for d, s in census.items() if _number(s) is not None
                    )
                    text = "ran-elsewhere: the block ran its torch operations on " + (
                        shares or "another device"
                    )
                    found.append(Failure(at, device, anchor, text))
        for claim in self.claims():
            view = self._claim_view(claim)
            for result in view.results:
                if result.verdict == "failed":
                    what = f"claimed {result.expected or view.text}"
                    if result.actual:
                        what += f", found {result.actual}"
                    if result.message:
                        what += f" ({result.message})"
                    subject = f"{view.subject}: " if view.subject else ""
                    anchor = self.claim_anchor.get(view.line, f"L{view.line}")
                    found.append(Failure(view.line, result.device, anchor, subject + what))
        return sorted(found, key=lambda f: (f.line, _device_key(f.device)))

    def _claim_failed(self, block: int, device: str) -> bool:
        """A claim of the block failed on the device (the block's failure, already listed)."""
        for claim in self.claims():
            results = _dict(claim.get("results"))
            result = results.get(device)
            if (
                _int(claim.get("block")) == block
                and isinstance(result, dict)
                and result.get("verdict") == "failed"
            ):
                return True
        return False

    def unchecked(self) -> list[Failure]:
        found = []
        for claim in self.claims():
            view = self._claim_view(claim)
            for result in view.results:
                if result.verdict == "unchecked":
                    anchor = self.claim_anchor.get(view.line, f"L{view.line}")
                    text = (
                        f"{view.subject or view.text}: {result.message or 'could not be checked'}"
                    )
                    found.append(Failure(view.line, result.device, anchor, text))
        return found


def _uncommented(text: str) -> str:
    """``text`` without HTML comments (a title ``Sly <!-- x --> lesson`` reads ``Sly lesson``)."""
    return " ".join(_HTML_COMMENT.sub(" ", text).split()) if "<!--" in text else text


def _without_title(tokens: list[Token], title: str) -> list[Token]:
    """The tokens without a first-level heading repeating the page title (shown above it)."""
    for index, token in enumerate(tokens[:-2]):
        if token.type == "heading_open" and token.tag == "h1":
            if _uncommented(tokens[index + 1].content).strip() == title.strip():
                return tokens[:index] + tokens[index + 3 :]
            break
    return tokens


def _markdown(page: LessonPage, render_block: Callable[[BlockView], str]) -> MarkdownIt:
    """commonmark + tables + front matter, raw HTML off; fences and images overridden."""
    markdown = (
        MarkdownIt("commonmark", {"html": False})
        .enable("table")
        .use(front_matter_plugin)
        .use(anchors_plugin, min_level=1, max_level=3)
    )

    # HTML comments are parsed (only they: other raw HTML stays text) so as to render as nothing.
    markdown.block.ruler.before(
        "html_block",
        "html_comment",
        _comment_block,
        {"alt": ["paragraph", "reference", "blockquote"]},
    )
    markdown.inline.ruler.before("html_inline", "html_comment", _comment_inline)

    def comment(renderer: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        return page.comment(tokens[idx], render_block)

    def nothing(renderer: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        return ""

    def fence(renderer: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        token = tokens[idx]
        if token.map is None:  # pragma: no cover - block tokens always carry their lines
            return str(renderer.renderToken(tokens, idx, options, env))
        start, end = token.map
        view = page.block_view(start + 1, token.info, token.content, end)
        return render_block(view)

    def image(renderer: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        # Images are shown as links: a report loads nothing from anywhere.
        token = tokens[idx]
        alt = renderer.renderInlineAsText(token.children or [], options, env)
        src = escapeHtml(_text(token.attrGet("src")))
        return f'<a class="image-link" href="{src}">[image: {escapeHtml(alt) or src}]</a>'

    markdown.add_render_rule("fence", fence)
    markdown.add_render_rule("image", image)
    markdown.add_render_rule("html_block", comment)
    markdown.add_render_rule("html_comment", nothing)
    return markdown


def _comment_block(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """An HTML block comment (CommonMark's HTML block kind 2): from ``<!--`` to the line
    holding ``-->``, as markdown-it's own ``html_block`` rule reads it with ``html`` on.

    The token is an ``html_block`` whose content is never written to the page.
    """
    if state.is_code_block(start):
        return False
    first = state.src[state.bMarks[start] + state.tShift[start] : state.eMarks[start]]
    if not first.startswith("<!--"):
        return False
    if silent:
        return True
    next_line = start + 1
    if "-->" not in first:
        while next_line < end:
            if state.sCount[next_line] < state.blkIndent and not state.isEmpty(next_line):
                break
            text = state.src[
                state.bMarks[next_line] + state.tShift[next_line] : state.eMarks[next_line]
            ]
            next_line += 1
            if "-->" in text:
                break
    state.line = next_line
    token = state.push("html_block", "", 0)
    token.map = [start, next_line]
    token.content = state.getLines(start, next_line, state.blkIndent, True)
    return True


def _comment_inline(state: StateInline, silent: bool) -> bool:
    """An inline HTML comment (``text <!-- note --> text``): a token that renders as nothing."""
    if not state.src.startswith("<!--", state.pos):
        return False
    close = state.src.find("-->", state.pos + 2)  # ``<!-->`` and ``<!--->`` are comments too
    if close < 0:
        return False
    if not silent:
        token = state.push("html_comment", "", 0)
        token.content = state.src[state.pos : close + 3]
    state.pos = close + 3
    return True


# --------------------------------------------------------------------------- the report


def _file_names(lessons: Sequence[JSON]) -> list[str]:
    """A distinct, safe file name per lesson, from its id (``index`` is the index's)."""
    names: list[str] = []
    taken = {"index"}
    for lesson in lessons:
        stem = _text(lesson.get("id")) or Path(_text(lesson.get("path"))).stem or "lesson"
        stem = re.sub(r"[^\w.-]", "-", stem)[:100].strip(".") or "lesson"
        name, number = stem, 2
        while name.lower() in taken:
            name, number = f"{stem}-{number}", number + 1
        taken.add(name.lower())
        names.append(name)
    return names


@dataclass
class Run:
    """One results document, as the index describes it."""

    number: int
    schema: Any
    devices: list[str]
    finished: str
    fields: list[tuple[str, str]]
    lessons: int


def _runs(documents: Sequence[JSON]) -> list[Run]:
    runs = []
    for number, document in enumerate(documents, 1):
        environment = document.get("environment")
        environment = environment if isinstance(environment, dict) else {}
        devices = environment.get("devices")
        fields = []
        for key, value in environment.items():
            if key in ("devices", "finished"):
                continue
            shown = " ".join(map(str, value)) if isinstance(value, list) else _text(value)
            fields.append((str(key), shown))
        runs.append(
            Run(
                number=number,
                schema=document.get("schema"),
                devices=[str(d) for d in devices] if isinstance(devices, list) else [],
                finished=_text(environment.get("finished")),
                fields=fields,
                lessons=len(_dicts(document.get("lessons"))),
            )
        )
    return runs


@dataclass
class BenchRow:
    name: str
    group: str
    mean: float | None
    stddev: float | None
    rounds: int | None
    lesson: str
    block: int | None
    device: str
    href: str


def _bench_rows(benchmarks: Sequence[JSON], pages: Sequence[LessonPage]) -> list[BenchRow]:
    rows = []
    for document in benchmarks:
        for entry in _dicts(document.get("benchmarks")):
            stats = _dict(entry.get("stats"))
            extra = _dict(entry.get("extra_info"))
            block = _int(extra.get("block"))
            lesson = _text(extra.get("lesson"))
            page = next((p for p in pages if lesson and _same_file(lesson, p.path)), None)
            href = f"{page.file}#B{block}" if page is not None and block is not None else ""
            rows.append(
                BenchRow(
                    name=_text(entry.get("name")),
                    group=_text(entry.get("group")),
                    mean=_number(stats.get("mean")),
                    stddev=_number(stats.get("stddev")),
                    rounds=_int(stats.get("rounds")),
                    lesson=page.path if page is not None else lesson,
                    block=block,
                    device=_text(extra.get("device")),
                    href=href,
                )
            )
    return rows


def _bench_runs(benchmarks: Sequence[JSON]) -> list[list[tuple[str, str]]]:
    runs = []
    for document in benchmarks:
        info = _dict(document.get("machine_info"))
        cpu = _dict(info.get("cpu"))
        commit = _dict(document.get("commit_info"))
        fields = [
            ("finished", when(_text(document.get("datetime")))),
            ("pytest-benchmark", _text(document.get("version"))),
            ("machine", " ".join(_text(info.get(k)) for k in ("node", "machine") if info.get(k))),
            ("cpu", _text(cpu.get("brand_raw"))),
            ("python", _text(info.get("python_version"))),
            ("commit", _text(commit.get("id"))[:12] + (" (dirty)" if commit.get("dirty") else "")),
        ]
        runs.append([(k, v) for k, v in fields if v.strip()])
    return runs


def _devices(documents: Sequence[JSON], lessons: Sequence[JSON]) -> list[str]:
    found: set[str] = set()
    for document in documents:
        environment = document.get("environment")
        if isinstance(environment, dict) and isinstance(environment.get("devices"), list):
            found |= {str(d) for d in environment["devices"]}
    for lesson in lessons:
        for key in ("blocks", "claims"):
            for item in _dicts(lesson.get(key)):
                if isinstance(item.get("results"), dict):
                    found |= set(item["results"])
    return sorted(found, key=_device_key)


def _lesson_part(lesson: JSON, seen: dict[tuple[str, int, str], str]) -> JSON | None:
    """A copy of a lesson's results that ``merge_lessons`` can take whatever the file held.

    Blocks and claims without a line are left out, results default to ``{}``, and a claim's
    per-device results keep the fields ``ClaimResult`` knows (merging folds them through it).
    ``seen`` holds the verdicts of earlier parts per (path, line, device): a verdict this
    report does not know (a newer harness's) is never folded with another; the first stays.
    """
    if not isinstance(lesson.get("path"), str):
        return None
    path = lesson["path"]
    known = {f.name for f in fields(ClaimResult)}
    blocks = [
        {**block, "line": _int(block.get("line")), "results": _dict(block.get("results"))}
        for block in _dicts(lesson.get("blocks"))
        if _int(block.get("line")) is not None
    ]
    claims = []
    for claim in _dicts(lesson.get("claims")):
        if _int(claim.get("line")) is None:
            continue
        line = _int(claim.get("line")) or 0
        results = {}
        for device, result in _dict(claim.get("results")).items():
            if isinstance(result, dict):
                kept = {k: v for k, v in result.items() if k in known}
                kept["verdict"] = _text(kept.get("verdict")) or "not-run"
                earlier = seen.get((path, line, str(device)))
                if earlier is not None and not {earlier, kept["verdict"]} <= set(CLAIM_STATES):
                    continue
                seen.setdefault((path, line, str(device)), kept["verdict"])
                results[str(device)] = {**asdict(ClaimResult("not-run")), **kept}
        claims.append({**claim, "line": line, "results": results})
    return {**lesson, "blocks": blocks, "claims": claims}


def write_report(
    documents: Sequence[dict[str, Any]],
    out: Path,
    benchmarks: Sequence[dict[str, Any]] = (),
    root: Path | None = None,
    checked: Collection[str] = (),
) -> list[Path]:
    """Write ``out/index.html`` and ``out/<lesson id>.html``; return the paths written.

    ``documents`` are parsed JSON results files (schema 1), merged by lesson path, block and
    claim line (one column per device); ``benchmarks`` are parsed pytest-benchmark JSON files.
    Each lesson's markdown is re-read from its ``path``, relative to ``root`` (the directory
    the check ran in; default: the current directory) if it is one of the lessons this run
    ``checked`` or ``refused`` lets it through. Text that is not valid (lone surrogates) is
    shown escaped. Raises OSError if ``out`` cannot be written.
    """
    documents = [valid_json(document) for document in documents]
    benchmarks = [valid_json(document) for document in benchmarks]
    seen: dict[tuple[str, int, str], str] = {}
    parts = [_lesson_part(lesson, seen) for d in documents for lesson in _dicts(d.get("lessons"))]
    lessons = merge_lessons(part for part in parts if part is not None)
    devices = _devices(documents, lessons)
    problems = list(
        dict.fromkeys(
            str(problem)
            for document in documents
            for problem in _list(document.get("problems"))
            if problem
        )
    )
    environment = _environment()
    pages = [
        LessonPage(lesson=lesson, devices=devices, file=f"{name}.html", benchmarks=list(benchmarks))
        for lesson, name in zip(lessons, _file_names(lessons), strict=True)
    ]
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    lesson_template = environment.get_template("lesson.html.j2")
    for page in pages:
        page.read_source(root, checked)
        page.render_article()
        html = lesson_template.render(page=page, devices=devices, counts=page.counts())
        written.append(out / page.file)
        written[-1].write_text(html, encoding="utf-8", errors="backslashreplace")
    runs = _runs(documents)
    index = environment.get_template("index.html.j2").render(
        pages=pages,
        devices=devices,
        runs=runs,
        problems=problems,
        unknown_schema=sorted({str(r.schema) for r in runs if r.schema != KNOWN_SCHEMA}, key=str),
        bench_rows=_bench_rows(benchmarks, pages),
        bench_runs=_bench_runs(benchmarks),
    )
    (out / "index.html").write_text(index, encoding="utf-8", errors="backslashreplace")
    return [out / "index.html", *written]
