"""Torch devices: which are here, how plain lesson code is put on one, and where work ran.

Runs inside the worker (it imports torch). The mechanism: ``torch.set_default_device`` for
the block's run, so factory functions (``torch.randn``, ``nn.Linear``'s parameters) create
their tensors on the device under test without the lesson naming it. Its known limit: a
``DataLoader(shuffle=True)`` builds a CPU ``torch.Generator`` that meets a ``randperm`` on the
default device (pytorch/pytorch#118084); that failure is the mechanism's, reported as
``unsupported``, never as the lesson failing.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable
from typing import Any

import torch
from torch.overrides import TorchFunctionMode

KNOWN = ("cpu", "cuda", "mps", "xpu")
MECHANISM_LIMITS = (
    (
        "device type for generator",
        "pytorch/pytorch#118084: a CPU generator meets the default device",
    ),
)


def available() -> list[str]:
    """cpu always, then each accelerator torch can use here."""
    found = ["cpu"]
    if torch.cuda.is_available():
        found.append("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        found.append("mps")
    xpu = getattr(torch, "xpu", None)
    if xpu is not None and xpu.is_available():
        found.append("xpu")
    accelerator = getattr(torch, "accelerator", None)
    if accelerator is not None and accelerator.is_available():
        current = accelerator.current_accelerator()
        if current is not None and current.type not in found:
            found.append(current.type)
    return found


def unavailable_reason(device: str) -> str | None:
    """Why ``device`` cannot be used here, or None when it can."""
    if device in available() or device == "meta":
        return None
    if device not in KNOWN:
        return f"{device} is not a torch device type this harness knows ({', '.join(KNOWN)})"
    return f"{device} is not available on this machine (torch {torch.__version__})"


def mechanism_limit(message: str) -> str | None:
    """The reason when an error comes from the default-device mechanism, not the lesson."""
    for pattern, reason in MECHANISM_LIMITS:
        if pattern in message:
            return reason
    return None


def synchronize(device: str) -> None:
    """Wait for queued work on ``device`` (GPU work is asynchronous)."""
    module = getattr(torch, device, None)
    sync: Callable[[], None] | None = getattr(module, "synchronize", None)
    if device != "cpu" and sync is not None:
        sync()


_MOVES = {"to", "cuda", "cpu", "mps", "xpu"}


class Census(TorchFunctionMode):
    """Counts where torch operations run while active, and which lesson line moved work away.

    Every torch function call whose result is a tensor counts once, for that tensor's device.
    A ``.to()``/``.cuda()``/``.cpu()`` whose result leaves ``expected`` records the innermost
    lesson line that called it.
    """

    def __init__(self, expected: str, filename: str) -> None:
        super().__init__()
        self.expected = expected
        self.filename = filename
        self.counts: Counter[str] = Counter()
        self.moved_at: int | None = None

    def __torch_function__(
        self,
        func: Any,
        types: Any,
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
    ) -> Any:
        result = func(*args, **(kwargs or {}))
        if isinstance(result, torch.Tensor):
            kind = result.device.type
            self.counts[kind] += 1
            if (
                kind != self.expected
                and self.moved_at is None
                and getattr(func, "__name__", "") in _MOVES
            ):
                self.moved_at = self._lesson_line()
        return result

    def _lesson_line(self) -> int | None:
        frame = sys._getframe(1)
        while frame is not None:
            if frame.f_code.co_filename == self.filename:
                return frame.f_lineno
            frame = frame.f_back  # type: ignore[assignment]
        return None

    def shares(self) -> dict[str, float]:
        total = sum(self.counts.values())
        return {k: round(v / total, 4) for k, v in sorted(self.counts.items())} if total else {}
