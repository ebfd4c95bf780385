"""Named behaviours: comment phrases that promise something a check can see while code runs.

Each entry of ``REGISTRY`` is a phrase pattern and a check. A *value* check looks at the value
the commented line produces (or, on a keyword-argument line, the object the call builds); a
*call* check looks at the object whose method the line calls, before and after the call
(``optimizer.zero_grad()  # Clear previous gradients``). A comment may join several value
phrases with commas (``# 32 samples, 10 classes``). To add a behaviour, write a function and
decorate it with ``@value(pattern)`` or ``@call(pattern)``; patterns match the whole phrase,
case-insensitively. Checks never change the lesson's random state: sample inputs come from
their own generator.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

NUMBER = r"(\d[\d,_]*)"


@dataclass(frozen=True)
class Outcome:
    verdict: str  # passed, failed or unchecked
    expected: str
    actual: str = ""
    message: str = ""


def passed(expected: str, actual: str = "") -> Outcome:
    return Outcome("passed", expected, actual or expected)


def failed(expected: str, actual: str, why: str = "") -> Outcome:
    return Outcome("failed", expected, actual, why or f"expected {expected}, got {actual}")


def unchecked(why: str) -> Outcome:
    return Outcome("unchecked", "", "", why)


@dataclass
class Context:
    """What a value check may use besides the value: the operands of the line's operation,
    and ``later`` to report outcomes from a hook (every call of a layer)."""

    operands: list[Any] = field(default_factory=list)
    later: Callable[[Outcome], None] = lambda outcome: None


ValueCheck = Callable[[re.Match[str], Any, Context], Outcome | None]
Before = Callable[[re.Match[str], Any], Any]
After = Callable[[re.Match[str], Any, Any], Outcome]


@dataclass(frozen=True)
class Behaviour:
    name: str
    pattern: re.Pattern[str]
    place: Literal["value", "call"]
    check: ValueCheck | None = None
    before: Before | None = None
    after: After | None = None
    operands: bool = False
    when_called: bool = False  # checked at every call of the layer built (a forward hook)


REGISTRY: list[Behaviour] = []


def value(
    pattern: str, operands: bool = False, when_called: bool = False
) -> Callable[[ValueCheck], ValueCheck]:
    def register(check: ValueCheck) -> ValueCheck:
        compiled = re.compile(pattern, re.IGNORECASE)
        behaviour = Behaviour(
            check.__name__, compiled, "value", check, operands=operands, when_called=when_called
        )
        REGISTRY.append(behaviour)
        return check

    return register


def call(pattern: str) -> Callable[[tuple[Before, After]], tuple[Before, After]]:
    def register(pair: tuple[Before, After]) -> tuple[Before, After]:
        name = getattr(pair[1], "__name__", pattern)
        compiled = re.compile(pattern, re.IGNORECASE)
        REGISTRY.append(Behaviour(name, compiled, "call", before=pair[0], after=pair[1]))
        return pair

    return register


@functools.cache  # probes read the same comment at every call (zero_grad in every step)
def read(text: str) -> list[tuple[Behaviour, re.Match[str]]] | None:
    """The behaviours a comment names, one per comma-separated phrase; None when any phrase
    is not a known behaviour, or value and call phrases are mixed."""
    found: list[tuple[Behaviour, re.Match[str]]] = []
    for phrase in re.split(r"\s*[,;]\s*(?=\D)", text.strip().rstrip(".")):
        for behaviour in REGISTRY:
            match = behaviour.pattern.fullmatch(phrase.strip())
            if match:
                found.append((behaviour, match))
                break
        else:
            return None
    if not found or len({b.place for b, _ in found}) > 1:
        return None
    return found


def number(text: str) -> int:
    return int(text.replace(",", "").replace("_", ""))


MAX_DIGITS = 18  # a count, size or parameter count past 10**18 is no tensor's


def oversized(found: list[tuple[Behaviour, re.Match[str]]]) -> str:
    """Why the numbers of a behaviour claim cannot be checked (one overflows), or ''."""
    for _behaviour, match in found:
        for group in match.groups():
            digits = re.sub(r"\D", "", (group or "").split(".")[0])
            if len(digits.lstrip("0")) > MAX_DIGITS:
                shown = group if len(group) <= 24 else f"{group[:12]}...{group[-6:]}"
                return (
                    f"the number {shown} has {len(digits):,} digits: too large to be a count "
                    f"(at most {MAX_DIGITS} are checked)"
                )
    return ""


# --------------------------------------------------------------------------- helpers


def _torch() -> Any:
    import torch

    return torch


def _shape(value: Any) -> list[int] | None:
    shape = getattr(value, "shape", None)
    return [int(d) for d in shape] if shape is not None else None


def _samples(*shape: int, integers: int = 0, seed: int = 0) -> Any:
    """Sample inputs from a private generator, on the default device."""
    torch = _torch()
    generator = torch.Generator().manual_seed(seed)
    if integers:
        made = torch.randint(0, integers, shape, generator=generator, device="cpu")
    else:
        made = torch.randn(*shape, generator=generator, device="cpu")
    return made.to(torch.get_default_device())


def _parameters(owner: Any) -> list[Any] | None:
    torch = _torch()
    if hasattr(owner, "param_groups"):
        return [p for group in owner.param_groups for p in group["params"]]
    if isinstance(owner, torch.nn.Module):
        return list(owner.parameters())
    if isinstance(owner, torch.Tensor) and owner.requires_grad and owner.is_leaf:
        return [owner]
    return None


def _is_module(value: Any) -> bool:
    return isinstance(value, _torch().nn.Module)


def _kind(value: Any) -> str:
    return type(value).__name__


# --------------------------------------------------------------------------- value behaviours


@value(r"same padding", when_called=True)
def same_padding(match: re.Match[str], layer: Any, context: Context) -> Outcome | None:
    """A layer called on [B, C, *spatial] keeps the spatial size."""
    if not _is_module(layer):
        return unchecked(f"the value is a {_kind(layer)}, not a layer that is called")

    def hook(module: Any, args: tuple[Any, ...], output: Any) -> None:
        before, after = _shape(args[0]) if args else None, _shape(output)
        if before is None or after is None or len(before) < 3:
            return
        want, got = before[2:], after[2:]
        if want == got:
            context.later(passed(f"spatial size kept {want}", f"{got}"))
        else:
            padding = getattr(module, "padding", "?")
            context.later(
                failed(
                    f"spatial size kept {want}",
                    f"{got}",
                    f"expected the output's spatial size to equal the input's {want}, got "
                    f"{got} ({_kind(module)} with padding={padding})",
                )
            )

    layer.register_forward_hook(hook)
    return None


@value(r"element-?wise (?:addition|sum)", operands=True)
def elementwise_addition(match: re.Match[str], result: Any, context: Context) -> Outcome:
    if len(context.operands) != 2:
        return unchecked("the line adds no two operands")
    first, second = context.operands
    shapes = [_shape(first), _shape(second), _shape(result)]
    if None in shapes:
        return unchecked("the operands are not tensors")
    if not shapes[0] == shapes[1] == shapes[2]:
        return failed(
            "operands and result of one shape",
            " , ".join(map(str, shapes)),
            f"expected two operands and a result of one shape, got {shapes[0]} + {shapes[1]}"
            f" -> {shapes[2]}",
        )
    torch = _torch()
    if not torch.allclose(result.double(), (first + second).double()):
        return failed("the element-wise sum", "other values", "the result is not the sum")
    return passed(f"element-wise sum {shapes[2]}")


@value(r"dot product", operands=True)
def dot_product(match: re.Match[str], result: Any, context: Context) -> Outcome:
    if len(context.operands) != 2:
        return unchecked("the line has no two operands")
    first, second = context.operands
    shapes = [_shape(first), _shape(second), _shape(result)]
    if None in shapes:
        return unchecked("the operands are not tensors")
    if shapes[2] != []:
        return failed("a scalar (shape [])", f"shape {shapes[2]}")
    torch = _torch()
    want = (first.double() * second.double()).sum()
    if not torch.allclose(result.double(), want, rtol=1e-5):
        return failed(f"{float(want):.6g}", f"{float(result):.6g}")
    return passed("a scalar: the sum of products", f"{float(result):.6g}")


@value(r"(?:random )?(\d+)\s*[x\u00d7]\s*(\d+) matri(?:x|ces)")
def matrix(match: re.Match[str], tensor: Any, context: Context) -> Outcome:
    want = [int(match.group(1)), int(match.group(2))]
    got = _shape(tensor)
    if got is None:
        return unchecked(f"the value is a {_kind(tensor)}, not a matrix")
    return passed(str(want)) if got == want else failed(f"shape {want}", f"shape {got}")


@value(NUMBER + r" (?:filters|kernels|output channels|feature maps)")
def filters(match: re.Match[str], layer: Any, context: Context) -> Outcome:
    want = number(match.group(1))
    got = getattr(layer, "out_channels", None)
    if got is None:
        return unchecked(f"a {_kind(layer)} has no out_channels")
    return passed(f"{want} filters") if got == want else failed(f"out_channels={want}", f"{got}")


@value(r"(\d+)\s*[x\u00d7]\s*(\d+) (?:filter|kernel|convolution)s?")
def kernel(match: re.Match[str], layer: Any, context: Context) -> Outcome:
    want = (int(match.group(1)), int(match.group(2)))
    got = getattr(layer, "kernel_size", None)
    if got is None:
        return unchecked(f"a {_kind(layer)} has no kernel_size")
    got = tuple(got) if isinstance(got, tuple | list) else (got, got)
    if got == want:
        return passed(f"kernel_size={want}")
    return failed(f"kernel_size={want}", f"kernel_size={got}")


def _channels(value: Any, want: int, name: str) -> Outcome:
    if _is_module(value):
        got = getattr(value, "in_channels", None)
        if got is None:
            return unchecked(f"a {_kind(value)} has no in_channels")
        return (
            passed(f"in_channels={want}")
            if got == want
            else failed(f"in_channels={want}", f"in_channels={got}")
        )
    shape = _shape(value)
    if shape is None or len(shape) < 3:
        return unchecked(f"no channel dimension in a {_kind(value)} to find {name} in")
    got = shape[-3]
    if got == want:
        return passed(f"{want} channel(s)")
    return failed(f"{want} channel(s) at dimension -3", f"{got}")


@value(r"grayscale(?: images?| inputs?)?")
def grayscale(match: re.Match[str], value_: Any, context: Context) -> Outcome:
    return _channels(value_, 1, "grayscale")


@value(r"(?:rgb|colou?r)(?: images?| inputs?)?")
def rgb(match: re.Match[str], value_: Any, context: Context) -> Outcome:
    return _channels(value_, 3, "RGB")


def _first_dimension(value_: Any, want: int, what: str) -> Outcome:
    """``what`` is the phrase as written (``Batch size 8``, ``100 samples``)."""
    if isinstance(value_, int) and not isinstance(value_, bool):
        return passed(what) if value_ == want else failed(what, f"{value_}")
    size = getattr(value_, "batch_size", None)
    if size is not None and _shape(value_) is None:
        return passed(what) if size == want else failed(f"batch_size={want}", f"{size}")
    shape = _shape(value_)
    if shape is None or not shape:
        return unchecked(f"a {_kind(value_)} has no first dimension")
    if shape[0] == want:
        return passed(f"dimension 1 is {want} ({what})", f"shape {shape}")
    return failed(
        f"dimension 1 is {want} ({what})",
        f"shape {shape}",
        f"expected dimension 1 to be {want} ({what}), got {shape[0]} (shape {shape})",
    )


@value(r"batch(?: size)?\s*(?:=|of|:)?\s*" + NUMBER)
def batch_size(match: re.Match[str], value_: Any, context: Context) -> Outcome:
    return _first_dimension(value_, number(match.group(1)), match.group(0))


@value(NUMBER + r" (?:samples?|examples?|data points?)")
def samples(match: re.Match[str], value_: Any, context: Context) -> Outcome:
    return _first_dimension(value_, number(match.group(1)), match.group(0))


@value(NUMBER + r" (?:classes|categories|labels)")
def classes(match: re.Match[str], value_: Any, context: Context) -> Outcome:
    """Labels within [0, N), or an output N wide."""
    want = number(match.group(1))
    torch = _torch()
    if _is_module(value_):
        got = getattr(value_, "out_features", None)
        if got is None:
            return unchecked(f"a {_kind(value_)} has no out_features")
        return (
            passed(f"{want} outputs") if got == want else failed(f"out_features={want}", f"{got}")
        )
    if isinstance(value_, int) and not isinstance(value_, bool):
        return passed(f"{want}") if value_ == want else failed(f"{want}", f"{value_}")
    if not isinstance(value_, torch.Tensor) or value_.numel() == 0:
        return unchecked(f"a {_kind(value_)} holds no labels or outputs")
    if value_.is_floating_point():
        width = int(value_.shape[-1]) if value_.dim() else 1
        if width == want:
            return passed(f"{want} classes (last dimension)")
        return failed(f"{want} classes in the last dimension", f"{width} (shape {_shape(value_)})")
    low, high = int(value_.min()), int(value_.max())
    if low >= 0 and high < want:
        return passed(f"labels in [0, {want})", f"labels in [{low}, {high}]")
    return failed(
        f"labels in [0, {want})",
        f"labels in [{low}, {high}]",
        f"expected class labels in [0, {want}), got labels from {low} to {high}",
    )


@value(
    NUMBER + r" (rgb |grayscale |colou?r )?(?:images?|pictures?|photos?)"
    r"(?:,? (?:of )?(\d+)\s*[x\u00d7]\s*(\d+))?"
)
def images(match: re.Match[str], value_: Any, context: Context) -> Outcome:
    """[N, C, H, W]: N images, C = 3 for RGB and 1 for grayscale, H x W."""
    shape = _shape(value_)
    if shape is None or len(shape) != 4:
        return unchecked(
            f"expected a batch of images [N, C, H, W], got a {_kind(value_)} of shape {shape}"
        )
    want: list[int | str] = [number(match.group(1)), "C", "H", "W"]
    colour = (match.group(2) or "").strip().lower()
    if colour in ("rgb", "color", "colour"):
        want[1] = 3
    elif colour == "grayscale":
        want[1] = 1
    if match.group(3):
        want[2], want[3] = int(match.group(3)), int(match.group(4))
    wrong = [i for i, w in enumerate(want) if isinstance(w, int) and shape[i] != w]
    text = f"[{', '.join(map(str, want))}]"
    if wrong:
        dims = "; ".join(f"dimension {i + 1} is {want[i]}, got {shape[i]}" for i in wrong)
        return failed(text, str(shape), f"expected {text}, got {shape}: {dims}")
    return passed(text, str(shape))


@value(
    r"(~|about |approx\.? |approximately )?(\d[\d,_]*(?:\.\d+)?)\s*([KMB])? "
    r"(?:trainable )?param(?:eter)?s"
)
def parameter_count(match: re.Match[str], value_: Any, context: Context) -> Outcome:
    """Exact as written (``2,359,296``); ``K``/``M``/``B`` at the written precision; ``~`` 5%."""
    digits = match.group(2).replace(",", "").replace("_", "")
    scale = {"": 1, "K": 10**3, "M": 10**6, "B": 10**9}[(match.group(3) or "").upper()]
    claimed = float(digits) * scale
    if not math.isfinite(claimed):  # read() callers skip these (oversized): never passed
        return unchecked(f"{match.group(0)[:40]} overflows a float")
    bias = 0
    if _is_module(value_):
        count = sum(p.numel() for p in value_.parameters())
        bias = sum(p.numel() for n, p in value_.named_parameters() if n.endswith("bias"))
    elif isinstance(value_, int) and not isinstance(value_, bool):
        count = value_
    else:
        return unchecked(f"a {_kind(value_)} has no parameters to count")
    if match.group(1):
        ok = abs(count - claimed) <= 0.05 * claimed
        rule = "within 5%"
    elif scale > 1:
        decimals = len(digits.split(".")[1]) if "." in digits else 0
        ok = round(count / scale, decimals) == float(digits)
        rule = "at the written precision"
    else:
        ok = count == claimed
        rule = "exactly"
    shown = f"{count:,} parameters"
    if ok:
        return passed(f"{match.group(0)} ({rule})", shown)
    hint = ""
    if bias and count - claimed == bias:
        hint = f"; the biases ({bias:,}) make the difference: the claim leaves them out"
    return failed(match.group(0), shown, f"expected {match.group(0)} ({rule}), got {shown}{hint}")


_COUNTED = r"(~|about |approx\.? |approximately )?(\d[\d,_]*(?:\.\d+)?)\s*([KMB])?"


@value(r"total\s*[:=\uff1a]\s*" + _COUNTED + r"\s*(?:trainable )?param(?:eter)?s")
@value(
    r"(?:(?:total |number of |# ?of |num )*(?:trainable )?param(?:eter)?s?(?: count)?|"
    r"\u53c2\u6570\u91cf|\u53c2\u6570\u6570\u91cf|\u53c2\u6570\u603b\u6570|\u53c2\u6570)\s*[:=\uff1a]\s*"
    + _COUNTED
    + r"(?:\s*(?:trainable )?param(?:eter)?s)?"
)
def labelled_parameter_count(match: re.Match[str], value_: Any, context: Context) -> Outcome | None:
    """``Total: 2,359,296 parameters``, ``Parameters: 2.4M``: a parameter count after a
    label, checked as ``2,359,296 parameters`` is."""
    phrase = f"{match.group(1) or ''}{match.group(2)}{match.group(3) or ''} parameters"
    plain = next(b for b in REGISTRY if b.name == "parameter_count")
    found = plain.pattern.fullmatch(phrase)
    if found is None:  # pragma: no cover - the phrase is built to match
        return unchecked(f"cannot read {match.group(0)!r} as a parameter count")
    return parameter_count(found, value_, context)


@value(
    r"(?:process(?:es)? (?:the )?sequences? (?:in )?both directions|bidirectional)",
    when_called=True,
)
def bidirectional(match: re.Match[str], layer: Any, context: Context) -> Outcome | None:
    """A bidirectional RNN: its output is twice its hidden size wide."""
    if not hasattr(layer, "bidirectional"):
        return unchecked(f"a {_kind(layer)} is not a recurrent layer")
    if not layer.bidirectional:
        return failed("bidirectional=True", "bidirectional=False")

    def hook(module: Any, args: tuple[Any, ...], output: Any) -> None:
        out = output[0] if isinstance(output, tuple) else output
        shape = _shape(out)
        if shape is None:
            return
        want = 2 * int(module.hidden_size)
        if shape[-1] == want:
            context.later(passed(f"output width 2 x {module.hidden_size}", str(shape)))
        else:
            context.later(failed(f"output width {want}", f"{shape[-1]}"))

    layer.register_forward_hook(hook)
    return None


def _loss_check(
    loss: Any, name: str, compute: Callable[[Any, Any], Any], integers: bool = False
) -> Outcome:
    """``loss`` called on sample tensors equals ``compute`` on them (targets: class indices
    when ``integers``)."""
    if not callable(loss):
        return unchecked(f"a {_kind(loss)} is not a loss to call")
    torch = _torch()
    outputs = _samples(4, 5)
    targets = _samples(4, integers=5, seed=1) if integers else _samples(4, 5, seed=1)
    try:
        with torch.no_grad():
            got = loss(outputs, targets)
    except Exception as error:
        return failed(name, f"{type(error).__name__}: {error}".splitlines()[0])
    want = compute(outputs, targets)
    if _shape(got) == [] and torch.allclose(got.double(), want.double(), rtol=1e-5):
        return passed(name, f"{float(got):.6g} on sample tensors")
    shown = f"{float(got):.6g}" if _shape(got) == [] else f"shape {_shape(got)}"
    return failed(f"{name} = {float(want):.6g} on sample tensors", shown)


@value(r"mean squared error|mse(?: loss)?|l2 loss")
def mean_squared_error(match: re.Match[str], loss: Any, context: Context) -> Outcome:
    return _loss_check(loss, "mean squared error", lambda a, b: ((a - b) ** 2).mean())


@value(r"mean absolute error|mae(?: loss)?|l1 loss")
def mean_absolute_error(match: re.Match[str], loss: Any, context: Context) -> Outcome:
    return _loss_check(loss, "mean absolute error", lambda a, b: (a - b).abs().mean())


@value(r"multi-?class(?: classification)?|(?:categorical )?cross[- ]entropy")
def multi_class(match: re.Match[str], loss: Any, context: Context) -> Outcome:
    def entropy(logits: Any, labels: Any) -> Any:
        return -logits.log_softmax(-1).gather(1, labels.unsqueeze(1)).mean()

    return _loss_check(loss, "cross entropy over classes", entropy, integers=True)


@value(r"binary(?: classification| cross[- ]entropy)?")
def binary(match: re.Match[str], loss: Any, context: Context) -> Outcome:
    """Binary cross entropy, on logits (BCEWithLogitsLoss) or on probabilities (BCELoss)."""
    if not callable(loss):
        return unchecked(f"a {_kind(loss)} is not a loss to call")
    torch = _torch()
    logits = _samples(8)
    targets = _samples(8, integers=2, seed=1).float()
    probabilities = logits.sigmoid()
    want = -(targets * probabilities.log() + (1 - targets) * (1 - probabilities).log()).mean()
    tried: list[str] = []
    for inputs, what in ((logits, "logits"), (probabilities, "probabilities")):
        try:
            with torch.no_grad():
                got = loss(inputs, targets)
        except Exception as error:
            tried.append(f"on {what}: {type(error).__name__}")
            continue
        if _shape(got) == [] and torch.allclose(got.double(), want.double(), rtol=1e-5):
            return passed("binary cross entropy", f"{float(got):.6g} on {what}")
        tried.append(
            f"on {what}: {float(got):.6g}"
            if _shape(got) == []
            else f"on {what}: shape {_shape(got)}"
        )
    return failed(f"binary cross entropy = {float(want):.6g}", "; ".join(tried))


# noun -> (the dimension it counts, or None for any; attributes of a layer that count it)
NOUNS: dict[str, tuple[int | None, tuple[str, ...]]] = {
    "rows": (0, ()),
    "columns": (-1, ()),
    "time steps": (None, ()),
    "timesteps": (None, ()),
    "steps": (None, ()),
    "tokens": (None, ()),
    "words": (None, ()),
    "frames": (None, ()),
    "features": (-1, ("out_features",)),
    "input features": (-1, ("in_features", "input_size")),
    "output features": (-1, ("out_features",)),
    "hidden units": (-1, ("out_features", "hidden_size")),
    "units": (-1, ("out_features", "hidden_size")),
    "neurons": (-1, ("out_features",)),
    "channels": (None, ("out_channels",)),
    "heads": (None, ("num_heads",)),
    "layers": (None, ("num_layers",)),
    "epochs": (None, ()),
    "elements": (None, ()),
    "values": (None, ()),
    "points": (None, ()),
    "sequences": (0, ()),
    "sentences": (0, ()),
}


@value(NUMBER + r" (" + "|".join(sorted(map(re.escape, NOUNS), key=len, reverse=True)) + r")")
def count(match: re.Match[str], value_: Any, context: Context) -> Outcome:
    """``100 time steps``, ``64 hidden units``: a count of a known noun. An integer equal to
    N; a range or list N long; a layer's attribute that counts it (``num_layers``); or a
    tensor whose dimension for that noun (any, for ``time steps``) has size N."""
    want, things = number(match.group(1)), match.group(2).lower()
    phrase = match.group(0)
    dimension, attributes = NOUNS[things]
    if isinstance(value_, int) and not isinstance(value_, bool):
        return passed(phrase) if value_ == want else failed(phrase, f"{value_}")
    if isinstance(value_, range | list | tuple):
        size = len(value_)
        return passed(phrase) if size == want else failed(phrase, f"{size} ({_kind(value_)})")
    if _is_module(value_):
        for name in attributes:
            got = getattr(value_, name, None)
            if isinstance(got, int):
                return passed(phrase) if got == want else failed(f"{name}={want}", f"{got}")
        return unchecked(f"a {_kind(value_)} has no attribute that counts {things}")
    shape = _shape(value_)
    if shape is None or not shape:
        return unchecked(f"cannot count {things} in a {_kind(value_)}")
    if dimension is not None:
        got = shape[dimension]
        where = "the last dimension" if dimension == -1 else f"dimension {dimension + 1}"
        if got == want:
            return passed(f"{phrase} ({where})", f"shape {shape}")
        return failed(
            f"{phrase} ({where})",
            f"shape {shape}",
            f"expected {where} to be {want} ({phrase}), got {got} (shape {shape})",
        )
    if want in shape:
        return passed(f"a dimension of {want} ({phrase})", f"shape {shape}")
    return failed(
        f"a dimension of {want} ({phrase})",
        f"shape {shape}",
        f"expected a dimension of size {want} ({phrase}), got shape {shape}",
    )


# --------------------------------------------------------------------------- call behaviours


def _gradient_owners(match: re.Match[str], owner: Any) -> Any:
    """A tensor's gradients are those of the leaves it was computed from."""
    return _leaves(match, owner) if getattr(owner, "grad_fn", None) is not None else None


