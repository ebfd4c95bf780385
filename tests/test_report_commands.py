"""The report from the command line and from pytest: ``harness report``, ``harness check
--report``, ``pytest --harness-report`` (under xdist too)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.cli import main
from tests.paths import SAMPLES
from tests.report_pages import (
    MINI,
    MINI_PAGE,
    Page,
    bench_document,
    between,
    claim,
    mini,
    on_device,
    summary,
)

# lesson paths in results are relative to the directory the check ran in (conftest)
pytestmark = pytest.mark.usefixtures("at_root")


# ---------------------------------------------------------------- the commands


def test_harness_report_merges_a_cpu_and_a_gpu_runner(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gpu = on_device(mini(), "cuda")
    claim(gpu, 26)["results"]["cuda"].update(verdict="failed", actual="[4]")
    (tmp_path / "gpu.json").write_text(json.dumps(gpu), encoding="utf-8")
    bench = tmp_path / "bench.json"
    bench.write_text(json.dumps(bench_document(Path("tests/samples/report-mini.md"), 33)))
    out = tmp_path / "reports"
    code = main(["report", str(MINI), str(tmp_path / "gpu.json"), str(bench), "--out", str(out)])
    assert code == 0
    assert capsys.readouterr().out == f"report: {out / 'index.html'} (1 lesson page)\n"
    html = (out / MINI_PAGE).read_text(encoding="utf-8")
    assert re.findall(r'<th scope="col" class="device">(\w+)</th>', html) == ["cpu", "cuda"]
    assert "cuda claimed [3], found [4]" in between(html, "L26", "L27")
    assert "2.5 ms" in html  # the benchmark figures


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "cannot be read (No such file or directory)"),
        (b"{not json", "is not JSON (Expecting property name"),
        (b"\xff\xfe", "is not UTF-8 (byte 0)"),
        (b'{"schema": 1}', "neither JSON results nor pytest-benchmark JSON"),
    ],
)
def test_harness_report_names_an_unusable_input_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes | None, reason: str
) -> None:
    bad = tmp_path / "bad.json"
    if content is not None:
        bad.write_bytes(content)
    assert main(["report", str(MINI), str(bad), "--out", str(tmp_path / "out")]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"{bad}: {reason}") and captured.err.count("\n") == 1
    assert not list(tmp_path.glob("out/*"))  # nothing written (--out may be made, empty)


def test_harness_report_needs_a_results_file_and_a_writable_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bench = tmp_path / "bench.json"
    bench.write_text(json.dumps(bench_document(Path("x.md"), 1)))
    assert main(["report", str(bench)]) == 2
    assert (
        capsys.readouterr().err == f"{bench}: pytest-benchmark JSON only; give a results file too\n"
    )
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    with pytest.raises(SystemExit) as exited:  # refused with the arguments, before reading
        main(["report", str(MINI), "--out", str(blocked)])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert f"'{blocked}' is a file, not a folder" in err and err.count("\n") == 1


def test_check_with_report_writes_the_pages_from_its_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results, out = tmp_path / "results.json", tmp_path / "reports"
    lesson = "tests/samples/report-mini.md"
    code = main(["check", lesson, "--devices", "cpu", "--json", str(results), "--report", str(out)])
    assert code == 1  # the lesson's claim at line 27 is false
    printed = capsys.readouterr().out.splitlines()
    assert f"report: {out / 'index.html'} (1 lesson page)" in printed
    assert "(blocks); claims: " in printed[-1]  # the closing line stays last
    html = (out / MINI_PAGE).read_text(encoding="utf-8")
    (written,) = json.loads(results.read_text(encoding="utf-8"))["lessons"]
    for item in written["claims"]:
        verdict = item["results"]["cpu"]["verdict"]
        assert Page(html).by_id(f"L{item['line']}")[1]["data-verdict"] == verdict
    assert '<a href="#L27">line 27</a>' in summary(html)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script" not in html


def test_the_pytest_plugin_writes_the_report_from_the_main_process_under_xdist(
    tmp_path: Path,
) -> None:
    lessons = tmp_path / "lessons"
    lessons.mkdir()
    shutil.copy(SAMPLES / "report-mini.md", lessons / "mini.md")
    options = ["-n", "2", "--rootdir", "lessons", "--devices", "cpu", "--harness-report", "reports"]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "lessons/mini.md", *options],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr  # line 27 and the NameError
    assert f"harness report: reports{os.sep}index.html" in done.stdout
    reports = tmp_path / "reports"
    assert sorted(p.name for p in reports.iterdir()) == ["index.html", "report-mini.html"]
    html = (reports / MINI_PAGE).read_text(encoding="utf-8")
    assert "<code>mini.md</code>" in html  # its path, relative to the rootdir (lessons/) ...
    assert "The lesson text is missing" not in html  # ... is read there, not from the cwd
    page = Page(html)
    assert [page.by_id(f"L{n}")[1]["data-verdict"] for n in (26, 27, 28, 47)] == [
        "passed",
        "failed",
        "unchecked",
        "not-run",
    ]
    assert 'id="B15"' in html and 'id="B45"' in html  # every worker's items, merged once


def test_the_default_report_draws_the_loss_curve_of_the_training_block_at_158(
    dl_checked: Path,
) -> None:
    """No benchmark run: the ordinary check records each step's loss, and the report of
    ``harness check lessons/dl.md --report`` (the session's one run) draws the curve in the
    block at line 158."""
    page = (dl_checked / "report" / "dl.html").read_text(encoding="utf-8")
    block = page[page.index('id="B158"') : page.index('id="B205"')]
    assert 'aria-label="Loss on cpu over 10 steps' in block
    assert "<svg" in block and ">step<" in block and ">loss<" in block
