"""pytest-xdist scheduling for lessons: every item of a lesson on one device goes to one worker.

A lesson runs once per process and device (``harness.plugin``), so a lesson whose items were
spread over N workers would run N times. ``LessonScheduling`` is xdist's ``loadscope`` with
the lesson file and device as the scope: ``lessons/dl.md::03_mlp[cpu]`` and
``lessons/dl.md::09_lstmclassifier[cpu]`` share a worker, the same blocks on ``cuda`` may go
to another. Any other item (a Python test collected beside the lessons) is a scope of its
own, placed as ``--dist load`` places it. Imported only when pytest-xdist asks for a
scheduler.
"""

from __future__ import annotations

from typing import Any

import pytest
from xdist.remote import Producer  # type: ignore[import-untyped]
from xdist.scheduler import LoadScopeScheduling  # type: ignore[import-untyped]


def lesson_scope(nodeid: str) -> str:
    """``path.md::[device]`` for a lesson's item, the node id itself for any other item."""
    path, _, name = nodeid.partition("::")
    if not path.endswith(".md") or not name.endswith("]") or "[" not in name:
        return nodeid
    return f"{path}::{name[name.rindex('[') :]}"


class LessonScheduling(LoadScopeScheduling):  # type: ignore[misc]
    """``--dist loadscope`` with ``lesson_scope``: one work unit per lesson and device."""

    def __init__(self, config: pytest.Config, log: Any = None) -> None:
        super().__init__(config, log)
        self.log = Producer("lessonsched") if log is None else log.lessonsched

    def _split_scope(self, nodeid: str) -> str:
        return lesson_scope(nodeid)
