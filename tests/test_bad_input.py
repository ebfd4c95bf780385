"""Bad input through the real command: one line naming the file (and line), the documented
exit code, never a traceback from the harness itself.

tests/test_cli.py has the first cases (a missing file, a file that is not UTF-8 at byte 0, a
lesson with only a bash block, a broken lesson in a folder beside a good one); these extend
them. Binary and non-UTF-8 inputs are written here, into tmp_path, never committed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.cli import EXIT_FAILED, EXIT_OK, EXIT_UNUSABLE, main
from harness.lesson import read_lesson
from harness.run.runner import check_lesson
from tests.paths import ROOT

GOOD = "# Good\n\n```python\nimport torch\nx = torch.zeros(2, 3)  # [2, 3]\n```\n"
FAILING = "# Failing\n\n```python\nimport torch\nx = torch.zeros(2, 3)  # [2, 4]\n```\n"
NO_PYTHON = (
    "no Python blocks found (fences tagged python, py, python3, pycon or {code-block} python)"
)


@pytest.fixture(autouse=True)
def _plain_output(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Exact output: no GitHub annotations even when the tests themselves run in Actions;
    a cache of this test's own, so every block runs."""
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path / "cache"))


# ``path.md: 2 blocks ran, 0 from the cache``: the cache's own line, tested with the cache;
# ``path.md [cpu] ..F (0.42s)``, a lesson's progress line, and ``____ path.md ____``, the head
# of its failures: the terminal's own lines, tested in test_cli.py
CACHE_LINE = re.compile(r".*: \d+ blocks? ran, \d+ from the cache")
PROGRESS_LINE = re.compile(r".* \(\d+\.\d\ds\)")
RULE_LINE = re.compile(r"_+ .* _+")


def without_cache_lines(lines: list[str]) -> list[str]:
    """The messages and the closing line: without the cache, progress and rule lines."""
    return [
        line
        for line in lines
        if not any(kind.fullmatch(line) for kind in (CACHE_LINE, PROGRESS_LINE, RULE_LINE))
    ]


def check(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str], list[str]]:
    """``harness check ARGS --devices cpu``: exit code, stdout lines, stderr lines."""
    code = main(["check", *args, "--devices", "cpu"])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, without_cache_lines(out.splitlines()), err.splitlines()


def test_not_utf8_names_the_line_and_byte(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    raw = "# Caf\u00e9\n\nSome text.\ncaf\u00e9 au lait\n\n```python\nx = 1\n```\n".encode(
        "latin-1"
    )
    lesson = tmp_path / "latin1.md"
    lesson.write_bytes(raw)
    byte = raw.index(b"\xe9")  # the first one, on line 1
    assert check(capsys, str(lesson)) == (
        EXIT_UNUSABLE,
        [],
        [f"{lesson}:1: is not UTF-8 (byte {byte})"],
    )
    later = tmp_path / "later.md"
    later.write_bytes(b"# Title\n\nplain\n\n```python\nx = '\xff'\n```\n")
    assert check(capsys, str(later)) == (
        EXIT_UNUSABLE,
        [],
        [f"{later}:6: is not UTF-8 (byte 31)"],
    )


@pytest.mark.parametrize(
    "raw",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10",  # an image saved as .md
        "# UTF-16\n\n```python\nx = 1\n```\n".encode("utf-16"),  # has NUL bytes
        b"```python\nx = 1\n```\n\x00",  # text with one NUL byte
    ],
    ids=["png", "utf-16", "nul"],
)
def test_binary_file(tmp_path: Path, capsys: pytest.CaptureFixture[str], raw: bytes) -> None:
    lesson = tmp_path / "picture.md"
    lesson.write_bytes(raw)
    assert check(capsys, str(lesson)) == (
        EXIT_UNUSABLE,
        [],
        [f"{lesson}: is a binary file, not markdown"],
    )


@pytest.mark.parametrize("raw", [b"", b"\n\n   \n\t\n", b"\xef\xbb\xbf"], ids=["0", "blank", "bom"])
def test_empty_file(tmp_path: Path, capsys: pytest.CaptureFixture[str], raw: bytes) -> None:
    lesson = tmp_path / "empty.md"
    lesson.write_bytes(raw)
    assert check(capsys, str(lesson)) == (EXIT_UNUSABLE, [], [f"{lesson}: is empty"])


def test_no_python_blocks_whatever_else_there_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lesson = tmp_path / "prose.md"
    lesson.write_text(
        "---\ntitle: Prose\n---\n# Prose\n\n```\nuntagged\n```\n\n~~~text\nx = 1\n~~~\n\n"
        "    ```python\n    indented code, not a fence\n    ```\n\n"
        "<!--\n```python\ninside a plain HTML comment\n```\n-->\n"
    )
    assert check(capsys, str(lesson)) == (EXIT_UNUSABLE, [], [f"{lesson}: {NO_PYTHON}"])


