"""A toy claim kind in one file: ``x = torch.zeros(3)  # dtype: torch.float32`` claims the
dtype of the value its line produces. Loaded by ``harness.claims.kinds.load(this file)``."""

from __future__ import annotations

import re

from harness.claims.kinds import Kind, Reading, register
from harness.claims.model import Comment
from harness.claims.outcome import Outcome, failed, passed, unchecked

_CLAIM = re.compile(r"dtype:\s*(torch\.\w+)")


class DtypeKind(Kind):
    name = "dtype"

    def read(self, comment: Comment, reading: Reading) -> str | None:
        found = _CLAIM.fullmatch(comment.text.strip())
        return found.group(1) if found is not None and comment.trailing else None

    def check(self, value: object, parsed: object) -> Outcome:
        dtype = getattr(value, "dtype", None)
        if dtype is None:
            return unchecked(f"a {type(value).__name__} has no dtype")
        return passed(str(parsed)) if str(dtype) == parsed else failed(str(parsed), str(dtype))


register(DtypeKind())
