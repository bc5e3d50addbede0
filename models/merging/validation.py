"""Checks that a base and its fine-tuned models can be merged, with messages for the user.

They work on layouts (name -> shape, dtype) rather than tensors, so the out-of-core merge can
check multi-GB checkpoints from their headers before reading a single weight.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch

from models.common.errors import InputError

Layout = Mapping[str, tuple[tuple[int, ...], str]]
"""Tensor name -> (shape, dtype name), e.g. {"fc.weight": ((10, 64), "F32")}."""

MAX_LISTED = 5


def layout_of(tensors: Mapping[str, torch.Tensor]) -> dict[str, tuple[tuple[int, ...], str]]:
    """The layout of an in-memory state dict (dtype names as torch spells them)."""
    return {k: (tuple(v.shape), str(v.dtype).replace("torch.", "")) for k, v in tensors.items()}


def _listed(items: Sequence[str]) -> str:
    more = f" and {len(items) - MAX_LISTED} more" if len(items) > MAX_LISTED else ""
    return ", ".join(items[:MAX_LISTED]) + more


def check_layouts(base: Layout, tuned: Sequence[tuple[str, Layout]], float_names: set[str] | None = None) -> list[str]:
    """Raise InputError if the models cannot be merged; return notes on what will be copied as is.

    ``tuned`` is a list of (label, layout). ``float_names`` are the base tensors holding floats
    (the others, e.g. integer position ids, are copied from the base and reported in a note).
    """
    if len(tuned) == 0:
        raise InputError("No fine-tuned models given: merging needs a base model and at least two fine-tuned models.")
    if len(tuned) == 1:
        raise InputError("Only one fine-tuned model given: merging needs at least two "
                         "(with one, its task vector is just scaled; use lambda on it directly).")
    if not base:
        raise InputError("The base checkpoint holds no tensors.")
    for label, layout in tuned:
        missing = sorted(set(base) - set(layout))
        extra = sorted(set(layout) - set(base))
        if missing:
            raise InputError(f"{label} lacks {len(missing)} tensor(s) of the base: {_listed(missing)}. "
                             "All checkpoints must come from the same architecture.")
        if extra:
            raise InputError(f"{label} has {len(extra)} tensor(s) the base lacks: {_listed(extra)}. "
                             "All checkpoints must come from the same architecture.")
        differ = [f"{k} {tuple(base[k][0])} vs {tuple(layout[k][0])}"
                  for k in base if tuple(base[k][0]) != tuple(layout[k][0])]
        if differ:
            raise InputError(f"{label} has tensors whose shapes differ from the base: {_listed(differ)}. "
                             "Models of different architectures or sizes cannot be merged.")
    notes = []
    if float_names is not None:
        copied = sorted(set(base) - float_names)
        if copied:
            notes.append(f"{len(copied)} non-float tensor(s) copied from the base unchanged: {_listed(copied)}.")
    return notes


def check_state_dicts(base: Mapping[str, torch.Tensor], tuned: Sequence[tuple[str, Mapping[str, torch.Tensor]]]) -> list[str]:
    """:func:`check_layouts` for in-memory state dicts, plus a NaN/Inf check on float tensors."""
    floats = {k for k, v in base.items() if v.is_floating_point()}
    notes = check_layouts(layout_of(base), [(label, layout_of(sd)) for label, sd in tuned], floats)
    for label, sd in [("The base", base), *tuned]:
        bad = [k for k in floats if not torch.isfinite(sd[k]).all()]
        if bad:
            raise InputError(f"{label} contains NaN or infinite values in {_listed(sorted(bad))}.")
    return notes
