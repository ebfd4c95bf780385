"""What the report reads and how it writes it: escaped text, refused lesson paths, JSON nested
too deeply, odd lesson ids (issue 11)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from harness.cli import main
from tests.paths import ROOT, SAMPLES
from tests.report_pages import (
    MINI_PAGE,
    build,
    mini,
    text_of,
)

# lesson paths in results are relative to the directory the check ran in (conftest)
pytestmark = pytest.mark.usefixtures("at_root")


# ---------------------------------------------------------------- output integrity (issue 11)


def test_lone_surrogates_in_output_are_escaped_and_the_report_is_written_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = mini()
    lesson = document["lessons"][0]
    lesson["blocks"][1]["results"]["cpu"]["stdout"] = "a\udc80b <script>\n"
    lesson["blocks"][3]["results"]["cpu"]["error"]["message"] = "bad \ud800 here"
    document["problems"] = ["lessons/\udcff.md: is not UTF-8 (byte 0)"]
    results = tmp_path / "results.json"
    results.write_text(json.dumps(document), encoding="utf-8")  # \udc80 as a JSON escape
    out = tmp_path / "reports"
    assert main(["report", str(results), "--out", str(out)]) == 0, capsys.readouterr().err
    html = (out / MINI_PAGE).read_text(encoding="utf-8")  # strict UTF-8: written whole
    assert "a\\udc80b &lt;script&gt;" in html and "bad \\ud800 here" in html
    assert "lessons/\\udcff.md: is not UTF-8" in (out / "index.html").read_text(encoding="utf-8")
    assert "</html>" in html


@pytest.mark.parametrize(
    "path",
    [
        "/etc/passwd",
        "../secret.md",
        "{outside}/secret.md",
        "sub/../../secret.md",
        "link.md",
        "notes.txt",
        "..",
    ],
)
def test_harness_report_refuses_a_lesson_path_outside_the_folder(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    path: str,
) -> None:
    (tmp_path / "secret.md").write_text("```python\nSECRET = 1\n```\n")
    here = tmp_path / "run"
    (here / "sub").mkdir(parents=True)
    (here / "link.md").symlink_to(tmp_path / "secret.md")
    (here / "notes.txt").write_text("SECRET")
    monkeypatch.chdir(here)
    document = mini()
    document["lessons"][0]["path"] = path.format(outside=tmp_path)
    Path("results.json").write_text(json.dumps(document), encoding="utf-8")
    assert main(["report", "results.json", "--out", "out"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert err.startswith(f"results.json: lesson path {document['lessons'][0]['path']!r} refused:")
    assert f"the report reads only .md files inside {here}" in err
    assert not list(Path().glob("out/*.html"))  # nothing written
    # write_report itself (the pytest plugin's way in) does not read it either
    html = build(tmp_path, document)[MINI_PAGE]
    assert "SECRET" not in html and "root:" not in html
    assert "was not read:" in text_of(html)


def test_a_lesson_path_inside_the_folder_is_read_absolute_or_relative(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for path in (
        str(ROOT / "tests/samples/report-mini.md"),
        "tests/../tests/samples/report-mini.md",
    ):
        document = mini()
        document["lessons"][0]["path"] = path
        results = tmp_path / "results.json"
        results.write_text(json.dumps(document), encoding="utf-8")
        assert main(["report", str(results), "--out", str(tmp_path / "out")]) == 0
        html = (tmp_path / "out" / MINI_PAGE).read_text(encoding="utf-8")
        assert "The lesson text is missing" not in html and 'id="L27"' in html
    capsys.readouterr()


def test_a_checked_lesson_outside_the_folder_is_still_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``harness check ../x.md --report r``: the run's own lessons are read wherever they are."""
    here = tmp_path / "run"
    here.mkdir()
    shutil.copy(SAMPLES / "report-mini.md", tmp_path / "mini.md")
    monkeypatch.chdir(here)
    document = mini()
    document["lessons"][0]["path"] = "../mini.md"
    html = build(tmp_path, document, checked=["../mini.md"])[MINI_PAGE]
    assert "The lesson text is missing" not in html and 'id="L27"' in html


def test_harness_report_names_json_nested_too_deeply_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    assert main(["report", str(deep), "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err == f"{deep}: is not usable JSON (nested too deeply)\n"


def test_a_long_or_odd_lesson_id_gives_a_short_file_name_inside_the_folder(
    tmp_path: Path,
) -> None:
    document = mini()
    document["lessons"][0]["id"] = "../" + "x" * 1000 + "\udc80"
    pages = build(tmp_path, document)
    (name,) = [name for name in pages if name != "index.html"]
    assert name == "-" + "x" * 97 + ".html"  # "../" made safe, cut at 100, dots stripped
    assert sorted(p.name for p in (tmp_path / "report").iterdir()) == sorted(pages)
