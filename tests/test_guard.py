"""The write guard (harness/guard.py): lesson code may not write inside the folder harness was
started from, by any Python-level way; the harness's scratch space always stays writable; and
a lesson that interrupts itself or closes its stdout is its own block's failure, not a crash."""

from __future__ import annotations

import json
import os
import signal
import tempfile
from pathlib import Path
from typing import Any

import pytest

from tests.lessons import harness_check as _harness
from tests.paths import ROOT

REFUSED = "lesson code may not write inside"


def _snapshot(folder: Path) -> dict[str, tuple[bytes | str, int]]:
    """Every entry under ``folder``: its content (or link target) and its mode."""
    found: dict[str, tuple[bytes | str, int]] = {}
    for top, folders, files in os.walk(folder):  # symbolic links are not followed
        for name in folders + files:
            path = Path(top, name)
            content: bytes | str = b""
            if path.is_symlink():
                content = os.readlink(path)
            elif path.is_file():
                content = path.read_bytes()
            found[str(path.relative_to(folder))] = (content, path.lstat().st_mode)
    return found


def _blocks(results: Path) -> dict[int, dict[str, Any]]:
    (lesson,) = json.loads(results.read_text())["lessons"]
    return {block["line"]: block["results"]["cpu"] for block in lesson["blocks"]}


def test_lesson_code_cannot_write_into_the_repository(tmp_path: Path) -> None:
    readme = ROOT / "README.md"
    before = (readme.read_bytes(), readme.stat().st_mtime_ns)
    new_file = ROOT / "tests" / "samples" / "limits" / "written-by-a-lesson.txt"
    lesson = tmp_path / "writes.md"
    lesson.write_text(
        f"```python\nopen({str(readme)!r}, 'a').close()\n```\n\n"  # line 2
        f"```python\nimport pathlib\npathlib.Path({str(new_file)!r}).write_text('x')\n```\n\n"
        f"```python\nimport os\nos.rename({str(readme)!r}, 'README.moved')\n```\n\n"  # line 12
        "```python\nimport torch\n"
        f"torch.save(torch.zeros(2), {str(new_file)!r})\n```\n\n"  # line 17
        "```python\nimport os\nimport torch\n\n"  # the temporary folder is the lesson's
        "with open('scratch.txt', 'w') as file:\n    file.write('kept')\n"
        "torch.save(torch.zeros(2), 'model.pt')\n"
        "print(open('scratch.txt').read(), os.path.exists('model.pt'))\n```\n\n"
        f"```python\nimport os\nos.chdir({str(ROOT)!r})\nopen('README.md', 'w')\n```\n"  # 33
    )
    done = _harness(str(lesson), "--devices", "cpu", "--no-cache", "--json", str(tmp_path / "r"))
    assert (readme.read_bytes(), readme.stat().st_mtime_ns) == before
    assert not new_file.exists()
    failures = [line for line in done.stdout.splitlines() if ": [cpu] " in line]
    refused = f"lesson code may not write inside {ROOT}, where harness was started"
    assert [line.split(": [cpu] ")[0] for line in failures] == [
        f"{lesson}:{n}" for n in (2, 7, 12, 17, 33)
    ]
    assert all(f"[cpu] PermissionError: [Errno 13] {refused}" in line for line in failures)
    assert failures[0].endswith(f": '{readme}'")
    (result,) = json.loads((tmp_path / "r").read_text())["lessons"]
    allowed = next(block for block in result["blocks"] if block["line"] == 20)
    assert allowed["results"]["cpu"]["stdout"] == "kept True\n"


