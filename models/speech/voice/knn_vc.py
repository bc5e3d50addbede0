"""Voice conversion by k-nearest-neighbour frame matching (kNN-VC, Baas et al. 2023; SSL-TTS 2024).

Each source frame is replaced by the average of its k nearest reference frames, so the output
says what the source says (content picks the neighbours) with the reference's spectra (timbre).
kNN-VC and SSL-TTS match in WavLM space; no WavLM weights can be downloaded here, so we match
on mel cepstra c1..c19 with per-utterance mean normalisation, which removes most of the
speaker's average vocal-tract colouring and keeps the phonetic content. SSL-TTS's lambda
interpolates source and retrieved features: ``blend`` does that on log-mels (0 = source voice,
1 = target voice). The result is vocoded by any vocoder of ``vocoders``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from models.common.errors import InputError
from models.speech.voice.features import MEL, cepstra, log_mel
from models.speech.voice.vocoders import DEFAULT_VOCODER, Vocoded, vocode

MIN_REFERENCE_SECONDS = 2.0
MAX_REFERENCE_SECONDS = 60.0
DEFAULT_K = 4


@dataclass(frozen=True)
class Bank:
    """A reference voice: its frames' log-mels (n_mels, N) and unit-norm matching features (N, d)."""
    logmel: torch.Tensor
    keys: torch.Tensor


def matching_features(logmel: torch.Tensor) -> torch.Tensor:
    """(frames, 19) unit vectors: mean-normalised cepstra without c0 (loudness)."""
    ceps = cepstra(logmel)[1:]
    ceps = ceps - ceps.mean(dim=1, keepdim=True)
    return F.normalize(ceps.T, dim=1)


def _speech_frames(logmel: torch.Tensor) -> torch.Tensor:
    """Frames within 40 dB of the loudest one: pauses would otherwise be matched as 'content'."""
    energy = logmel.mean(dim=0)
    return energy > energy.max() - 4.6


def reference_bank(audio: np.ndarray, name: str = "The reference clip") -> Bank:
    """Build the matching set from a reference recording (mono, at MEL.sr)."""
    seconds = len(audio) / MEL.sr
    if seconds < MIN_REFERENCE_SECONDS:
        raise InputError(f"{name} is {seconds:.1f} s long; voice conversion needs at least "
                         f"{MIN_REFERENCE_SECONDS:.0f} s of the target voice (5-30 s works best).")
    if seconds > MAX_REFERENCE_SECONDS:
        raise InputError(f"{name} is {seconds:.0f} s long; use at most {MAX_REFERENCE_SECONDS:.0f} s "
                         "of the target voice.")
    logmel = log_mel(audio)
    speech = _speech_frames(logmel)
    if int(speech.sum()) < MIN_REFERENCE_SECONDS * MEL.sr / MEL.hop / 2:
        raise InputError(f"{name} has too little speech in it (mostly silence or a steady tone); "
                         "record a few seconds of someone talking.")
    return Bank(logmel[:, speech], matching_features(logmel)[speech])


def match(source_logmel: torch.Tensor, bank: Bank, k: int = DEFAULT_K) -> torch.Tensor:
    """kNN regression: the mean (in linear mel) of the k reference frames most cosine-similar
    to each source frame, then re-levelled to the source frame's loudness. Returns (n_mels, T)."""
    k = max(1, min(int(k), bank.keys.shape[0]))
    sims = matching_features(source_logmel) @ bank.keys.T  # (T, N) cosine similarities
    idx = sims.topk(k, dim=1).indices  # (T, k)
    matched = torch.log(torch.exp(bank.logmel[:, idx]).mean(dim=2))  # (n_mels, T)
    # keep the source's loudness contour (its c0), so pauses stay pauses and stress stays stress
    return matched - matched.mean(dim=0, keepdim=True) + source_logmel.mean(dim=0, keepdim=True)


def change_speed(logmel: torch.Tensor, speed: float) -> torch.Tensor:
    """Time-scale a log-mel by linear frame interpolation (speed 2 = half as many frames)."""
    if abs(speed - 1.0) < 1e-3:
        return logmel
    frames = max(2, round(logmel.shape[1] / speed))
    return F.interpolate(logmel[None], size=frames, mode="linear", align_corners=True)[0]


def shift_pitch(audio: np.ndarray, semitones: float) -> np.ndarray:
    """Pitch shift with librosa's phase vocoder + resampling (formants move with it)."""
    if abs(semitones) < 1e-3:
        return audio
    import librosa

    return librosa.effects.pitch_shift(audio, sr=MEL.sr, n_steps=float(semitones)).astype(np.float32)


def convert(source: np.ndarray, bank: Bank, blend: float = 1.0, k: int = DEFAULT_K, speed: float = 1.0,
            semitones: float = 0.0, vocoder: str = DEFAULT_VOCODER) -> Vocoded:
    """Convert ``source`` (mono, MEL.sr) toward ``bank``'s voice.

    ``blend`` in [0, 1] interpolates log-mels: 0 keeps the source voice (still vocoded, so the
    comparison is fair), 1 is the fully matched target voice.
    """
    if not 0.0 <= blend <= 1.0:
        raise InputError("The blend must be between 0 (source voice) and 1 (target voice).")
    if not 0.5 <= speed <= 2.0:
        raise InputError("Speed must be between 0.5x and 2x.")
    if not -12 <= semitones <= 12:
        raise InputError("Pitch shift must be between -12 and +12 semitones.")
    src = log_mel(source)
    mel = src if blend == 0 else (1 - blend) * src + blend * match(src, bank, k)
    out = vocode(change_speed(mel, speed), vocoder)
    return Vocoded(out.name, shift_pitch(out.audio, semitones), out.seconds)
