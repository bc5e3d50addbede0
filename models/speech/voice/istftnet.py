"""A small iSTFTNet-style neural vocoder: convolutions predict magnitude and phase, iSTFT makes audio.

iSTFTNet (Kaneko et al., 2022) replaces HiFi-GAN's last upsampling layers by an inverse STFT;
its ablation trades upsampling layers against STFT size. We take the extreme point of that
trade-off (no upsampling at all, one iSTFT at the mel frame rate, as Vocos later did), because
on a 2-core CPU the convolutions then run on 62.5 frames/s instead of 16 000 samples/s.
The magnitude branch follows FreeV (Lv et al., 2024): it only predicts a correction to the
pseudo-inverse prior log|A^+ exp(mel)|, which needs far fewer weights and training steps than
predicting the spectrum from scratch. Losses are the usual multi-resolution STFT and mel L1 plus
APNet's anti-wrapping phase losses, since without a GAN the phase needs direct supervision.
"""
from __future__ import annotations

import functools
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn
import torch.nn.functional as F

from models.common.checkpoint import load_checkpoint, save_half
from models.speech.voice.features import MEL, MelConfig, istft, log_mel_from_magnitude, magnitude_from_mel, stft

CHECKPOINT = Path(__file__).resolve().parents[3] / "assets" / "voice" / "istftnet.safetensors"
_MAX_LOG_MAG = 4.0  # exp(4) ~ 55: caps |X| so an untrained or odd input cannot blow up the iSTFT


@dataclass(frozen=True)
class VocoderConfig:
    channels: int = 128
    blocks: int = 6
    kernel: int = 7
    expansion: int = 3