# Each block tries one way to change the started-from folder R (holding victim.txt, sub/ and
# a symbolic link out of it); all of them must be refused at the block's line. The blocks
# that change the current folder come last: the namespace and the process are shared.
ATTACKS = {
    "hard link out, then write": "os.link(R + '/victim.txt', 'hl'); open('hl', 'w').write('x')",
    "hard link in": "open('mine', 'w').close(); os.link('mine', R + '/new_link')",
    "os.open dir_fd": "fd = os.open('victim.txt', os.O_WRONLY | os.O_TRUNC, dir_fd=D)",
    "os.open dir_fd, create": "os.open('created', os.O_WRONLY | os.O_CREAT, dir_fd=D)",
    "open opener dir_fd": (
        "open('victim.txt', 'w', opener=lambda p, f: os.open(p, f, dir_fd=D)).write('x')"
    ),
    "mkdir dir_fd": "os.mkdir('newdir', dir_fd=D)",
    "rename dir_fd": "os.rename('victim.txt', 'moved', src_dir_fd=D, dst_dir_fd=D)",
    "remove dir_fd": "os.remove('victim.txt', dir_fd=D)",
    "rmdir dir_fd": "os.rmdir('sub', dir_fd=D)",
    "symlink dir_fd": "os.symlink('/etc/passwd', 'sl', dir_fd=D)",
    "chmod dir_fd": "os.chmod('victim.txt', 0o600, dir_fd=D)",
    "utime dir_fd": "os.utime('victim.txt', (0, 0), dir_fd=D)",
    "fchmod": "os.fchmod(os.open(R + '/victim.txt', os.O_RDONLY), 0o600)",
    "fchown": "os.fchown(os.open(R + '/victim.txt', os.O_RDONLY), os.getuid(), os.getgid())",
    "futime": "os.utime(os.open(R + '/victim.txt', os.O_RDONLY), (0, 0))",
    "mkfifo": "os.mkfifo(R + '/fifo')",
    "mkfifo dir_fd": "os.mkfifo('fifo', dir_fd=D)",
    "mknod": "import stat\nos.mknod(R + '/node', stat.S_IFREG | 0o600)",
    "sqlite3": "import sqlite3\nsqlite3.connect(R + '/db.sqlite').execute('create table t(x)')",
    "sqlite3 uri": (
        "import sqlite3\n"
        "db = sqlite3.connect('file:' + R + '/db.sqlite?mode=rwc', uri=True)\n"
        "db.execute('create table t(x)')"
    ),
    "torch.jit.save": "torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), R + '/m.pt')",
    "ScriptModule.save": "torch.jit.script(torch.nn.Linear(2, 2)).save(R + '/m.pt')",
    "flatbuffer": (
        "torch.jit.save_jit_module_to_flatbuffer(torch.jit.script(torch.nn.Linear(2, 2)), "
        "R + '/m.ff')"
    ),
    "torch.from_file shared": "torch.from_file(R + '/ff.bin', shared=True, size=4)",
    "UntypedStorage.from_file": "torch.UntypedStorage.from_file(R + '/us.bin', True, 16)",
    "profiler trace": (
        "with torch.profiler.profile() as prof:\n    torch.ones(2) + 1\n"
        "prof.export_chrome_trace(R + '/trace.json')"
    ),
    "torch.distributed.FileStore": "torch.distributed.FileStore(R + '/store', 1)",
    "write through /proc/self/fd": (
        "fd = os.open(R + '/victim.txt', os.O_RDONLY)\nopen(f'/proc/self/fd/{fd}', 'w')"
    ),
    "remove a link of R's pointing out": "os.remove(R + '/link_out')",
    "symbolic link out, then write": "os.symlink(R + '/victim.txt', 'ln'); open('ln', 'w')",
    "chdir into a folder, delete it, write relative": (
        "t = tempfile.mkdtemp()\nos.chdir(t)\nos.rmdir(t)\n"
        "open(os.path.relpath(R + '/victim.txt', t), 'w').write('x')"
    ),
    "fchdir": "os.fchdir(D)\nopen('victim.txt', 'w')",
}
ALLOWED = (  # the same calls in the block's own temporary folder
    "import sqlite3, stat\n"
    "open('a.txt', 'w').write('x'); os.link('a.txt', 'b.txt'); os.mkfifo('f')\n"
    "os.mknod('n', stat.S_IFREG | 0o600); os.fchmod(os.open('a.txt', os.O_RDONLY), 0o600)\n"
    "here = os.open('.', os.O_RDONLY)\n"
    "os.close(os.open('c', os.O_CREAT | os.O_WRONLY, dir_fd=here))\n"
    "sqlite3.connect('d.db').execute('create table t(x)')\n"
    "torch.save(torch.zeros(1), 't.pt')\n"
    "torch.jit.save(torch.jit.script(torch.nn.Linear(1, 1)), 'j.pt')\n"
    "torch.from_file('ff', shared=True, size=2)\n"
    "print(sorted(os.listdir('.')))\n"
)


