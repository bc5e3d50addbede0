"""One wrapper for every model: optional instance norm, optional RCF cycle, any backbone.

Writing CycleNet as ``Forecaster(backbone, cycle)`` is what makes RCF a plug-in: the same
DLinear runs with and without a cycle by changing one argument, which is the paper's
plug-and-play claim shown side by side.
"""
from __future__ import annotations

import torch
from torch import nn

from models.forecasting.cycle import RecurrentCycle

EPS = 1e-5


class Forecaster(nn.Module):
    """x (B, L, C) scaled, phase (B,) of the first input step -> forecast (B, H, C)."""

    def __init__(self, backbone: nn.Module, L: int, H: int, cycle: RecurrentCycle | None = None,
                 revin: bool = False):
        super().__init__()
        self.backbone, self.cycle, self.revin = backbone, cycle, revin
        self.L, self.H = L, H

    def forward(self, x: torch.Tensor, phase: torch.Tensor) -> torch.Tensor:
        parts = self.decompose(x, phase)
        return parts["cycle"] + parts["residual"]

    def decompose(self, x: torch.Tensor, phase: torch.Tensor) -> dict[str, torch.Tensor]:
        """The forecast as cycle part + backbone part, both in the input's units.

        With instance norm, y = sigma * (f(x_hat - Q_in) + Q_out) + mu, so the cycle part is
        sigma * Q_out + mu and the residual part sigma * f(...). Without a cycle, "cycle" is
        the level mu (zero without instance norm).
        """
        mu = torch.zeros_like(x[:, :1])
        sigma = torch.ones_like(mu)
        if self.revin:  # RevIN without affine parameters, as in CycleNet (use_revin=1)
            mu = x.mean(dim=1, keepdim=True)
            sigma = torch.sqrt(x.var(dim=1, keepdim=True, unbiased=True) + EPS)
            x = (x - mu) / sigma
        if self.cycle is not None:
            x = x - self.cycle(phase, self.L)
            q_out = self.cycle((phase + self.L) % self.cycle.period, self.H)
        else:
            q_out = torch.zeros_like(x[:, :1])
        residual = self.backbone(x)
        return {"cycle": (sigma * q_out + mu).expand_as(residual), "residual": sigma * residual}


class SeasonalNaive(nn.Module):
    """Repeat the last full period: the baseline every periodic model has to beat."""

    def __init__(self, L: int, H: int, period: int):
        super().__init__()
        self.L, self.H, self.period = L, H, period

    def forward(self, x: torch.Tensor, phase: torch.Tensor) -> torch.Tensor:
        last = x[:, -self.period:]
        reps = -(-self.H // self.period)
        return last.repeat(1, reps, 1)[:, : self.H]
