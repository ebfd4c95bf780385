"""Torch devices: which are here, how plain lesson code is put on one, and where work ran.

Runs inside the worker (it imports torch). The mechanism (``default_device``):
``torch.set_default_device`` for the block's run, so factory functions (``torch.randn``,
``nn.Linear``'s parameters) create their tensors on the device under test without the lesson
naming it. On cpu, torch's accelerator checks (``torch.cuda.is_available()``) answer False
while lesson code runs: the cpu run is a reader's without an accelerator, also on a GPU
machine. A factory given a ``generator`` draws on that generator's device, as it does for a
reader who set no default device: a ``DataLoader(shuffle=True)``'s CPU generator would
otherwise meet a ``randperm`` on the default device (pytorch/pytorch#118084). Should such an
error still come from the mechanism, it is reported as ``unsupported``, never as the lesson
failing (``mechanism_limit``).
"""

from __future__ import annotations

import contextlib
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._device import _device_constructors


@dataclass(frozen=True)
class Device:
    """A torch device type: how to tell it is here, and how torch says it is not.

    ``lacks``: parts of the messages torch raises on a build or machine without the device
    (a block that raises one needs the device, ``needs.requirement``).
    """

    name: str
    present: Callable[[], bool]
    lacks: tuple[str, ...] = ()


def _mps() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return mps is not None and bool(mps.is_available())


def _xpu() -> bool:
    xpu = getattr(torch, "xpu", None)
    return xpu is not None and bool(xpu.is_available())


# Adding a device is one entry here (and its messages, should torch say it is missing).
DEVICES = (
    Device("cpu", lambda: True),
    Device(
        "cuda",
        lambda: bool(torch.cuda.is_available()),
        (
            "Torch not compiled with CUDA enabled",
            "Found no NVIDIA driver",
            "No CUDA GPUs are available",
            "no CUDA-capable device",
            "CUDA driver initialization failed",
            "NVIDIA driver on your system is too old",
            "torch.cuda.is_available() is False",
            "Cannot access accelerator device when none is available",
            "Tried to instantiate dummy base class",
            "has no attribute '_cuda_",
        ),
    ),
    Device(
        "mps", _mps, ("'MPS' backend", "MPS backend", "torch.backends.mps.is_available() is False")
    ),
    Device("xpu", _xpu),
)
KNOWN = tuple(device.name for device in DEVICES)
MECHANISM_LIMITS = (
    (
        "device type for generator",
        "pytorch/pytorch#118084: a CPU generator meets the default device",
    ),
)


def available() -> list[str]:
    """cpu always, then each accelerator torch can use here."""
    found = [device.name for device in DEVICES if device.present()]
    accelerator = getattr(torch, "accelerator", None)
    if accelerator is not None and accelerator.is_available():
        current = accelerator.current_accelerator()
        if current is not None and current.type not in found:
            found.append(current.type)
    return found


def has(name: str) -> bool:
    """Whether torch can use the device type ``name`` here (a broken build: it cannot)."""
    try:
        return any(device.present() for device in DEVICES if device.name == name)
    except Exception:
        return False


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


class _GeneratorDevice(TorchFunctionMode):
    """A factory call given a ``generator`` and no ``device`` draws on the generator's device,
    where a reader's code, with no default device set, draws."""

    def __torch_function__(
        self,
        func: Any,
        types: Any,
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
    ) -> Any:
        kwargs = kwargs or {}
        generator = kwargs.get("generator")
        if (
            isinstance(generator, torch.Generator)
            and kwargs.get("device") is None
            and func in _device_constructors()
        ):
            kwargs = {**kwargs, "device": generator.device}
        return func(*args, **kwargs)


# torch's "is there an accelerator" questions, each asked of a module: (module path, function)
_AVAILABILITY = ("cuda", "backends.mps", "xpu", "accelerator")


def _no_accelerator() -> bool:
    return False


@contextlib.contextmanager
def _without_accelerators() -> Iterator[None]:
    """The cpu run is a reader's on a machine without an accelerator, wherever it runs:
    ``torch.cuda.is_available()`` and its kin answer False while lesson code runs, so
    ``torch.device("cuda" if torch.cuda.is_available() else "cpu")`` picks the cpu."""
    replaced: list[tuple[Any, Any]] = []
    for path in _AVAILABILITY:
        module: Any = torch
        for name in path.split("."):
            module = getattr(module, name, None)
        if module is not None and callable(getattr(module, "is_available", None)):
            replaced.append((module, module.is_available))
            module.is_available = _no_accelerator
    try:
        yield
    finally:
        for module, original in replaced:
            module.is_available = original


