"""Channel-independent backbones: (B, L, C) -> (B, H, C), one set of weights shared by channels.

These are small enough that writing them out is clearer than pulling in a forecasting library
(and the reference repositories are research code, not packages).
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class TimeMap(nn.Module):
    """Apply ``net`` along the time axis of every channel: the paper's channel independence."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.transpose(1, 2)).transpose(1, 2)


def linear(L: int, H: int) -> TimeMap:
    """One Linear(L -> H): CycleNet/Linear's backbone (and RLinear when used without RCF)."""
    return TimeMap(nn.Linear(L, H))


def mlp(L: int, H: int, hidden: int = 512) -> TimeMap:
    """Linear-ReLU-Linear, CycleNet/MLP's backbone (d_model=512 in the reference scripts)."""
    return TimeMap(nn.Sequential(nn.Linear(L, hidden), nn.ReLU(), nn.Linear(hidden, H)))


class DLinear(nn.Module):
    """DLinear (Zeng et al. 2023): moving-average trend + remainder, one Linear(L -> H) each."""

    def __init__(self, L: int, H: int, kernel: int = 25):
        super().__init__()
        self.kernel = kernel
        self.trend = nn.Linear(L, H)
        self.seasonal = nn.Linear(L, H)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        xt = x.transpose(1, 2)  # (B, C, L)
        # replicate-pad both ends so the moving average keeps length L, as in the DLinear code
        half = (self.kernel - 1) // 2
        padded = F.pad(xt, (half, self.kernel - 1 - half), mode="replicate")
        trend = F.avg_pool1d(padded, self.kernel, stride=1)
        y = self.trend(trend) + self.seasonal(xt - trend)
        return y.transpose(1, 2)
