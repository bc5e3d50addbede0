"""PaperLab FRCRN: a compact model of "FRCRN: Boosting Feature Representation using Frequency
Recurrence for Monaural Speech Enhancement" (Zhao et al., ICASSP 2022).

The paper's idea, kept here at a size that trains on 2 CPU cores:
- a *complex* convolutional encoder-decoder (CCED) on the STFT X = X_r + iX_i, where every
  complex layer W = W_r + iW_i computes W*X = (W_r*X_r - W_i*X_i) + i(W_r*X_i + W_i*X_r);
- *frequency recurrence*: after every encoder/decoder layer a complex FSMN runs along the
  frequency axis, so each bin's feature sees the whole spectrum (harmonics far apart in
  frequency are correlated, which plain convolutions with small kernels miss);
- complex FSMN blocks along time in the bottleneck;
- a bounded complex ratio mask M (|M| = tanh|M_raw|), enhanced Y = M * X, trained with a
  time-domain SI-SDR loss plus a compressed-spectrum TF loss (scripts/train_frcrn.py).
The paper stacks two CCEDs and uses attention in the skip paths; this lite model has one CCED
and plain skip concatenation, which is what fits the < 5 MB / RTF <= 0.1 budget.
"""
from __future__ import annotations

import torch
from torch import nn

from models.speech.stft import istft, stft

Pair = tuple[torch.Tensor, torch.Tensor]


class ComplexConv(nn.Module):
    """Complex (transposed) 2-D convolution over (freq, time) made of two real convolutions."""

    def __init__(self, cin: int, cout: int, kernel: tuple[int, int], stride: tuple[int, int],
                 padding: tuple[int, int], transpose: bool = False):
        super().__init__()
        conv = nn.ConvTranspose2d if transpose else nn.Conv2d
        self.real = conv(cin, cout, kernel, stride, padding)
        self.imag = conv(cin, cout, kernel, stride, padding)

    def forward(self, xr: torch.Tensor, xi: torch.Tensor) -> Pair:
        both = torch.cat([xr, xi], 0)  # one call per weight for both parts
        a_r, a_i = self.real(both).chunk(2, 0)
        b_r, b_i = self.imag(both).chunk(2, 0)
        return a_r - b_i, a_i + b_r