def test_a_folder_of_prose_has_no_lessons(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "README.md").write_text("# Course\n\nRead the lessons in order.\n")
    (tmp_path / "empty.md").write_text("")
    (tmp_path / "notes.txt").write_text("```python\nx = 1\n```\n")  # not markdown
    message = f"{tmp_path}: no lessons found (markdown files with Python blocks)"
    assert check(capsys, str(tmp_path)) == (EXIT_UNUSABLE, [], [message])


def test_only_lessons_passes_over_named_prose_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """What pre-commit passes: every changed .md file, README and lessons alike."""
    readme, empty, good = tmp_path / "README.md", tmp_path / "empty.md", tmp_path / "good.md"
    readme.write_text("# Course\n")
    empty.write_text("")
    good.write_text(GOOD)
    code, out, err = check(capsys, str(readme), str(empty), "--only-lessons")
    assert (code, out, err) == (EXIT_OK, [], [])
    code, out, err = check(capsys, str(readme), str(good), "--only-lessons")
    assert (code, err) == (EXIT_OK, [])
    assert out == [
        "1 passed, 0 failed (blocks); claims: 1 passed, 0 failed, 0 unchecked, 0 not-run"
    ]
    binary = tmp_path / "binary.md"
    binary.write_bytes(b"\x00")
    code, out, err = check(capsys, str(readme), str(binary), "--only-lessons")
    assert (code, out, err) == (EXIT_UNUSABLE, [], [f"{binary}: is a binary file, not markdown"])


def test_ten_thousand_blocks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Measured: about 5 s on two idle cores (the worker's import of torch is most of it).
    What happened is asserted, not how fast: under load the same run took minutes."""
    lesson = tmp_path / "huge.md"
    lesson.write_text("# Huge\n\n" + "".join(f"```python\nx = {i}\n```\n\n" for i in range(10_000)))
    results = tmp_path / "r.json"
    start = time.perf_counter()
    code, out, err = check(capsys, str(lesson), "--json", str(results))
    print(f"10,000 tiny blocks: {time.perf_counter() - start:.1f} s")
    assert (code, err) == (EXIT_OK, [])
    assert out == [
        "10000 passed, 0 failed (blocks); claims: 0 passed, 0 failed, 0 unchecked, 0 not-run"
    ]
    blocks = json.loads(results.read_text())["lessons"][0]["blocks"]
    assert [b["line"] for b in blocks[:2]] == [3, 7]
    assert (blocks[-1]["line"], blocks[-1]["end_line"]) == (3 + 4 * 9_999, 5 + 4 * 9_999)
    # a worker that never reaches the first block within the limit: a failure, never green
    result = check_lesson(read_lesson(lesson), ["cpu"], time_limit=0.001)
    error = result.blocks[3]["cpu"].error
    assert error is not None and (error.type, error.line) == ("TimeLimit", 3)
    assert result.counts() == {"failed": 1, "not-run": 9_999}
    assert result.failures() == [
        f"{lesson}:3: [cpu] TimeLimit: the worker process did not start the block within "
        "0.001 s (--time-limit, worker start included)"
    ]


SYNTAX = """# Syntax errors

```python
x = 1
```

```python
y = (
```

```python
def f():
    return 1
  z = 2
```

```python
print(x + 1)
```
"""


def test_a_syntax_error_fails_its_block_at_its_lesson_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lesson = tmp_path / "syntax.md"
    lesson.write_text(SYNTAX)
    results = tmp_path / "r.json"
    code, out, err = check(capsys, str(lesson), "--json", str(results), "-v")
    assert (code, err) == (EXIT_FAILED, [])
    assert out == [
        f"{lesson}:8: [cpu] SyntaxError: '(' was never closed",
        f"{lesson}:14: [cpu] IndentationError: unindent does not match any outer indentation level",
        f"{lesson}:17: [info] uses x from line 4; the block does not run alone",
        "2 passed, 2 failed (blocks); claims: 0 passed, 0 failed, 0 unchecked, 0 not-run",
    ]
    blocks = {
        b["line"]: b["results"]["cpu"]
        for b in json.loads(results.read_text())["lessons"][0]["blocks"]
    }
    assert {line: b["status"] for line, b in blocks.items()} == {
        3: "passed",
        7: "failed",
        11: "failed",
        17: "passed",
    }
    assert blocks[7]["error"]["line"] == 8
    assert blocks[17]["stdout"] == "2\n"  # the blocks after a broken one still run


def test_paths_that_do_not_exist(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.md"
    good.write_text(GOOD)
    missing, folder = tmp_path / "missing.md", tmp_path / "no-such-folder"
    code, out, err = check(capsys, str(missing), str(good), f"{folder}/")
    assert code == EXIT_UNUSABLE
    assert err == [f"{missing}: no such file", f"{folder}: no such file"]
    assert out == [
        "1 passed, 0 failed (blocks); claims: 1 passed, 0 failed, 0 unchecked, 0 not-run"
    ]


def test_bad_front_matter(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    escape = tmp_path / "escape.md"
    escape.write_text("---\nid: ../../etc\n---\n```python\nx = 1\n```\n")
    listed = tmp_path / "listed.md"
    listed.write_text("---\n- a\n- b\n---\n```python\nx = 1\n```\n")
    code, out, err = check(capsys, str(escape), str(listed))
    assert (code, out) == (EXIT_UNUSABLE, [])
    assert err == [
        f"{escape}:2: front matter id '../../etc' is not a usable file name: expected letters, "
        "digits, '_', '-' or '.', starting with a letter, digit or '_', at most 100 characters",
        f"{listed}:1: front matter is not a mapping of keys to values",
    ]


def test_bad_lessons_beside_good_ones_named_one_by_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every usable lesson is checked and reported; the exit code says input was unusable."""
    binary, good, failing = tmp_path / "a.md", tmp_path / "b.md", tmp_path / "c.md"
    binary.write_bytes(b"\x7fELF\x02\x01\x01\x00")
    good.write_text(GOOD)
    failing.write_text(FAILING)
    results = tmp_path / "r.json"
    code, out, err = check(capsys, str(binary), str(good), str(failing), "--json", str(results))
    assert code == EXIT_UNUSABLE
    assert err == [f"{binary}: is a binary file, not markdown"]
    assert out == [
        f"{failing}:5: [cpu] x: expected [2, 4], found [2, 3]: dim 1 is 4, found 3",
        "1 passed, 1 failed (blocks); claims: 1 passed, 1 failed, 0 unchecked, 0 not-run",
    ]
    document = json.loads(results.read_text())
    assert [lesson["path"] for lesson in document["lessons"]] == [str(good), str(failing)]
    assert document["problems"] == [f"{binary}: is a binary file, not markdown"]


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "GITHUB_ACTIONS"}
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", "check", *args, "--devices", "cpu"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**environ, **(env or {})},
    )


