"""``pytest lessons/``: items per block and device, messages at lesson lines, xdist."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT
from tests.lessons import mutate


def pytest_run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def verdicts(path: Path) -> dict[str, object]:
    (lesson,) = json.loads(path.read_text())["lessons"]
    blocks = {b["line"]: b["results"]["cpu"]["status"] for b in lesson["blocks"]}
    claims = {
        c["line"]: (c["results"]["cpu"]["verdict"], c["results"]["cpu"]["actual"])
        for c in lesson["claims"]
    }
    return {"blocks": blocks, "claims": claims}


def test_serial_and_xdist_give_the_same_verdicts(tmp_path: Path) -> None:
    serial = pytest_run("lessons/", "-q", "--harness-json", str(tmp_path / "serial.json"))
    assert serial.returncode == 0, serial.stdout
    assert "17 passed, 1 skipped" in serial.stdout
    parallel = pytest_run(
        "lessons/", "-q", "-n", "2", "--harness-json", str(tmp_path / "parallel.json")
    )
    assert parallel.returncode == 0, parallel.stdout
    assert "17 passed, 1 skipped" in parallel.stdout
    one, two = verdicts(tmp_path / "serial.json"), verdicts(tmp_path / "parallel.json")
    assert one == two
    assert len(one["claims"]) == 63  # type: ignore[arg-type]


def test_isolated_items_give_the_reader_order_claim_verdicts(tmp_path: Path) -> None:
    reader = pytest_run("lessons/", "-q", "--harness-json", str(tmp_path / "reader.json"))
    isolated = pytest_run(
        "lessons/", "-q", "-n", "2", "--isolated", "--harness-json", str(tmp_path / "iso.json")
    )
    assert "17 passed, 1 skipped" in isolated.stdout, isolated.stdout
    assert reader.returncode == 0
    one, two = verdicts(tmp_path / "reader.json"), verdicts(tmp_path / "iso.json")
    assert one["claims"] == two["claims"]


def test_failure_message_starts_at_the_lesson_line(tmp_path: Path) -> None:
    lesson = tmp_path / "dl.md"
    lesson.write_text(mutate(443, "[batch, seq_len]", "[seq_len, batch]"))
    done = pytest_run(str(lesson), "-q", "-rf", "--rootdir", str(tmp_path))
    assert done.returncode == 1
    assert "1 failed, 16 passed, 1 skipped" in done.stdout
    assert "dl.md::L426[cpu]" in done.stdout
    assert "dl.md:443: [cpu] scores: expected [seq_len, batch], found [8, 50]" in done.stdout
    assert "Traceback" not in done.stdout