class ConvNeXtBlock(nn.Module):
    """Depthwise conv (context over time) -> pointwise MLP, with a residual and layer scale."""

    def __init__(self, channels: int, kernel: int, expansion: int) -> None:
        super().__init__()
        self.dwconv = nn.Conv1d(channels, channels, kernel, padding=kernel // 2, groups=channels)
        self.norm = nn.LayerNorm(channels)
        self.pw1 = nn.Linear(channels, expansion * channels)
        self.pw2 = nn.Linear(expansion * channels, channels)
        self.scale = nn.Parameter(torch.full((channels,), 0.1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, T)
        y = self.dwconv(x).transpose(1, 2)
        y = self.pw2(F.gelu(self.pw1(self.norm(y))))
        return x + (self.scale * y).transpose(1, 2)


class ISTFTVocoder(nn.Module):
    """log-mel (B, n_mels, T) -> waveform (B, (T-1)*hop)."""

    def __init__(self, cfg: VocoderConfig = VocoderConfig(), mel: MelConfig = MEL) -> None:
        super().__init__()
        self.cfg, self.mel = cfg, mel
        self.pre = nn.Conv1d(mel.n_mels, cfg.channels, cfg.kernel, padding=cfg.kernel // 2)
        self.blocks = nn.Sequential(*[ConvNeXtBlock(cfg.channels, cfg.kernel, cfg.expansion)
                                      for _ in range(cfg.blocks)])
        self.norm = nn.LayerNorm(cfg.channels)
        self.head = nn.Linear(cfg.channels, 2 * mel.n_freq)  # log-magnitude correction and phase
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def spectrum(self, logmel: torch.Tensor) -> torch.Tensor:
        """Complex STFT (B, n_freq, T): |X| = exp(log|A^+ mel| + correction), phase predicted."""
        h = self.blocks(self.pre(logmel))
        h = self.head(self.norm(h.transpose(1, 2))).transpose(1, 2)
        correction, phase = h.split(self.mel.n_freq, dim=1)
        log_mag = torch.log(magnitude_from_mel(logmel, self.mel)) + correction
        mag = torch.exp(torch.clamp(log_mag, max=_MAX_LOG_MAG))
        return torch.polar(mag, phase)

    def forward(self, logmel: torch.Tensor) -> torch.Tensor:
        return istft(self.spectrum(logmel), cfg=self.mel)


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def save_vocoder(model: ISTFTVocoder, path: Path, extra: dict) -> Path:
    """Config plus the mel settings it was trained for (loading refuses a mismatch)."""
    return save_half(path, model, {"vocoder": asdict(model.cfg), "mel": model.mel.as_dict(), **extra})


@functools.cache
def load_vocoder(path: Path = CHECKPOINT) -> ISTFTVocoder:
    """The trained vocoder, loaded once per process, in eval mode on CPU."""
    tensors, config = load_checkpoint(path)
    mel = MelConfig(**config["mel"])
    if mel != MEL:
        raise ValueError(f"{path.name} was trained for mel settings {mel}, this code uses {MEL}")
    model = ISTFTVocoder(VocoderConfig(**config["vocoder"]), mel)
    model.load_state_dict({k: v.float() for k, v in tensors.items()})
    return model.eval()


# --- training losses ----------------------------------------------------------------------------

RESOLUTIONS = ((256, 64), (512, 128), (1024, 256), (2048, 512))


def multi_resolution_stft_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Spectral convergence + log-magnitude L1, averaged over STFT sizes (Parallel WaveGAN)."""
    total = pred.new_zeros(())
    for n_fft, hop in RESOLUTIONS:
        window = torch.hann_window(n_fft)
        p = torch.stft(pred, n_fft, hop, window=window, return_complex=True).abs().clamp(min=1e-5)
        t = torch.stft(target, n_fft, hop, window=window, return_complex=True).abs().clamp(min=1e-5)
        total = total + torch.linalg.norm(t - p) / torch.linalg.norm(t) + F.l1_loss(p.log(), t.log())
    return total / len(RESOLUTIONS)


def _anti_wrap(x: torch.Tensor) -> torch.Tensor:
    """APNet's f_AW(x) = |x - 2 pi round(x / 2 pi)|: phase error that ignores 2 pi wraps."""
    return torch.abs(x - 2 * torch.pi * torch.round(x / (2 * torch.pi)))


def phase_loss(pred_phase: torch.Tensor, true_phase: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """APNet's instantaneous phase, group delay (d/dfreq) and instantaneous frequency (d/dt) losses.

    Weighted by normalised magnitude: the phase of near-silent bins is noise and not worth learning.
    """
    d = pred_phase - true_phase
    terms = (_anti_wrap(d), _anti_wrap(torch.diff(d, dim=-2)), _anti_wrap(torch.diff(d, dim=-1)))
    return sum((t * weight[..., : t.shape[-2], : t.shape[-1]]).sum() / weight.sum() for t in terms)


def vocoder_loss(model: ISTFTVocoder, logmel: torch.Tensor, audio: torch.Tensor,
                 mel_weight: float = 10.0) -> tuple[torch.Tensor, dict]:
    """Total training loss for one batch of (log-mel, audio) and its parts for logging.

    The mel term is weighted up (HiFi-GAN uses 45 next to its GAN losses): re-analysing the
    output's mel is what penalises an inconsistent phase that smears the magnitudes.
    """
    spec = model.spectrum(logmel)
    pred = istft(spec, length=audio.shape[-1], cfg=model.mel)
    true = stft(audio, model.mel)
    weight = true.abs() / true.abs().amax(dim=(-2, -1), keepdim=True).clamp(min=1e-5)
    parts = {
        "stft": multi_resolution_stft_loss(pred, audio),
        "mel": F.l1_loss(log_mel_from_magnitude(stft(pred, model.mel).abs(), model.mel), logmel),
        "phase": phase_loss(spec.angle(), true.angle(), weight),
    }
    total = parts["stft"] + mel_weight * parts["mel"] + 0.5 * parts["phase"]
    return total, {k: float(v.detach()) for k, v in parts.items()}
