"""Residual Cycle Forecasting (CycleNet, Lin et al. 2024): a learnable cycle Q in R^{W x C}.

CycleNet models the periodic part of a series explicitly: one learnable value per phase and
channel, shared by every window. The backbone forecasts only what the cycle does not explain.

**Phase convention (differs from the reference code on purpose).** ACAT-SCUT/CycleNet's data
loader passes ``cycle_index[s_end]``, the phase of the first *forecast* step, and the model uses
it as the phase of the first *input* step. Training absorbs that offset, so its Q is rotated by
L mod W: its ``Q[k]`` describes true phase ``k - L`` (its notebook rolls Q by hand before plotting),
and a checkpoint trained with one L is wrong for another. Here ``p`` is the phase of the window's
first input timestamp (t mod W, from the time column), so ``Q[k]`` *is* phase k (hour k of the day
for hourly data and W=24) for every L. :func:`from_reference` undoes the rotation on load.
"""
from __future__ import annotations

import torch
from torch import nn


class RecurrentCycle(nn.Module):
    """Q (W x C), zero-initialised so training starts from a plain backbone."""

    def __init__(self, period: int, channels: int):
        super().__init__()
        self.period = period
        self.data = nn.Parameter(torch.zeros(period, channels))

    def forward(self, phase: torch.Tensor, length: int) -> torch.Tensor:
        """Q[(p + 0..length-1) mod W] for each window: (B,) phases -> (B, length, C)."""
        index = (phase.view(-1, 1) + torch.arange(length, device=phase.device).view(1, -1)) % self.period
        return self.data[index]


def reference_rotation(L: int, period: int, first_row_phase: int = 0) -> int:
    """How far the reference code's Q is rotated from the true-phase Q.

    The reference's phase of row n is ``n mod W`` (row number, not time); its input step at row s
    reads ``Q_ref[(s + L) mod W]`` while the true phase of row s is ``(s + p0) mod W``, so
    ``Q_true[m] = Q_ref[(m + L - p0) mod W]``.
    """
    return (L - first_row_phase) % period


def from_reference(state_dict: dict[str, torch.Tensor], L: int, first_row_phase: int = 0
                   ) -> dict[str, torch.Tensor]:
    """Map a reference CycleNet state_dict (``cycleQueue.data``, ``model.*``) to ours.

    ``first_row_phase`` is the true phase of the reference dataset's row 0 (0 for ETT: midnight).
    """
    if "cycleQueue.data" not in state_dict:
        raise KeyError("not a CycleNet state_dict: 'cycleQueue.data' is missing")
    q_ref = state_dict["cycleQueue.data"]
    shift = reference_rotation(L, q_ref.shape[0], first_row_phase)
    out = {"cycle.data": torch.roll(q_ref, shifts=-shift, dims=0)}
    for key, value in state_dict.items():
        if key.startswith("model."):
            out["backbone.net." + key[len("model."):]] = value
    return out
