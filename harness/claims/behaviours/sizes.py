"""Value behaviours about sizes: of tensors (batch, samples, images, classes) and of layers
(filters, kernels, channels, padding, directions)."""

from __future__ import annotations

import re
from typing import Any

from harness.claims.behaviours.registry import NUMBER, Context, number, value
from harness.claims.behaviours.tensors import (
    is_module,
    kind_name,
    load_torch,
    shape_list,
)
from harness.claims.outcome import Outcome, failed, passed, unchecked


@value(r"same padding", when_called=True)
def same_padding(match: re.Match[str], layer: Any, context: Context) -> Outcome | None:
    """A layer called on [B, C, *spatial] keeps the spatial size."""
    if not is_module(layer):
        return unchecked(f"the value is a {kind_name(layer)}, not a layer that is called")

    def hook(module: Any, args: tuple[Any, ...], output: Any) -> None:
        before, after = shape_list(args[0]) if args else None, shape_list(output)
        if before is None or after is None or len(before) < 3:
            return
        if handles:  # checked once: then the layer pickles and scripts as it would
            handles.pop().remove()
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
                    f"{got} ({kind_name(module)} with padding={padding})",
                )
            )

    handles = [layer.register_forward_hook(hook)]
    return None


@value(r"element-?wise (?:addition|sum)", operands=True)
def elementwise_addition(match: re.Match[str], result: Any, context: Context) -> Outcome:
    if len(context.operands) != 2:
        return unchecked("the line adds no two operands")
    first, second = context.operands
    shapes = [shape_list(first), shape_list(second), shape_list(result)]
    if None in shapes:
        return unchecked("the operands are not tensors")
    if not shapes[0] == shapes[1] == shapes[2]:
        return failed(
            "operands and result of one shape",
            " , ".join(map(str, shapes)),
            f"expected two operands and a result of one shape, got {shapes[0]} + {shapes[1]}"
            f" -> {shapes[2]}",
        )
    torch = load_torch()
    if not torch.allclose(result.double(), (first + second).double()):
        return failed("the element-wise sum", "other values", "the result is not the sum")
    return passed(f"element-wise sum {shapes[2]}")


@value(r"dot product", operands=True)
def dot_product(match: re.Match[str], result: Any, context: Context) -> Outcome:
    if len(context.operands) != 2:
        return unchecked("the line has no two operands")
    first, second = context.operands
    shapes = [shape_list(first), shape_list(second), shape_list(result)]
    if None in shapes:
        return unchecked("the operands are not tensors")
    if shapes[2] != []:
        return failed("a scalar (shape [])", f"shape {shapes[2]}")
    torch = load_torch()
    want = (first.double() * second.double()).sum()
    if not torch.allclose(result.double(), want, rtol=1e-5):
        return failed(f"{float(want):.6g}", f"{float(result):.6g}")
    return passed("a scalar: the sum of products", f"{float(result):.6g}")


@value(r"(?:random )?(\d+)\s*[x\u00d7]\s*(\d+) matri(?:x|ces)")
def matrix(match: re.Match[str], tensor: Any, context: Context) -> Outcome:
    want = [int(match.group(1)), int(match.group(2))]
    got = shape_list(tensor)
    if got is None:
        return unchecked(f"the value is a {kind_name(tensor)}, not a matrix")
    return passed(str(want)) if got == want else failed(f"shape {want}", f"shape {got}")


@value(NUMBER + r" (?:filters|kernels|output channels|feature maps)")
def filters(match: re.Match[str], layer: Any, context: Context) -> Outcome:
    want = number(match.group(1))
    got = getattr(layer, "out_channels", None)
    if got is None:
        return unchecked(f"a {kind_name(layer)} has no out_channels")
    return passed(f"{want} filters") if got == want else failed(f"out_channels={want}", f"{got}")


@value(r"(\d+)\s*[x\u00d7]\s*(\d+) (?:filter|kernel|convolution)s?")
def kernel(match: re.Match[str], layer: Any, context: Context) -> Outcome:
    want = (int(match.group(1)), int(match.group(2)))
    got = getattr(layer, "kernel_size", None)
    if got is None:
        return unchecked(f"a {kind_name(layer)} has no kernel_size")
    got = tuple(got) if isinstance(got, tuple | list) else (got, got)
    if got == want:
        return passed(f"kernel_size={want}")
    return failed(f"kernel_size={want}", f"kernel_size={got}")


