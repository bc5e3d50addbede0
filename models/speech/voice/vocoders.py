"""Mel spectrogram -> waveform, three ways, behind one call: the vocoder lab's contenders.

(a) Griffin-Lim: the textbook route librosa implements (non-negative least squares mel
    inversion, then Griffin-Lim phase retrieval).
(b) FreeV + Griffin-Lim: FreeV's observation that the pseudo-inverse A^+ of the mel filter bank
    already gives a good magnitude, in one matrix product instead of an NNLS solve.
(c) iSTFTNet (trained here): a small network predicts magnitude and phase, one inverse STFT.
Both Griffin-Lim variants use librosa's fast Griffin-Lim (momentum 0.99, 32 iterations), so
they differ only in the magnitude estimate.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from models.speech.voice.features import MEL, log_mel, magnitude_from_mel
from models.speech.voice.istftnet import load_vocoder

GL_ITERATIONS = 32


def _griffin_lim(magnitude: np.ndarray) -> np.ndarray:
    import librosa

    return librosa.griffinlim(magnitude, n_iter=GL_ITERATIONS, hop_length=MEL.hop, win_length=MEL.n_fft,
                              n_fft=MEL.n_fft, window="hann", center=True, momentum=0.99,
                              init="random", random_state=0)


def griffin_lim(logmel: torch.Tensor) -> np.ndarray:
    """(a) NNLS magnitude from the mel, then Griffin-Lim."""
    import librosa

    mag = librosa.feature.inverse.mel_to_stft(torch.exp(logmel).numpy(), sr=MEL.sr, n_fft=MEL.n_fft, power=1.0,
                                              fmin=MEL.fmin, fmax=MEL.fmax)
    return _griffin_lim(mag)


def freev_griffin_lim(logmel: torch.Tensor) -> np.ndarray:
    """(b) FreeV's pseudo-inverse magnitude, then Griffin-Lim."""
    return _griffin_lim(magnitude_from_mel(logmel).numpy())


@torch.no_grad()
def istftnet(logmel: torch.Tensor) -> np.ndarray:
    """(c) The neural vocoder trained by scripts/train_vocoder.py."""
    return load_vocoder()(logmel[None])[0].numpy()


VOCODERS: dict[str, Callable[[torch.Tensor], np.ndarray]] = {
    "Griffin-Lim": griffin_lim,
    "FreeV + Griffin-Lim": freev_griffin_lim,
    "iSTFTNet (trained here)": istftnet,
}
DEFAULT_VOCODER = "iSTFTNet (trained here)"


@dataclass(frozen=True)
class Vocoded:
    name: str
    audio: np.ndarray  # float32 at MEL.sr
    seconds: float  # wall-clock time of the vocoder alone

    @property
    def rtf(self) -> float:
        """Real-time factor: compute time / audio duration (below 1 is faster than real time)."""
        return self.seconds / max(len(self.audio) / MEL.sr, 1e-9)


def vocode(logmel: torch.Tensor, name: str = DEFAULT_VOCODER) -> Vocoded:
    """Run one vocoder on a (n_mels, frames) log-mel and time it."""
    if name not in VOCODERS:
        raise ValueError(f"unknown vocoder {name!r}; choose from {list(VOCODERS)}")
    start = time.perf_counter()
    audio = np.asarray(VOCODERS[name](logmel), dtype=np.float32)
    return Vocoded(name, audio, time.perf_counter() - start)


def resynthesise(audio: np.ndarray, name: str = DEFAULT_VOCODER) -> Vocoded:
    """Analyse ``audio`` (at MEL.sr) to a log-mel and vocode it back: the copy-synthesis test."""
    return vocode(log_mel(audio), name)
