"""The one log-mel spectrogram shared by every voice stage, plus the cepstra used for matching.

Every stage (vocoders, kNN matching, training) must agree on the exact analysis, or a mel
produced by one cannot be inverted by another; so the settings live here once, in ``MEL``.
Implemented with ``torch.stft`` (not librosa) so the neural vocoder's training loss uses the
identical differentiable transform.
"""
from __future__ import annotations

import functools
from dataclasses import asdict, dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class MelConfig:
    sr: int = 16000
    n_fft: int = 1024
    hop: int = 256  # 16 ms frames: few frames keeps Griffin-Lim and the vocoder cheap on CPU
    n_mels: int = 80
    fmin: float = 0.0
    fmax: float = 8000.0
    log_floor: float = 1e-5

    @property
    def n_freq(self) -> int:
        return self.n_fft // 2 + 1

    def as_dict(self) -> dict:
        return asdict(self)


MEL = MelConfig()
N_CEPSTRA = 20
"""Cepstral coefficients c0..c19 of the log-mel (c0, the loudness, is dropped when matching)."""


@functools.cache
def mel_basis(cfg: MelConfig = MEL) -> torch.Tensor:
    """The (n_mels, n_freq) Slaney mel filter bank, the same one librosa and HiFi-GAN use."""
    import librosa

    fb = librosa.filters.mel(sr=cfg.sr, n_fft=cfg.n_fft, n_mels=cfg.n_mels, fmin=cfg.fmin, fmax=cfg.fmax)
    return torch.from_numpy(fb).float()


@functools.cache
def mel_pinv(cfg: MelConfig = MEL) -> torch.Tensor:
    """FreeV's pseudo-inverse A^+ of the mel filter bank A, shape (n_freq, n_mels)."""
    return torch.linalg.pinv(mel_basis(cfg))


@functools.cache
def _window(n_fft: int) -> torch.Tensor:
    return torch.hann_window(n_fft)


def stft(audio: torch.Tensor, cfg: MelConfig = MEL) -> torch.Tensor:
    """Complex STFT (..., n_freq, frames), centred, Hann window."""
    return torch.stft(audio, cfg.n_fft, cfg.hop, window=_window(cfg.n_fft), center=True, return_complex=True)


def istft(spec: torch.Tensor, length: int | None = None, cfg: MelConfig = MEL) -> torch.Tensor:
    """Inverse of :func:`stft`."""
    return torch.istft(spec, cfg.n_fft, cfg.hop, window=_window(cfg.n_fft), center=True, length=length)


def log_mel_from_magnitude(mag: torch.Tensor, cfg: MelConfig = MEL) -> torch.Tensor:
    """log(max(A |X|, floor)) for a (..., n_freq, frames) magnitude."""
    return torch.log(torch.clamp(mel_basis(cfg) @ mag, min=cfg.log_floor))


def log_mel(audio: np.ndarray | torch.Tensor, cfg: MelConfig = MEL) -> torch.Tensor:
    """Natural-log mel spectrogram (..., n_mels, frames) of float audio at ``cfg.sr``."""
    x = torch.as_tensor(np.asarray(audio, dtype=np.float32)) if not torch.is_tensor(audio) else audio
    return log_mel_from_magnitude(stft(x, cfg).abs(), cfg)


def magnitude_from_mel(logmel: torch.Tensor, cfg: MelConfig = MEL) -> torch.Tensor:
    """FreeV's cheap mel inversion: |X| ~ max(A^+ exp(logmel), floor) (one matrix product)."""
    return torch.clamp(mel_pinv(cfg) @ torch.exp(logmel), min=cfg.log_floor)


@functools.cache
def _dct_matrix(n_mels: int, n_ceps: int) -> torch.Tensor:
    """Orthonormal DCT-II rows, the usual mel -> cepstrum transform."""
    n = torch.arange(n_mels, dtype=torch.float32)
    k = torch.arange(n_ceps, dtype=torch.float32)[:, None]
    basis = torch.cos(torch.pi / n_mels * (n + 0.5) * k) * (2.0 / n_mels) ** 0.5
    basis[0] /= 2 ** 0.5
    return basis


def cepstra(logmel: torch.Tensor, n_ceps: int = N_CEPSTRA) -> torch.Tensor:
    """Mel cepstra (n_ceps, frames) of a (n_mels, frames) log-mel."""
    return _dct_matrix(logmel.shape[-2], n_ceps) @ logmel


def speech_frames(logmel: torch.Tensor) -> torch.Tensor:
    """Boolean mask of the frames within 40 dB of the loudest one (mean log-mel within 4.6 nats).

    Pauses all look alike, so matching, alignment training and MCD skip them."""
    energy = logmel.mean(dim=0)
    return energy > energy.max() - 4.6


def peak_normalise(audio: np.ndarray, peak: float = 0.9) -> np.ndarray:
    """Scale to a fixed peak, so every engine and vocoder is compared at the same level."""
    m = float(np.max(np.abs(audio))) if audio.size else 0.0
    return (audio * (peak / m)).astype(np.float32) if m > 0 else audio.astype(np.float32)
