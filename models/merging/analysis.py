"""Diagnostics the page plots next to the accuracies: sign conflicts and parameters kept."""
from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from models.merging.methods import StateDict, is_mergeable, trim_top_k


def sign_conflicts(base: StateDict, tuned: Sequence[StateDict], density: float = 1.0,
                   group: Callable[[str], str] | None = None) -> dict[str, float]:
    """Per layer: the fraction of entries where the (top-``density``) task vectors disagree in sign.

    An entry conflicts when at least one d_i is positive and another negative there, which is the
    interference TIES' sign election resolves (TIES paper, Fig. 3). ``group`` maps a tensor name to
    its layer label (default: the tensor name itself).
    """
    group = group or (lambda n: n)
    hits: dict[str, float] = {}
    sizes: dict[str, int] = {}
    for name, theta0 in base.items():
        if not is_mergeable(theta0):
            continue
        deltas = torch.stack([trim_top_k(m[name].float() - theta0.float(), density) for m in tuned])
        conflict = ((deltas > 0).any(0) & (deltas < 0).any(0)).sum().item()
        key = group(name)
        hits[key] = hits.get(key, 0.0) + conflict
        sizes[key] = sizes.get(key, 0) + theta0.numel()
    return {k: hits[k] / sizes[k] for k in hits}


def kept_fraction(base: StateDict, merged: StateDict) -> float:
    """Fraction of float parameters the merge changed (non-zero merged task vector)."""
    changed = total = 0
    for name, theta0 in base.items():
        if is_mergeable(theta0):
            changed += (merged[name] != theta0).sum().item()
            total += theta0.numel()
    return changed / max(total, 1)
