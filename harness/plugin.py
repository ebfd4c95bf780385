"""The pytest plugin: ``pytest lessons/`` collects each block of each lesson as a test.

Items are named as the block's snippet is (``harness extract``): its position among the
Python blocks and a slug of its first definition or the heading above it, then the device,
``lessons/dl.md::09_lstmclassifier[cpu]``; other fences by language and position
(``bash01[cpu]``). Inserting a line above a block leaves every name as it was.

A lesson runs once per process and device, in reader order, the first time one of its items
runs; every item then reports its own block. Under pytest-xdist the lesson's items for a
device go to one worker (``harness.plugin_xdist``) unless ``--dist`` was chosen; any
``--dist`` mode still gives the verdicts of a serial run, since a worker that gets some of a
lesson's items runs that lesson. When only some of a lesson's Python blocks are selected
(``-k``, ``--lf``, a node id), each runs alone from its snippet prelude, as ``--isolated``
runs every block. Each item's results ride on ``user_properties`` (they survive xdist); the
main process alone writes the JSON results at the end of the session.
"""

from __future__ import annotations

import argparse
import json
import os
import re
from collections import Counter
from collections.abc import Generator, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from harness.cli import parse_devices
from harness.config import (
    NONE,
    ConfigError,
    Settings,
    choose,
    default_devices,
    settings_for,
)
from harness.lesson import TAB_VARIABLE, Fence, Lesson, LessonError, read_lesson
from harness.results import (
    JSON,
    LessonResult,
    Level,
    Message,
    Status,
    merge_lessons,
    results_json,
)
from harness.results.messages import failures, ran_elsewhere
from harness.run.runner import MEMORY_LIMIT, TIME_LIMIT, check_lesson
from harness.static.snippets import snippet_name

PROPERTY = "harness"
_RUNS = pytest.StashKey[dict[tuple[str, str], LessonResult]]()
# (lesson path, device) -> the Python blocks selected, where not all of them are
_PARTS = pytest.StashKey[dict[tuple[str, str], frozenset[int]]]()
_DIST_CHOSEN = pytest.StashKey[bool]()  # --dist (or -d) given: xdist schedules as asked


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("harness", "lesson checks")
    group.addoption(
        "--devices",
        default=None,
        help="devices to run lessons on, comma-separated, or all (default: the project "
        "configuration's, else all available)",
    )
    group.addoption("--harness-json", metavar="FILE", help="write the JSON results here")
    group.addoption(
        "--harness-report", metavar="DIR", help="write the HTML report here (index.html)"
    )
    group.addoption(
        "--isolated",
        action="store_true",
        help="run each block alone from its snippet: independent items (default: reader order)",
    )
    group.addoption(
        "--harness-strict",
        action="store_true",
        help="fail blocks that need what this machine lacks (a package, cuda, the network: "
        "status needs; default: skipped with what they need); pytest's --strict does too",
    )
    group.addoption(
        "--harness-tab",
        metavar="NAME",
        help="the framework whose d2l %%tab blocks run (default pytorch)",
    )


@pytest.hookimpl(wrapper=True)
def pytest_cmdline_main(config: pytest.Config) -> Generator[None, object, object]:
    """Note whether ``--dist`` was chosen, before pytest-xdist turns ``-n`` into ``load``."""
    option = config.option
    config.stash[_DIST_CHOSEN] = bool(
        getattr(option, "distload", False) or getattr(option, "dist", "no") != "no"
    )
    return (yield)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """A lesson's items for one device go to one worker, which runs the lesson once; unless
    ``--dist`` was chosen, or ``--isolated`` makes every block independent (xdist's load)."""
    if config.stash.get(_DIST_CHOSEN, True) or config.getoption("isolated"):
        return None
    from harness.plugin_xdist import LessonScheduling

    return LessonScheduling(config, log)


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("devices", None) is None:
        try:  # refused before anything runs, as --devices gpu is
            default_devices()
        except argparse.ArgumentTypeError as error:
            raise pytest.UsageError(str(error)) from None
    config.stash[_RUNS] = {}
    config.stash[_PARTS] = {}
    tab = config.getoption("harness_tab", None)
    if tab:  # read by lesson parsing here, in xdist workers and in lesson workers
        os.environ[TAB_VARIABLE] = str(tab).strip().lower()
    if not hasattr(config, "workerinput"):  # not an xdist worker
        config.pluginmanager.register(ResultsWriter(config), "harness-results")


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> LessonFile | None:
    if file_path.suffix == ".md":
        lesson_file: LessonFile = LessonFile.from_parent(parent, path=file_path)
        return lesson_file
    return None


