"""Benchmarks time what a user's command does: the commands they start import torch in their
own workers (or in their own warm process), as a user's do."""

from __future__ import annotations

import pytest

from harness.run import warm


@pytest.fixture(autouse=True)
def _without_the_shared_warm_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test session's shared warm process (tests/conftest.py) is not theirs: a command
    forking its workers from it skips torch's import, and a ratio to a plain run (which
    imports torch) or a serial run would time that, not harness (a ``--no-cache`` check
    came out at 0.85x a plain run, ``-n 2`` at 0.90x serial)."""
    monkeypatch.delenv(warm.ADDRESS, raising=False)
