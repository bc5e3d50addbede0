"""SparseTSF (Lin et al., ICML 2024): forecast each phase of the period with one tiny shared map.

With period W, look-back L = n*W and horizon H = m*W, the series is cut into W phase
subsequences of n points (all 00:00 values, all 01:00 values, ...). One Linear(n -> m), shared by
all phases and channels, forecasts every subsequence; the results are interleaved back.
Parameters: (2*floor(W/2)+1) for the aggregation conv + n*m, e.g. 25 + 30*4 = 145 for
W=24, L=720, H=96 (925 for H=720: the paper's "1k parameters").
"""
from __future__ import annotations

import torch
from torch import nn

from models.common.errors import InputError


def nearest_multiples(value: int, period: int) -> list[int]:
    """The multiples of ``period`` just below and above ``value`` (the valid choices to offer)."""
    below = max(period, (value // period) * period)
    return sorted({below, below + period} if below < value else {below})


def check_multiples(L: int, H: int, period: int) -> None:
    """SparseTSF needs L and H to be whole numbers of periods; say which values would work."""
    for label, v in (("L (look-back)", L), ("H (horizon)", H)):
        if v % period:
            options = " or ".join(str(o) for o in nearest_multiples(v, period))
            raise InputError(f"SparseTSF needs {label} to be a multiple of W={period}; {v} is not. "
                             f"Use {options}, or pick another period W.")


class SparseTSF(nn.Module):
    """Input (B, L, C) -> (B, H, C). ``hidden`` > 0 gives the SparseTSF/MLP variant."""

    def __init__(self, L: int, H: int, period: int, hidden: int = 0):
        super().__init__()
        check_multiples(L, H, period)
        self.L, self.H, self.period = L, H, period
        n, m = L // period, H // period
        half = period // 2
        # "period-length" sliding aggregation: smooths each point with its +-W/2 neighbours
        self.conv = nn.Conv1d(1, 1, kernel_size=2 * half + 1, padding=half, bias=False)
        if hidden:
            self.map = nn.Sequential(nn.Linear(n, hidden), nn.ReLU(), nn.Linear(hidden, m))
        else:
            self.map = nn.Linear(n, m, bias=False)

    def _aggregate(self, z: torch.Tensor) -> torch.Tensor:
        """``self.conv(z)`` (zero padding, cross-correlation) computed by FFT.

        Same numbers as nn.Conv1d up to float rounding, but a 1-in/1-out-channel Conv1d is
        ~4x slower on CPU (forward + backward), and this layer dominates SparseTSF's cost.
        """
        kernel = self.conv.weight.view(-1)
        half = kernel.numel() // 2
        n = 1 << (self.L + 2 * half - 1).bit_length()
        spectrum = torch.fft.rfft(z, n) * torch.fft.rfft(kernel.flip(0), n)
        return torch.fft.irfft(spectrum, n)[..., half:half + self.L]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, c = x.shape
        mean = x.mean(dim=1, keepdim=True)
        z = (x - mean).transpose(1, 2).reshape(b * c, 1, self.L)
        z = self._aggregate(z) + z  # aggregation with residual
        # (BC, L) -> (BC, n, W) -> (BC, W, n): row k holds phase k of each of the n periods
        z = z.reshape(b * c, self.L // self.period, self.period).transpose(1, 2)
        y = self.map(z)  # (BC, W, m)
        y = y.transpose(1, 2).reshape(b, c, self.H).transpose(1, 2)
        return y + mean