def test_every_python_level_way_to_write_is_refused_at_its_line(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "sub").mkdir(parents=True)
    (repo / "victim.txt").write_text("victim\n")
    (repo / "link_out").symlink_to(tmp_path)
    text = (
        "```python\nimport os, tempfile\nimport torch\n\n"
        f"R = {str(repo)!r}\nD = os.open(R, os.O_RDONLY)\n```\n\n"
        f"```python\n{ALLOWED}```\n"
    )
    lines = {}
    for name, code in ATTACKS.items():
        text += f"\n{name}:\n\n"
        lines[name] = text.count("\n") + 1
        text += f"```python\n{code}\n```\n"
    lesson = repo / "attacks.md"
    lesson.write_text(text)
    before = _snapshot(repo)
    _harness(lesson.name, "--devices", "cpu", "--no-cache", "--json", str(tmp_path / "r"), cwd=repo)
    blocks = _blocks(tmp_path / "r")
    assert blocks[9]["status"] == "passed", blocks[9]
    made = ["a.txt", "b.txt", "c", "d.db", "f", "ff", "j.pt", "n", "t.pt"]
    assert blocks[9]["stdout"] == f"{made}\n"
    let_through = {
        name: (blocks[line]["status"], blocks[line]["error"])
        for name, line in lines.items()
        if blocks[line]["status"] != "failed" or REFUSED not in blocks[line]["error"]["message"]
    }
    assert let_through == {}
    assert _snapshot(repo) == before


def test_the_harness_scratch_space_is_never_refused(tmp_path: Path) -> None:
    """Started from the system temporary folder itself (TMPDIR = the current folder), the
    worker's own working folder lies in the started-from folder: it stays the lesson's."""
    lesson = tmp_path / "scratch.md"
    lesson.write_text(
        "```python\nimport tempfile\n\n"
        "open('here.txt', 'w').write('hi')\n"
        "open(tempfile.gettempdir() + '/harness-guard-test.txt', 'w').write('hi')\n"
        "print(open('here.txt').read())\n```\n"
    )
    results = tmp_path / "out" / "r.json"
    results.parent.mkdir()
    done = _harness(lesson.name, "--devices", "cpu", "--no-cache", "--json", str(results),
                    cwd=tmp_path, TMPDIR=str(tmp_path))  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert _blocks(results)[1]["status"] == "passed"
    assert _blocks(results)[1]["stdout"] == "hi\n"


def test_the_rest_of_the_started_from_folder_stays_protected_around_its_temp_folder(
    tmp_path: Path,
) -> None:
    (tmp_path / "tmp").mkdir()
    lesson = tmp_path / "rest.md"
    lesson.write_text(
        "```python\nimport os, tempfile\n\n"
        "open(tempfile.gettempdir() + '/ok.txt', 'w').write('hi')\n"
        "open('ok.txt', 'w').write('hi')\n```\n\n"
        f"```python\nopen({str(tmp_path / 'victim.txt')!r}, 'w')\n```\n"
    )
    results = tmp_path / "tmp" / "r.json"
    done = _harness(lesson.name, "--devices", "cpu", "--no-cache", "--json", str(results),
                    cwd=tmp_path, TMPDIR=str(tmp_path / "tmp"))  # fmt: skip
    blocks = _blocks(results)
    assert blocks[1]["status"] == "passed", done.stdout
    assert blocks[8]["status"] == "failed" and REFUSED in blocks[8]["error"]["message"]
    assert not (tmp_path / "victim.txt").exists()
    assert (tmp_path / "tmp" / "ok.txt").read_text() == "hi"


def _run(tmp_path: Path, source: str) -> dict[int, dict[str, Any]]:
    """``harness check`` of ``source`` from ``tmp_path``: its blocks' cpu results."""
    (tmp_path / "lesson.md").write_text(source)
    results = tmp_path / "r.json"
    done = _harness("lesson.md", "--devices", "cpu", "--no-cache", "--json", str(results),
                    cwd=tmp_path)  # fmt: skip
    assert "Traceback" not in done.stdout + done.stderr
    return _blocks(results)


def test_a_keyboard_interrupt_from_the_lesson_is_its_blocks_failure(tmp_path: Path) -> None:
    blocks = _run(
        tmp_path,
        "```python\nprint('one')\n```\n\n"
        "```python\nraise KeyboardInterrupt('stop')\n```\n\n"  # line 5
        "<!-- harness: raises KeyboardInterrupt -->\n"
        "```python\nraise KeyboardInterrupt\n```\n\n"  # line 10
        "```python\nimport signal\n\nsignal.default_int_handler(signal.SIGINT, None)\n```\n\n"
        "```python\nprint('after')\n```\n",  # line 20
    )
    assert blocks[5]["status"] == "failed"
    assert blocks[5]["error"]["type"] == "KeyboardInterrupt"
    assert (blocks[5]["error"]["line"], blocks[5]["error"]["message"]) == (6, "stop")
    assert blocks[10]["status"] == "passed", blocks[10]
    assert blocks[14]["status"] == "failed"
    assert (blocks[14]["error"]["type"], blocks[14]["error"]["line"]) == ("KeyboardInterrupt", 17)
    assert (blocks[20]["status"], blocks[20]["stdout"]) == ("passed", "after\n")


