"""The progress line: on a terminal only, one line rewritten per block, wiped at the end."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from harness.cli import EXIT_OK, main
from harness.lesson import parse_lesson
from harness.progress import ProgressLine

SOURCE = "# T\n\n```bash\nls\n```\n\n```python\nx = 1\n```\n\n```python\ny = 2\n```\n"


class Terminal(io.StringIO):
    """A stand-in for a terminal: everything written is kept."""

    def isatty(self) -> bool:
        return True


def test_text_counts_python_blocks_only() -> None:
    lesson = parse_lesson(SOURCE, "lessons/t.md")
    line = ProgressLine(Terminal(), [lesson])
    assert line.text(lesson, "cpu", 7) == "lessons/t.md [cpu] block 1/2 (line 7)"
    assert line.text(lesson, "cuda", 11) == "lessons/t.md [cuda] block 2/2 (line 11)"
    other = parse_lesson(SOURCE, "lessons/u.md")
    several = ProgressLine(Terminal(), [lesson, other])
    assert several.text(other, "cpu", 11) == "[2/2] lessons/u.md [cpu] block 2/2 (line 11)"


def test_each_block_rewrites_the_line_and_clear_wipes_it() -> None:
    lesson = parse_lesson(SOURCE, "t.md")
    stream = Terminal()
    with ProgressLine(stream, [lesson]) as progress:
        progress(lesson, "cpu", 7)
        progress(lesson, "cpu", 11)
        assert (
            stream.getvalue() == "\rt.md [cpu] block 1/2 (line 7)\rt.md [cpu] block 2/2 (line 11)"
        )
        progress(lesson, "xpu", 7)  # shorter: padded over the longer text
    written = stream.getvalue().split("\r")
    assert written[3] == "t.md [xpu] block 1/2 (line 7) "
    assert written[4:] == [" " * len(written[3].rstrip()), ""]  # wiped, cursor at the start


def test_nothing_when_not_a_terminal_or_turned_off() -> None:
    lesson = parse_lesson(SOURCE, "t.md")
    piped = io.StringIO()
    with ProgressLine(piped, [lesson]) as progress:
        progress(lesson, "cpu", 7)
    off = Terminal()
    with ProgressLine(off, [lesson], enabled=False) as progress:
        progress(lesson, "cpu", 7)
    assert (piped.getvalue(), off.getvalue()) == ("", "")


def test_a_long_path_is_cut_to_the_terminal_width() -> None:
    lesson = parse_lesson(SOURCE, "a/" * 60 + "t.md")
    stream = Terminal()  # no file descriptor: 80 columns assumed
    ProgressLine(stream, [lesson])(lesson, "cpu", 7)
    text = stream.getvalue()
    assert len(text) == 80 and text.startswith("\r...")
    assert text.endswith("/a/t.md [cpu] block 1/2 (line 7)")


def test_wiped_when_the_check_is_interrupted() -> None:
    lesson = parse_lesson(SOURCE, "t.md")
    stream = Terminal()
    with pytest.raises(KeyboardInterrupt), ProgressLine(stream, [lesson]) as progress:
        progress(lesson, "cpu", 7)
        raise KeyboardInterrupt
    assert stream.getvalue().endswith("\r" + " " * len("t.md [cpu] block 1/2 (line 7)") + "\r")


def test_harness_check_shows_it_on_a_terminal_stderr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lesson = tmp_path / "t.md"
    lesson.write_text(SOURCE)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.chdir(tmp_path)  # a short path: the line fits in 80 columns
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path / "cache"))
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(["check", "t.md", "--devices", "cpu"]) == EXIT_OK
    first, second = "t.md [cpu] block 1/2 (line 7)", "t.md [cpu] block 2/2 (line 11)"
    assert terminal.getvalue() == f"\r{first}\r{second}\r{' ' * len(second)}\r"
    assert capsys.readouterr().out.splitlines()[-1].startswith("2 passed, 0 failed")
    quiet = Terminal()
    monkeypatch.setattr(sys, "stderr", quiet)
    assert main(["check", "t.md", "--devices", "cpu", "--no-progress"]) == EXIT_OK
    assert quiet.getvalue() == ""