def _channels(value: Any, want: int, name: str) -> Outcome:
    if is_module(value):
        got = getattr(value, "in_channels", None)
        if got is None:
            return unchecked(f"a {kind_name(value)} has no in_channels")
        return (
            passed(f"in_channels={want}")
            if got == want
            else failed(f"in_channels={want}", f"in_channels={got}")
        )
    shape = shape_list(value)
    if shape is None or len(shape) < 3:
        return unchecked(f"no channel dimension in a {kind_name(value)} to find {name} in")
    got = shape[-3]
    if got == want:
        return passed(f"{want} channel(s)")
    return failed(f"{want} channel(s) at dim -3", f"{got}")


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
    if size is not None and shape_list(value_) is None:
        return passed(what) if size == want else failed(f"batch_size={want}", f"{size}")
    shape = shape_list(value_)
    if shape is None or not shape:
        return unchecked(f"a {kind_name(value_)} has no first dimension")
    if shape[0] == want:
        return passed(f"dim 0 is {want} ({what})", f"shape {shape}")
    return failed(
        f"dim 0 is {want} ({what})",
        f"shape {shape}",
        f"expected dim 0 to be {want} ({what}), got {shape[0]} (shape {shape})",
    )


@value(r"batch(?: size)?\s*(?:=|of|:)?\s*" + NUMBER)
def batch_size(match: re.Match[str], value_: Any, context: Context) -> Outcome:
    return _first_dimension(value_, number(match.group(1)), match.group(0))


@value(NUMBER + r" (?:samples?|examples?|data points?)")
def samples(match: re.Match[str], value_: Any, context: Context) -> Outcome:
    return _first_dimension(value_, number(match.group(1)), match.group(0))


FEW_PER_CLASS = 20  # labels per claimed class below which a class never seen proves nothing


@value(NUMBER + r" (?:classes|categories|labels)")
def classes(match: re.Match[str], value_: Any, context: Context) -> Outcome:
    """Labels within [0, N), or an output N wide."""
    want = number(match.group(1))
    torch = load_torch()
    if is_module(value_):
        got = getattr(value_, "out_features", None)
        if got is None:
            return unchecked(f"a {kind_name(value_)} has no out_features")
        return (
            passed(f"{want} outputs") if got == want else failed(f"out_features={want}", f"{got}")
        )
    if isinstance(value_, int) and not isinstance(value_, bool):
        return passed(f"{want}") if value_ == want else failed(f"{want}", f"{value_}")
    if not isinstance(value_, torch.Tensor) or value_.numel() == 0:
        return unchecked(f"a {kind_name(value_)} holds no labels or outputs")
    if value_.is_floating_point():
        width = int(value_.shape[-1]) if value_.dim() else 1
        if width == want:
            return passed(f"{want} classes (last dimension)")
        return failed(
            f"{want} classes in the last dimension", f"{width} (shape {shape_list(value_)})"
        )
    low, high = int(value_.min()), int(value_.max())
    if low >= 0 and high == want - 1:
        return passed(f"labels in [0, {want})", f"labels in [{low}, {high}]")
    if low >= 0 and high < want - 1:  # fewer classes seen than claimed
        if value_.numel() < FEW_PER_CLASS * want:  # too few labels to say a class is missing
            return unchecked(
                f"{want} classes claimed; the {value_.numel()} labels go up to {high} only, too "
                f"few to say classes {high + 1} to {want - 1} are missing"
            )
        return failed(
            f"labels in [0, {want}), up to {want - 1}",
            f"labels in [{low}, {high}]",
            f"expected {want} classes, got labels from {low} to {high} in {value_.numel()} labels: "
            f"no label is {want - 1}",
        )
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
    shape = shape_list(value_)
    if shape is None or len(shape) != 4:
        return unchecked(
            f"expected a batch of images [N, C, H, W], got a {kind_name(value_)} of shape {shape}"
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
        dims = "; ".join(f"dim {i} is {want[i]}, got {shape[i]}" for i in wrong)
        return failed(text, str(shape), f"expected {text}, got {shape}: {dims}")
    return passed(text, str(shape))


@value(
    r"(?:process(?:es)? (?:the )?sequences? (?:in )?both directions|bidirectional)",
    when_called=True,
)
def bidirectional(match: re.Match[str], layer: Any, context: Context) -> Outcome | None:
    """A bidirectional RNN: its output is twice its hidden size wide."""
    if not hasattr(layer, "bidirectional"):
        return unchecked(f"a {kind_name(layer)} is not a recurrent layer")
    if not layer.bidirectional:
        return failed("bidirectional=True", "bidirectional=False")

    def hook(module: Any, args: tuple[Any, ...], output: Any) -> None:
        out = output[0] if isinstance(output, tuple) else output
        shape = shape_list(out)
        if shape is None:
            return
        if handles:  # checked once: then the layer pickles and scripts as it would
            handles.pop().remove()
        want = 2 * int(module.hidden_size)
        if shape[-1] == want:
            context.later(passed(f"output width 2 x {module.hidden_size}", str(shape)))
        else:
            context.later(failed(f"output width {want}", f"{shape[-1]}"))

    handles = [layer.register_forward_hook(hook)]
    return None
