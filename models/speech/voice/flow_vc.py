"""A second voice converter: conditional flow matching over mel frames (the StableVC idea, small).

StableVC (Yao et al., 2024) generates the target voice's mel spectrogram with conditional flow
matching (Lipman et al., 2023): a network learns the velocity field that carries Gaussian noise
to mel frames along straight paths, conditioned on *what* is said (content features) and *who*
should say it (a speaker prompt). kNN conversion can only reuse frames the reference contains;
a generator can produce frames the reference never had, which is what a short reference needs.

Here, for the CPU budget: the content is our trained content encoder's output for the source
frames (``content``); the speaker prompt is the per-band mean and spread of the reference's
log-mel speech frames; the velocity network is a stack of ConvNeXt blocks over time; sampling
is 8 Euler steps. Trained by ``scripts/train_flow_vc.py`` on parallel TTS speech: content from
voice A saying a sentence, DTW-aligned to voice B saying it, must generate B's mel frames given
a prompt made from a *different* sentence of B, so the voice can only come from the prompt.
"""
from __future__ import annotations

import functools
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

from models.common.checkpoint import load_checkpoint, load_model, save_half
from models.speech.voice.content import content_features
from models.speech.voice.features import speech_frames
from models.speech.voice.istftnet import ConvNeXtBlock

CHECKPOINT = Path(__file__).resolve().parents[3] / "assets" / "voice" / "flow_vc.safetensors"
SIGMA_MIN = 1e-4  # the conditional OT path's end-point width (Lipman et al.)
SAMPLING_STEPS = 8


@dataclass(frozen=True)
class FlowConfig:
    n_mels: int = 80
    content_dim: int = 64
    channels: int = 192
    blocks: int = 6
    kernel: int = 5
    mel_mean: float = -6.0  # log-mel normalisation (set from the training data by the script)
    mel_std: float = 2.5


def speaker_prompt(logmel: torch.Tensor) -> torch.Tensor:
    """(2 * n_mels,) per-band mean and standard deviation of a voice's speech frames."""
    speech = logmel[:, speech_frames(logmel)]
    return torch.cat([speech.mean(dim=1), speech.std(dim=1)])


class FlowVC(nn.Module):
    """Velocity field v(x_t, t | content, speaker) on normalised log-mel frames (B, n_mels, T)."""

    def __init__(self, n_mels: int = 80, content_dim: int = 64, channels: int = 192, blocks: int = 6,
                 kernel: int = 5, mel_mean: float = -6.0, mel_std: float = 2.5) -> None:
        super().__init__()
        self.config = FlowConfig(n_mels, content_dim, channels, blocks, kernel, mel_mean, mel_std)
        self.inp = nn.Conv1d(n_mels + content_dim, channels, kernel, padding=kernel // 2)
        self.speaker = nn.Sequential(nn.Linear(2 * n_mels, channels), nn.GELU(), nn.Linear(channels, channels))
        self.time = nn.Sequential(nn.Linear(64, channels), nn.GELU(), nn.Linear(channels, channels))
        self.blocks = nn.ModuleList(ConvNeXtBlock(channels, kernel, 2) for _ in range(blocks))
        self.out = nn.Conv1d(channels, n_mels, 1)

    def _time_embedding(self, t: torch.Tensor) -> torch.Tensor:  # (B,) -> (B, 64) sinusoids
        freqs = torch.exp(torch.arange(32) * (-math.log(1000.0) / 31))
        angles = 1000.0 * t[:, None] * freqs[None]
        return torch.cat([angles.sin(), angles.cos()], dim=1)

    def forward(self, x_t: torch.Tensor, t: torch.Tensor, content: torch.Tensor, prompt: torch.Tensor) -> torch.Tensor:
        """x_t (B, n_mels, T) normalised; t (B,); content (B, content_dim, T); prompt (B, 2 n_mels) in nats."""
        cfg = self.config
        prompt = torch.cat([(prompt[:, :cfg.n_mels] - cfg.mel_mean) / cfg.mel_std, prompt[:, cfg.n_mels:] / cfg.mel_std], 1)
        cond = (self.speaker(prompt) + self.time(self._time_embedding(t)))[:, :, None]
        h = self.inp(torch.cat([x_t, content], dim=1)) + cond
        for block in self.blocks:
            h = block(h + cond)
        return self.out(h)

    def normalise(self, logmel: torch.Tensor) -> torch.Tensor:
        return (logmel - self.config.mel_mean) / self.config.mel_std

    def denormalise(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.config.mel_std + self.config.mel_mean


def flow_matching_loss(model: FlowVC, target: torch.Tensor, content: torch.Tensor, prompt: torch.Tensor) -> torch.Tensor:
    """Conditional flow-matching loss on normalised target frames (B, n_mels, T): along the
    straight path x_t = (1 - (1 - s) t) x0 + t x1 from noise x0 to data x1, the network must
    predict the path's constant velocity x1 - (1 - s) x0."""
    x1 = target
    x0 = torch.randn_like(x1)
    t = torch.rand(x1.shape[0])
    tt = t[:, None, None]
    x_t = (1 - (1 - SIGMA_MIN) * tt) * x0 + tt * x1
    return ((model(x_t, t, content, prompt) - (x1 - (1 - SIGMA_MIN) * x0)) ** 2).mean()


@torch.no_grad()
def sample(model: FlowVC, content: torch.Tensor, prompt: torch.Tensor, steps: int = SAMPLING_STEPS,
           temperature: float = 0.7, seed: int = 0) -> torch.Tensor:
    """Euler integration of the learned field from seeded noise; returns log-mel (B, n_mels, T)."""
    gen = torch.Generator().manual_seed(seed)
    x = temperature * torch.randn(content.shape[0], model.config.n_mels, content.shape[2], generator=gen)
    for i in range(steps):
        t = torch.full((content.shape[0],), i / steps)
        x = x + model(x, t, content, prompt) / steps
    return model.denormalise(x)


def save_flow(model: FlowVC, path: Path, info: dict) -> Path:
    return save_half(path, model, {**asdict(model.config), **info})


@functools.cache
def load_flow(path: Path = CHECKPOINT) -> FlowVC:
    """The shipped converter, loaded once per process (fp16 weights cast to fp32)."""
    return load_model(path, FlowVC, FlowConfig.__dataclass_fields__)


@functools.cache
def training_record(path: Path = CHECKPOINT) -> dict:
    return load_checkpoint(path)[1]


def generate(source_logmel: torch.Tensor, reference_logmel: torch.Tensor) -> torch.Tensor:
    """The source's words in the reference's voice: (n_mels, T) log-mel at the source's timing,
    re-levelled to the source's loudness contour like the kNN converter."""
    model = load_flow()
    content = content_features(source_logmel).T[None]  # (1, dim, T)
    out = sample(model, content, speaker_prompt(reference_logmel)[None])[0]
    return out - out.mean(dim=0, keepdim=True) + source_logmel.mean(dim=0, keepdim=True)