def clear_previous_gradients(match: re.Match[str], owner: Any, leaves: Any) -> Outcome:
    params = leaves if leaves is not None else _parameters(owner)
    if params is None:
        return unchecked(f"a {_kind(owner)} holds no parameters")
    left = [p for p in params if p.grad is not None and bool(p.grad.any())]
    if left:
        return failed(
            "every gradient None or zero",
            f"{len(left)} of {len(params)} non-zero",
            f"expected every gradient None or zero after the call, got {len(left)} of "
            f"{len(params)} parameters with non-zero gradients",
        )
    return passed("every gradient None or zero", f"{len(params)} parameters cleared")


call(r"(?:clear|reset|zero)(?: out)?(?: the| all)?(?: previous| old| accumulated)? grad(?:ient)?s")(
    (_gradient_owners, clear_previous_gradients)
)


def _leaves(match: re.Match[str], tensor: Any) -> Any:
    """The leaf tensors the call's tensor was computed from (its autograd graph)."""
    function = getattr(tensor, "grad_fn", None)
    found: list[Any] = []
    seen: set[int] = set()
    stack = [function] if function is not None else []
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        variable = getattr(node, "variable", None)
        if variable is not None:
            found.append(variable)
        stack.extend(next_fn for next_fn, _ in getattr(node, "next_functions", ()))
    return found