class ComplexFSMN(nn.Module):
    """Complex FSMN memory block along one axis (freq or time) of a (B, C, F, T) feature.

    FSMN (Zhang et al. 2015): h = ReLU(W x), m = h + sum_k a_k (.) h_{t-k}, out = x + V m — a
    learnable FIR "memory" that approximates recurrence without sequential computation. The
    complex version combines two real FSMNs like a complex multiplication (FRCRN Sec. 2.2).
    """

    def __init__(self, channels: int, kernel: int, axis: str, dilation: int = 1):
        super().__init__()
        k = (kernel, 1) if axis == "freq" else (1, kernel)
        d = (dilation, 1) if axis == "freq" else (1, dilation)
        pad = (dilation * (kernel // 2), 0) if axis == "freq" else (0, dilation * (kernel // 2))
        self.parts = nn.ModuleList(nn.ModuleDict({
            "w": nn.Conv2d(channels, channels, 1),
            "mem": nn.Conv2d(channels, channels, k, padding=pad, dilation=d, groups=channels, bias=False),
            "v": nn.Conv2d(channels, channels, 1),
        }) for _ in range(2))

    @staticmethod
    def _fsmn(p: nn.ModuleDict, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(p["w"](x))
        return p["v"](h + p["mem"](h))

    def forward(self, xr: torch.Tensor, xi: torch.Tensor) -> Pair:
        real, imag = self.parts
        both = torch.cat([xr, xi], 0)
        a_r, a_i = self._fsmn(real, both).chunk(2, 0)
        b_r, b_i = self._fsmn(imag, both).chunk(2, 0)
        return xr + a_r - b_i, xi + a_i + b_r


class ComplexNormAct(nn.Module):
    """BatchNorm + PReLU applied to real and imaginary parts (the common 'naive complex' choice)."""

    def __init__(self, channels: int):
        super().__init__()
        self.norm = nn.BatchNorm2d(2 * channels)
        self.act = nn.PReLU(2 * channels)

    def forward(self, xr: torch.Tensor, xi: torch.Tensor) -> Pair:
        y = self.act(self.norm(torch.cat([xr, xi], 1)))
        return y.chunk(2, 1)


class FRCRNLite(nn.Module):
    """Complex encoder-decoder with frequency-recurrent FSMNs; predicts a complex ratio mask."""

    def __init__(self, n_fft: int = 320, hop: int = 160, channels: tuple[int, ...] = (16, 32, 32),
                 fsmn_kernel: int = 7, time_kernel: int = 5, time_layers: int = 2, compress: float = 0.3):
        super().__init__()
        self.n_fft, self.hop, self.compress = n_fft, hop, compress
        chans = (1, *channels)
        self.enc = nn.ModuleList(ComplexConv(chans[i], chans[i + 1], (5, 2), (2, 1), (2, 0))
                                 for i in range(len(channels)))
        self.enc_post = nn.ModuleList(nn.ModuleList([ComplexNormAct(c), ComplexFSMN(c, fsmn_kernel, "freq")])
                                      for c in channels)
        self.mid = nn.ModuleList(ComplexFSMN(channels[-1], time_kernel, "time", dilation=2 ** i)
                                 for i in range(time_layers))
        self.dec = nn.ModuleList()
        self.dec_post = nn.ModuleList()
        for i in reversed(range(len(channels))):
            self.dec.append(ComplexConv(2 * chans[i + 1], chans[i] if i else 2, (5, 1), (2, 1), (2, 0), transpose=True))
            self.dec_post.append(nn.ModuleList([ComplexNormAct(chans[i]), ComplexFSMN(chans[i], fsmn_kernel, "freq")])
                                 if i else nn.ModuleList())
        self.out = ComplexConv(2, 1, (1, 1), (1, 1), (0, 0))

    def mask(self, spec: torch.Tensor) -> torch.Tensor:
        """Complex ratio mask (B, F, T) for a complex spectrum (B, F, T)."""
        mag = spec.abs().clamp_min(1e-8)
        comp = spec * mag.pow(self.compress - 1)  # power-law compressed input, phase kept
        xr, xi = comp.real.unsqueeze(1), comp.imag.unsqueeze(1)
        xr = nn.functional.pad(xr, (1, 0))  # causal time padding for the (5, 2) kernels
        xi = nn.functional.pad(xi, (1, 0))
        skips = []
        for conv, (norm, fsmn) in zip(self.enc, self.enc_post):
            xr, xi = fsmn(*norm(*conv(xr, xi)))
            skips.append((xr, xi))
            xr, xi = nn.functional.pad(xr, (1, 0)), nn.functional.pad(xi, (1, 0))
        xr, xi = xr[..., 1:], xi[..., 1:]
        for block in self.mid:
            xr, xi = block(xr, xi)
        for conv, post, (sr, si) in zip(self.dec, self.dec_post, reversed(skips)):
            xr, xi = conv(torch.cat([xr, sr], 1), torch.cat([xi, si], 1))
            if len(post):
                xr, xi = post[1](*post[0](xr, xi))
        mr, mi = self.out(xr, xi)
        m = torch.complex(mr[:, 0], mi[:, 0])
        return torch.tanh(m.abs()) * torch.exp(1j * m.angle())  # bounded |M| < 1 (DCCRN-E style)

    def forward(self, wav: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, n) noisy waveform -> (enhanced waveform (B, n), mask (B, F, T))."""
        spec = stft(wav, self.n_fft, self.hop)
        m = self.mask(spec)
        return istft(spec * m, self.n_fft, self.hop, wav.shape[-1]), m
