"""A small content encoder trained here: the matching space of kNN voice conversion.

kNN-VC (Baas et al., 2023) matches frames in WavLM space because WavLM features say *what* is
said far more than *who* says it. No WavLM weights can be downloaded here, so we train a small
stand-in from what TTS gives for free: the same sentence spoken by many voices. Frames of two
voices saying the same sentence are aligned by DTW (``alignment_pairs``); a contrastive loss
(InfoNCE, as in CPC/wav2vec 2.0) then pulls aligned frames together and pushes other frames
apart, so the encoder keeps what the voices share (the phones, with their context) and drops
what differs (timbre, pitch, engine). Trained by ``scripts/train_content_encoder.py``.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

from models.common.checkpoint import load_checkpoint, load_model, save_half
from models.speech.voice.features import cepstra, speech_frames
from models.speech.voice.istftnet import ConvNeXtBlock

CHECKPOINT = Path(__file__).resolve().parents[3] / "assets" / "voice" / "content_encoder.safetensors"


@dataclass(frozen=True)
class EncoderConfig:
    n_mels: int = 80
    channels: int = 128
    blocks: int = 4
    kernel: int = 5  # 4 blocks of kernel 5 + the input conv: +-10 frames (+-160 ms) of context
    dim: int = 64


class ContentEncoder(nn.Module):
    """log-mel (B, n_mels, T) -> unit-norm content vectors (B, T, dim)."""

    def __init__(self, n_mels: int = 80, channels: int = 128, blocks: int = 4, kernel: int = 5,
                 dim: int = 64) -> None:
        super().__init__()
        self.config = EncoderConfig(n_mels, channels, blocks, kernel, dim)
        self.pre = nn.Conv1d(n_mels, channels, kernel, padding=kernel // 2)
        self.blocks = nn.Sequential(*[ConvNeXtBlock(channels, kernel, 2) for _ in range(blocks)])
        self.norm = nn.LayerNorm(channels)
        self.head = nn.Linear(channels, dim)

    def forward(self, logmel: torch.Tensor) -> torch.Tensor:
        # per-utterance mean normalisation of each mel band (CMN): a fixed channel or vocal-tract
        # colouring is a constant offset in log-mel, so it is removed before the network sees it
        x = logmel - logmel.mean(dim=-1, keepdim=True)
        h = self.norm(self.blocks(self.pre(x)).transpose(1, 2))
        return F.normalize(self.head(h), dim=-1)


def save_encoder(model: ContentEncoder, path: Path, info: dict) -> Path:
    """fp16 weights (frame matching needs no more precision) plus architecture and record."""
    return save_half(path, model, {**asdict(model.config), **info})


@functools.cache
def load_encoder(path: Path = CHECKPOINT) -> ContentEncoder:
    """The shipped encoder, loaded once per process on first use (fp16 weights cast to fp32)."""
    return load_model(path, ContentEncoder, EncoderConfig.__dataclass_fields__)


@functools.cache
def training_record(path: Path = CHECKPOINT) -> dict:
    """What the training script stored with the weights (steps, CPU minutes, validation retrieval)."""
    return load_checkpoint(path)[1]


@torch.no_grad()
def content_features(logmel: torch.Tensor) -> torch.Tensor:
    """(frames, dim) unit vectors of the trained encoder for a (n_mels, frames) log-mel."""
    return load_encoder()(logmel[None])[0]


def cepstral_features(logmel: torch.Tensor) -> torch.Tensor:
    """(frames, 19) unit vectors: mean-normalised cepstra c1..c19 (c0, the loudness, dropped).

    The untrained baseline space: the per-utterance mean removes the speaker's average
    vocal-tract colouring, but what remains still carries a lot of the speaker."""
    ceps = cepstra(logmel)[1:]
    ceps = ceps - ceps.mean(dim=1, keepdim=True)
    return F.normalize(ceps.T, dim=1)


def alignment_pairs(logmel_a: torch.Tensor, logmel_b: torch.Tensor,
                    features: Callable[[torch.Tensor], torch.Tensor] = cepstral_features) -> np.ndarray:
    """(P, 2) frame index pairs (i in a, j in b) on the DTW path between two utterances of the
    same sentence, in the given feature space (cosine distance), keeping speech frames only.

    A frame of ``a`` can sit on the path with several frames of ``b`` (one voice slower than
    the other); every such pair is kept: each says the same sound."""
    import librosa

    fa, fb = features(logmel_a).numpy(), features(logmel_b).numpy()
    _, path = librosa.sequence.dtw(C=1.0 - fa @ fb.T, backtrack=True)
    path = path[::-1]
    keep = speech_frames(logmel_a).numpy()[path[:, 0]] & speech_frames(logmel_b).numpy()[path[:, 1]]
    return path[keep].copy()


@torch.no_grad()
def retrieval_accuracy(features: Callable[[torch.Tensor], torch.Tensor],
                       pairs: list[tuple[torch.Tensor, torch.Tensor, np.ndarray]], tolerance: int = 2) -> float:
    """How often the nearest frame of b to a frame of a (in ``features`` space) lies within
    ``tolerance`` frames (2 = +-32 ms; a phone lasts 4-10 frames) of a's DTW partner, over
    (mel_a, mel_b, aligned pairs) of utterance pairs saying the same sentence."""
    hits = total = 0
    for mel_a, mel_b, path in pairs:
        nearest = (features(mel_a) @ features(mel_b).T).argmax(dim=1).numpy()
        hits += int((np.abs(nearest[path[:, 0]] - path[:, 1]) <= tolerance).sum())
        total += len(path)
    return hits / max(total, 1)


def info_nce(za: torch.Tensor, zb: torch.Tensor, temperature: float = 0.1) -> torch.Tensor:
    """Symmetric InfoNCE: row i of ``za`` must pick row i of ``zb`` out of all rows, and back."""
    logits = za @ zb.T / temperature
    target = torch.arange(len(za))
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target))