def compute_gradients(match: re.Match[str], tensor: Any, leaves: Any) -> Outcome:
    if not leaves:
        return failed(
            "gradients for the tensors it was computed from",
            "no autograd graph",
            f"expected a tensor with an autograd graph, got a {_kind(tensor)} with none",
        )
    missing = [leaf for leaf in leaves if leaf.grad is None]
    if missing:
        return failed(
            "a gradient on every parameter",
            f"{len(missing)} of {len(leaves)} without",
            f"expected every parameter to have a gradient after the call, got {len(missing)} "
            f"of {len(leaves)} without",
        )
    return passed("a gradient on every parameter", f"{len(leaves)} parameters")


call(r"(?:compute|calculate)s?(?: all)?(?: the)? grad(?:ient)?s|backprop(?:agation|agate)?")(
    (_leaves, compute_gradients)
)


def _copies(match: re.Match[str], owner: Any) -> Any:
    params = _parameters(owner)
    return None if params is None else [p.detach().clone() for p in params]


def update_weights(match: re.Match[str], owner: Any, before: Any) -> Outcome:
    params = _parameters(owner)
    if params is None or before is None:
        return unchecked(f"a {_kind(owner)} holds no parameters")
    changed = sum(
        1 for old, new in zip(before, params, strict=True) if not bool((old == new).all())
    )
    if not changed:
        return failed(
            "the parameters change",
            f"0 of {len(params)} changed",
            f"expected the parameters to change, got 0 of {len(params)} changed",
        )
    return passed("the parameters change", f"{changed} of {len(params)} changed")


call(r"(?:update|updates|step)(?: the)? (?:weights|parameters|params)")((_copies, update_weights))