def test_a_real_process_prints_one_line_per_bad_input_and_no_traceback(tmp_path: Path) -> None:
    (tmp_path / "binary.md").write_bytes(bytes(range(256)))
    (tmp_path / "latin1.md").write_bytes(b"```python\nprint('\xe9')\n```\n")
    (tmp_path / "empty.md").write_bytes(b"")
    done = run(
        str(tmp_path / "binary.md"),
        str(tmp_path / "latin1.md"),
        str(tmp_path / "empty.md"),
        str(tmp_path / "missing.md"),
    )
    assert done.returncode == EXIT_UNUSABLE
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        f"{tmp_path}/binary.md: is a binary file, not markdown",
        f"{tmp_path}/latin1.md:2: is not UTF-8 (byte 17)",
        f"{tmp_path}/empty.md: is empty",
        f"{tmp_path}/missing.md: no such file",
    ]


@pytest.mark.skipif(sys.platform == "darwin", reason="macOS file names are always UTF-8")
def test_a_file_name_that_is_not_utf8(tmp_path: Path) -> None:
    """Printed with a backslash escape, even where stdout would refuse it (strict UTF-8)."""
    folder = os.fsencode(tmp_path)
    with open(folder + b"/caf\xe9.md", "wb") as lesson:
        lesson.write(b"---\nid: cafe\n---\n```python\nassert 1 == 2\n```\n")
    done = run(str(tmp_path), env={"PYTHONIOENCODING": "utf-8"})
    assert done.returncode == EXIT_FAILED, done.stderr
    assert "Traceback" not in done.stderr
    assert (
        without_cache_lines(done.stdout.splitlines())[0]
        == f"{tmp_path}/caf\\udce9.md:5: [cpu] AssertionError: "
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "# Unclosed\n\n```python\nx = 1\n\nMore prose, swallowed by the fence.\n",
            "unclosed.md:3: this code fence is never closed (no closing ``` line)",
        ),
        (
            '# Typo\n\n<!-- harness: skp "flaky" -->\n```python\nx = 1\n```\n',
            "unclosed.md:3: unknown directive 'skp' (known: skip, raises, time-limit, replace, "
            "hidden); did you mean 'skip'?",
        ),
        (
            "# Misplaced\n\n<!-- harness: raises KeyError -->\n\nProse.\n",
            "unclosed.md:3: the directive is not followed by a code block (found paragraph)",
        ),
    ],
    ids=["unclosed-fence", "directive-typo", "directive-before-prose"],
)
def test_unclosed_fences_and_bad_directives_name_their_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    lesson = tmp_path / "unclosed.md"
    lesson.write_text(text, encoding="utf-8")
    good = tmp_path / "good.md"
    good.write_text(GOOD, encoding="utf-8")
    code, out, err = check(capsys, str(lesson), str(good))
    assert code == EXIT_UNUSABLE
    assert err == [f"{tmp_path}/{message}"]
    assert out[-1].startswith("1 passed, 0 failed (blocks)")  # the good lesson still ran