@contextlib.contextmanager
def default_device(device: str) -> Iterator[None]:
    """Plain lesson code creates its tensors on ``device`` (the mechanism, above); on cpu,
    it runs as on a machine without an accelerator."""
    previous = torch.get_default_device()
    torch.set_default_device(None if device == "cpu" else device)
    try:
        with _without_accelerators() if device == "cpu" else _GeneratorDevice():
            yield
    finally:  # cpu is torch's own default: set back as None, not as a mode left on the stack
        torch.set_default_device(None if previous.type == "cpu" else previous)


def synchronize(device: str) -> None:
    """Wait for queued work on ``device`` (GPU work is asynchronous)."""
    module = getattr(torch, device, None)
    sync: Callable[[], None] | None = getattr(module, "synchronize", None)
    if device != "cpu" and sync is not None:
        sync()


_MOVES = {"to", *KNOWN}  # a method that moves a tensor: .to(), .cuda(), .cpu(), ...


_BACKWARD = torch.Tensor.backward


class Census(TorchFunctionMode):
    """Counts where torch operations run while active, and which lesson line moved work away.

    Every torch function call whose result is a tensor counts once, for that tensor's device.
    A ``.to()``/``.cuda()``/``.cpu()`` whose result leaves ``expected`` records the innermost
    lesson line that called it. With ``record_losses`` (a training loop's block), each
    ``backward()`` of a one-element tensor keeps that loss (``losses``): a detached copy on
    its device, read once the block ended, so recording adds no synchronisation.
    """

    def __init__(self, expected: str, filename: str, record_losses: bool = False) -> None:
        super().__init__()
        self.expected = expected
        self.filename = filename
        self.counts: Counter[str] = Counter()
        self.moved_at: int | None = None
        self.paused = 0  # > 0 while the harness's own work runs (``uncounted``)
        self.backwards = 0  # ``backward()`` calls seen
        self._losses: list[torch.Tensor] | None = [] if record_losses else None

    def __enter__(self) -> Census:
        _ACTIVE.append(self)
        super().__enter__()  # type: ignore[no-untyped-call]
        return self

    def __exit__(self, *exc_info: object) -> None:
        super().__exit__(*exc_info)  # type: ignore[no-untyped-call]
        _ACTIVE.remove(self)

    def __torch_function__(
        self,
        func: Any,
        types: Any,
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
    ) -> Any:
        result = func(*args, **(kwargs or {}))
        if self.paused:
            return result
        if isinstance(result, torch.Tensor):
            kind = "cpu" if result.is_cpu else result.device.type  # is_cpu: 5x cheaper
            self.counts[kind] += 1
            if (
                kind != self.expected
                and self.moved_at is None
                and getattr(func, "__name__", "") in _MOVES
            ):
                self.moved_at = self._lesson_line()
        elif func is _BACKWARD:
            self.backwards += 1
            if self._losses is not None and args:
                self._keep_loss(args[0])
        return result

    def _keep_loss(self, loss: object) -> None:
        """Inside this handler the mode is off: the copy is neither counted nor recorded."""
        if isinstance(loss, torch.Tensor) and self._losses is not None and loss.numel() == 1:
            self._losses.append(loss.detach().clone())

    def losses(self) -> list[float]:
        """The losses recorded, as numbers (once the device is synchronised); a value that is
        not a real number (complex, a tensor subclass that will not convert) is left out."""
        values = []
        for loss in self._losses or ():
            try:
                values.append(float(loss))
            except (TypeError, ValueError, RuntimeError):
                continue
        return values

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


_ACTIVE: list[Census] = []  # the censuses counting now, innermost last


@contextlib.contextmanager
def uncounted() -> Iterator[None]:
    """The harness's own torch work while a block runs (a claim's check: its sample inputs,
    its reference values) is not the lesson's: the census does not count it. On cuda, a loss
    claim's CPU sample inputs counted as the block's cpu work."""
    census = _ACTIVE[-1] if _ACTIVE else None
    if census is None:
        yield
        return
    census.paused += 1
    try:
        yield
    finally:
        census.paused -= 1