def _shown(path: Path, config: pytest.Config) -> str:
    try:
        return str(path.relative_to(config.rootpath))
    except ValueError:
        return str(path)


class LessonFile(pytest.File):
    def collect(self) -> Iterator[BlockItem]:
        try:
            lesson = read_lesson(self.path)
        except LessonError as error:
            if "no Python blocks" in error.reason:
                return
            raise self.CollectError(str(error)) from None
        try:  # the project configuration (harness.config), as harness check applies it
            settings = settings_for(self.path)
        except ConfigError as error:
            raise self.CollectError(str(error)) from None
        shown = _shown(self.path, self.config)
        lesson = Lesson(shown, lesson.id, lesson.title, lesson.source, lesson.fences)
        names = item_names(lesson)
        for device in _devices(self.config, settings.devices):
            for fence in lesson.fences:
                name = f"{names[fence.line]}[{device}]"
                yield BlockItem.from_parent(
                    self,
                    name=name,
                    nodeid=f"{self.nodeid}::{name}",  # pytest 9 parses the [device] (--lf)
                    lesson=lesson,
                    fence=fence,
                    device=device,
                    settings=settings,
                )


def item_names(lesson: Lesson) -> dict[int, str]:
    """Fence line -> item name, device aside: a Python block's snippet name
    (``09_lstmclassifier``), another fence's language and its number among that language's
    fences (``bash01``). Neither moves when a line is inserted above the block."""
    names = {
        fence.line: snippet_name(lesson, fence, number)
        for number, fence in enumerate(lesson.python_fences, start=1)
    }
    counts: Counter[str] = Counter()
    for fence in lesson.fences:
        if not fence.is_python:
            kind = re.sub(r"[^a-z0-9]+", "_", fence.language.lower()).strip("_") or "fence"
            counts[kind] += 1
            names[fence.line] = f"{kind}{counts[kind]:02d}"
    return names


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """Note the lessons of which only some Python blocks are selected (``-k``, ``--lf``)."""
    chosen: dict[tuple[str, str], set[int]] = {}
    every: dict[tuple[str, str], set[int]] = {}
    for item in session.items:
        if isinstance(item, BlockItem) and item.fence.is_python:
            chosen.setdefault(item.key, set()).add(item.fence.line)
            every[item.key] = {fence.line for fence in item.lesson.python_fences}
    session.config.stash[_PARTS] = {
        key: frozenset(lines) for key, lines in chosen.items() if lines != every[key]
    }


def _devices(config: pytest.Config, configured: Sequence[str] | None = None) -> list[str]:
    """``--devices`` when given, else the project configuration's, else ``HARNESS_DEVICES``'s,
    else all available."""
    given = config.getoption("devices")
    requested = parse_devices(given) if given is not None else list(configured or default_devices())
    if "all" not in requested:
        return requested
    from harness.run.devices import available  # imports torch: only when asked for all

    return list(dict.fromkeys([*available(), *(d for d in requested if d != "all")]))


class LessonFailure(Exception):
    """A block failed: its lines are ``path.md:LINE: ...`` messages."""


