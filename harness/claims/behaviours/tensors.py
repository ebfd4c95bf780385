"""What behaviour checks read off values: tensors' shapes, modules' parameters, sample inputs."""

from __future__ import annotations

from typing import Any


def load_torch() -> Any:
    import torch

    return torch


def shape_list(value: Any) -> list[int] | None:
    shape = getattr(value, "shape", None)
    return [int(d) for d in shape] if shape is not None else None


def sample_inputs(*shape: int, integers: int = 0, seed: int = 0) -> Any:
    """Sample inputs from a private generator, on the default device."""
    torch = load_torch()
    generator = torch.Generator().manual_seed(seed)
    if integers:
        made = torch.randint(0, integers, shape, generator=generator, device="cpu")
    else:
        made = torch.randn(*shape, generator=generator, device="cpu")
    return made.to(torch.get_default_device())


def parameters_of(owner: Any) -> list[Any] | None:
    torch = load_torch()
    if hasattr(owner, "param_groups"):
        return [p for group in owner.param_groups for p in group["params"]]
    if isinstance(owner, torch.nn.Module):
        return list(owner.parameters())
    if isinstance(owner, torch.Tensor) and owner.requires_grad and owner.is_leaf:
        return [owner]
    return None


def is_module(value: Any) -> bool:
    return isinstance(value, load_torch().nn.Module)


def kind_name(value: Any) -> str:
    return type(value).__name__