def test_a_lesson_that_closes_its_stdout_is_not_a_crash(tmp_path: Path) -> None:
    blocks = _run(
        tmp_path,
        "```python\nimport sys\n\nprint('before')\nsys.stdout.close()\nprint('after')\n```\n\n"
        "```python\nimport sys\n\nsys.stderr.close()\n```\n\n"  # line 9
        "```python\nimport sys\n\nprint('later')\nprint('err', file=sys.stderr)\n"
        "sys.__stdout__.close()\n```\n\n"  # line 15
        "```python\nprint('last')\n```\n",  # line 23
    )
    first = blocks[1]
    assert first["status"] == "failed", first
    error = first["error"]
    assert (error["type"], error["line"], first["stdout"]) == ("ValueError", 6, "before\n")
    assert blocks[9]["status"] == "passed"
    assert (blocks[15]["status"], blocks[15]["stdout"]) == ("passed", "later\nerr\n")
    assert (blocks[23]["status"], blocks[23]["stdout"]) == ("passed", "last\n")


def test_a_real_sigint_still_stops_the_lesson() -> None:
    """Ctrl-C (or the harness ending the worker) is not the lesson's exception: it stops."""
    from harness.claims import find_claims
    from harness.lesson import parse_lesson
    from harness.run.execute import run_lesson

    lesson = parse_lesson(
        "```python\nimport os, signal\n\nos.kill(os.getpid(), signal.SIGINT)\n```\n\n"
        "```python\nprint('after')\n```\n",
        "sigint.md",
    )
    reported: list[int] = []
    with pytest.raises(KeyboardInterrupt):
        run_lesson(lesson, find_claims(lesson), "cpu", lambda f, r, t: reported.append(f.line))
    assert reported == []
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


# The hook itself, called directly (an audit hook cannot be removed once added).


def test_a_path_relative_to_a_dir_fd_is_resolved_against_that_folder(tmp_path: Path) -> None:
    from harness.run.guard import write_guard

    hook = write_guard(str(tmp_path))
    folder = os.open(tmp_path, os.O_RDONLY)
    elsewhere = os.open(tempfile.gettempdir(), os.O_RDONLY)
    try:
        with pytest.raises(PermissionError, match=REFUSED):
            hook("os.mkdir", ("x", 0o777, folder))
        with pytest.raises(PermissionError, match=REFUSED):
            hook("os.rename", ("a", "b", -1, folder))
        with pytest.raises(PermissionError, match=REFUSED):
            hook("os.chmod", (folder, 0o700, -1))  # os.fchmod of the folder itself
        hook("os.mkdir", ("x", 0o777, elsewhere))
        hook("os.chmod", (elsewhere, 0o700, -1))
        with pytest.raises(PermissionError, match="cannot tell where this path lies"):
            hook("os.mkdir", ("x", 0o777, 10**6))  # no such descriptor
    finally:
        os.close(folder)
        os.close(elsewhere)


def test_the_temporary_folder_wins_when_it_is_the_started_from_folder() -> None:
    from harness.run.guard import write_guard

    scratch = os.path.realpath(tempfile.gettempdir())
    hook = write_guard(scratch)
    hook("open", (os.path.join(scratch, "harness-x", "f"), "w", os.O_WRONLY))
    hook("os.mkdir", (os.path.join(scratch, "harness-x"), 0o700, -1))


def test_which_files_sqlite3_connect_writes() -> None:
    from harness.run.guard import _sqlite_paths

    assert _sqlite_paths(":memory:") == []
    assert _sqlite_paths("") == []
    assert _sqlite_paths("data.db") == ["data.db"]
    assert _sqlite_paths(b"data.db") == [b"data.db"]
    assert _sqlite_paths("file:/r/x%20y.db?mode=rwc") == ["file:/r/x%20y.db?mode=rwc", "/r/x y.db"]
    assert _sqlite_paths("file:///r/x.db") == ["file:///r/x.db", "/r/x.db"]
    assert _sqlite_paths("file:/r/x.db?mode=ro") == ["file:/r/x.db?mode=ro"]
    assert _sqlite_paths("file::memory:?cache=shared") == ["file::memory:?cache=shared"]
    assert _sqlite_paths(42) == []