class BlockItem(pytest.Item):
    def __init__(
        self, *, lesson: Lesson, fence: Fence, device: str, settings: Settings = NONE, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.lesson = lesson
        self.fence = fence
        self.device = device
        self.settings = settings

    def _lesson_run(self, only: int | None = None) -> LessonResult:
        settings = self.settings
        return check_lesson(
            self.lesson,
            [self.device],
            only=only,
            time_limit=choose(None, settings.time_limit, TIME_LIMIT),
            memory_limit=choose(None, settings.memory_limit, MEMORY_LIMIT),
            setup=settings.setup,
        )

    @property
    def key(self) -> tuple[str, str]:
        return (self.lesson.path, self.device)

    def _result(self) -> LessonResult:
        """The lesson's run in reader order, shared by its items; a block alone from its
        snippet prelude under ``--isolated``, or when only some of the lesson is selected."""
        key = self.key
        if self.config.getoption("isolated") or key in self.config.stash.get(_PARTS, {}):
            return self._lesson_run(only=self.fence.line)
        runs = self.config.stash[_RUNS]
        if key not in runs:
            runs[key] = self._lesson_run()
        return runs[key]

    def runtest(self) -> None:
        result = self._result()
        payload = {**result.to_json(), "config": self.settings.config}
        payload["blocks"] = [b for b in payload["blocks"] if b["line"] == self.fence.line]
        payload["claims"] = [
            c
            for c in payload["claims"]
            if c["block"] == self.fence.line or (result.mode == "isolated" and c["results"])
        ]
        self.user_properties.append((PROPERTY, json.dumps(payload)))
        block = result.blocks[self.fence.line][self.device]
        if block.status == Status.NEEDS:  # this machine lacks something: skipped unless strict
            line = (block.error.line if block.error else None) or self.fence.line
            error = f": {block.error.type}: {block.error.message}" if block.error else ""
            if _strict(self.config):
                raise LessonFailure(self._message(line, f"{block.needs_text()}{error}"))
            pytest.skip(f"{block.needs_text()}{error}")
        if block.status == Status.NOT_RUN and self.fence.is_python:  # its worker ended first
            reason = block.reason or "its worker ended before it"
            raise LessonFailure(self._message(self.fence.line, f"not run: {reason}"))
        if block.status in (Status.NOT_RUN, Status.SKIPPED):  # a skip directive, no device, bash
            pytest.skip(block.reason or block.status)
        if block.status == Status.FAILED or "ran-elsewhere" in block.flags:
            own = range(self.fence.line, self.fence.end_line + 1)
            if result.mode == "isolated":  # what this block's own run saw, wherever it is
                own = range(0, self.fence.end_line + 1)
            found = [m for m in failures(result) if m.line in own]
            moved = ran_elsewhere(result, self.fence.line, self.device)  # moved from anywhere
            if moved is not None and moved not in found:
                found = sorted([*found, moved], key=lambda m: m.line or 0)
            lines = [str(m) for m in found] or [self._message(self.fence.line, block.reason)]
            raise LessonFailure("\n".join(lines))

    def _message(self, line: int, text: str) -> str:
        """``path.md:LINE: [device] text``, one line, as ``harness check`` says it."""
        return str(Message(self.lesson.path, line, self.device, Level.ERROR, text))

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: Any = None,
    ) -> str:
        if isinstance(excinfo.value, LessonFailure):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.fence.line - 1, f"{self.lesson.path}:{self.fence.line}"


def _strict(config: pytest.Config) -> bool:
    """``--harness-strict``, or pytest's own ``--strict`` (strict mode)."""
    return bool(config.getoption("harness_strict") or config.getoption("strict", False))


class ResultsWriter:
    """Main process only: gathers every item's results and writes them once, at the end."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.by_item: dict[str, JSON] = {}  # one part per item: its latest

    @property
    def parts(self) -> list[JSON]:
        return list(self.by_item.values())

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Keep each item's results once: every phase's report (call, teardown) carries the
        item's ``user_properties``, and folding both would count each claim check twice."""
        for name, value in report.user_properties:
            if name == PROPERTY and isinstance(value, str):
                self.by_item[report.nodeid] = json.loads(value)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        target = self.config.getoption("harness_json")
        report_dir = self.config.getoption("harness_report")
        if not (target or report_dir) or not self.parts:
            return
        devices = _devices(self.config)
        document = results_json(merge_lessons(self.parts), devices, [])
        if target:
            path = Path(target)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
        if report_dir:
            from harness.report import write_report  # Jinja2 and Pygments: only when asked for

            terminal = self.config.pluginmanager.get_plugin("terminalreporter")
            try:  # lesson paths are relative to rootdir (see _shown)
                written = write_report(
                    [document],
                    Path(report_dir),
                    root=self.config.rootpath,
                    checked={part["path"] for part in self.parts},  # this session's lessons
                )
                line = f"harness report: {written[0]}"
            except OSError as error:
                line = f"harness report: {report_dir}: cannot be written ({error.strerror})"
                session.exitstatus = pytest.ExitCode.USAGE_ERROR
            if terminal is not None:
                terminal.write_line(line)
