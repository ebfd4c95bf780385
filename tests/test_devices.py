"""Devices: absent ones are skipped with a reason; the census sees where work ran."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.lesson import parse_lesson, read_lesson
from harness.results import LessonResult
from harness.run.devices import (
    Census,
    available,
    default_device,
    mechanism_limit,
    unavailable_reason,
)
from harness.run.runner import check_lesson
from harness.static.lint import device_fragile
from tests.lessons import harness_cli as run
from tests.paths import LESSON, SAMPLES


def test_cpu_is_always_available() -> None:
    assert available()[0] == "cpu"
    assert unavailable_reason("cpu") is None
    assert "not a torch device type" in (unavailable_reason("tpu") or "")


def test_an_absent_device_is_skipped_with_its_reason(dl_cache: Path, tmp_path: Path) -> None:
    """The cpu's blocks are answered from a copy of the cache of the session's cpu run of the
    lesson: what is said of the absent device is the point."""
    if "cuda" in available():  # pragma: no cover - a GPU machine
        return
    out = str(tmp_path / "r.json")
    done = run(
        "check",
        "lessons/dl.md",
        "--devices",
        "cpu,cuda",
        "--json",
        out,
        HARNESS_CACHE_DIR=str(dl_cache),
    )
    assert done.returncode == 0, done.stdout
    assert "lessons/dl.md: 0 blocks ran, 17 from the cache" in done.stdout.splitlines()
    # 17 Python blocks on cuda, and the bash fence on each device
    assert "17 passed, 0 failed, 19 skipped" in done.stdout
    # never green by omission: the device asked for and absent is said on the terminal
    assert "lessons/dl.md: [cuda] not checked: cuda is not available on this machine" in (
        done.stdout
    )
    (lesson,) = json.loads((tmp_path / "r.json").read_text())["lessons"]
    block = next(b for b in lesson["blocks"] if b["line"] == 158)
    assert block["results"]["cpu"]["status"] == "passed"
    assert block["results"]["cuda"]["status"] == "skipped"
    assert "cuda is not available on this machine" in block["results"]["cuda"]["reason"]
    claim = next(c for c in lesson["claims"] if c["line"] == 111)
    assert claim["results"]["cuda"]["verdict"] == "not-run"


def test_census_on_cpu_is_all_cpu_for_the_lesson(dl_result: LessonResult) -> None:
    """Also on a GPU machine: block 44's ``torch.device("cuda" if torch.cuda.is_available()
    else "cpu")`` picks the cpu in the cpu run (before, on an H200, its ``.to(device)`` at
    line 63 sent 7% of its work to cuda and flagged the cpu run ran-elsewhere)."""
    result = dl_result
    assert result.blocks[607]["cpu"].census == {"cpu": 1.0}
    for fence in result.lesson.python_fences:
        block = result.blocks[fence.line]["cpu"]
        assert block.census in ({"cpu": 1.0}, {}), (fence.line, block.census)  # {}: no ops
        assert block.flags == []


def test_work_moved_to_another_device_is_flagged_at_the_line_that_moved_it() -> None:
    result = check_lesson(read_lesson(SAMPLES / "moves_to_meta.md"), ["cpu"])
    moved = result.blocks[6]["cpu"]
    assert moved.flags == ["ran-elsewhere"]
    assert moved.moved_at == 10
    assert moved.census["meta"] > 0.5
    assert result.blocks[15]["cpu"].flags == []
    (line,) = [f for f in result.failures() if "ran-elsewhere" in f]
    assert line.startswith(f"{SAMPLES / 'moves_to_meta.md'}:10: [cpu] ran-elsewhere")


LOSS_CLAIM = """```python
import torch
import torch.nn as nn

x = torch.ones(2)
mse = nn.MSELoss()  # Mean Squared Error
```
"""


def test_a_claims_own_torch_work_is_not_counted_as_the_blocks() -> None:
    """The loss claim's check draws its sample inputs on the cpu: on another device they
    counted as the block's work (cpu 15% here; on an H200, 13% of block 703's cuda run)."""
    result = check_lesson(parse_lesson(LOSS_CLAIM, "t.md"), ["meta"])
    assert result.verdicts[6]["meta"].verdict != "not-run"  # the check ran (meta: unchecked)
    block = result.blocks[1]["meta"]
    assert (block.census, block.flags) == ({"meta": 1.0}, [])


def test_device_fragile_forward_is_reported_at_line_319() -> None:
    notes = device_fragile(read_lesson(LESSON))
    assert [(n.line, n.kind) for n in notes] == [(319, "device-fragile")]


def test_the_dataloader_generator_error_is_the_mechanisms_limit() -> None:
    message = "Expected a 'cuda' device type for generator but found 'cpu'"
    assert "118084" in (mechanism_limit(message) or "")
    assert mechanism_limit("mat1 and mat2 shapes cannot be multiplied") is None


def test_a_factory_given_a_generator_draws_on_the_generators_device() -> None:
    """What a reader's code does with no default device set: ``DataLoader(shuffle=True)``
    draws its ``randperm`` with a CPU generator. Under the mechanism the draw stays on the
    generator's device (it raised on cuda, pytorch/pytorch#118084); other factories still
    create on the device under test, and the default device is restored after."""
    import torch
    from torch.overrides import _get_current_function_mode_stack

    generator = torch.Generator().manual_seed(0)
    expected = torch.randperm(10, generator=torch.Generator().manual_seed(0))
    with default_device("meta"):
        drawn = torch.randperm(10, generator=generator)
        made = torch.randn(2)
        placed = torch.randperm(10, generator=generator, device="meta")
    assert drawn.device.type == "cpu" and torch.equal(drawn, expected)
    assert made.device.type == "meta" and placed.device.type == "meta"
    assert torch.randn(1).device.type == "cpu"
    with default_device("cpu"):  # no torch function mode is left behind, cpu's neither
        pass
    assert _get_current_function_mode_stack() == []  # type: ignore[no-untyped-call]


def test_the_cpu_run_is_a_readers_without_an_accelerator(monkeypatch: pytest.MonkeyPatch) -> None:
    """On a GPU machine, ``torch.device("cuda" if torch.cuda.is_available() else "cpu")`` in
    block 44 sent its matrix to cuda during the cpu run (H200: flagged ran-elsewhere)."""
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)  # a machine with cuda
    with default_device("cpu"):
        assert torch.device("cuda" if torch.cuda.is_available() else "cpu").type == "cpu"
        assert not torch.backends.mps.is_available()
    assert torch.cuda.is_available()  # the harness's own question, after the block
    with default_device("meta"):
        assert torch.cuda.is_available()  # an accelerator's run sees the machine as it is


def _train(census: Census) -> list[float]:
    """Three steps of a tiny model, under ``census``; returns the losses the code computed."""
    import torch

    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    x, computed = torch.ones(4, 3), []
    with census:
        for _ in range(3):
            optimizer.zero_grad()
            loss = (model(x) ** 2).mean()
            loss.backward()
            optimizer.step()
            computed.append(loss.item())
        out = model(x)
        out.backward(torch.ones_like(out))  # not a scalar: not a loss, not recorded
    return computed


def test_the_census_records_a_training_loops_losses_without_counting_them() -> None:
    """Issue 15 item 8: each ``backward()`` of a one-element tensor keeps its loss; the
    recording is not counted as the lesson's work and changes nothing it computes."""
    plain, recording = Census("cpu", "t.md"), Census("cpu", "t.md", record_losses=True)
    computed = _train(plain)
    assert _train(recording) == computed
    assert recording.losses() == computed
    assert recording.counts == plain.counts
    assert plain.losses() == []
