"""Voice conversion by k-nearest-neighbour frame matching (kNN-VC, Baas et al. 2023; SSL-TTS 2024).

Each source frame is replaced by the average of its k nearest reference frames, so the output
says what the source says (content picks the neighbours) with the reference's spectra (timbre).
kNN-VC and SSL-TTS match in WavLM space; no WavLM weights can be downloaded here, so the default
matching space is a small content encoder trained here on parallel TTS speech (``content``),
and mean-normalised mel cepstra remain as the untrained baseline to compare against. SSL-TTS's
lambda interpolates source and retrieved features: ``blend`` does that on log-mels (0 = source
voice, 1 = target voice), after a 3-frame moving average of the retrieved frames. The result is
vocoded by any vocoder of ``vocoders``. The same banks also feed the second converter,
flow matching (``flow_vc``), which generates frames instead of retrieving them.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from models.common.errors import InputError
from models.speech.voice.content import cepstral_features, content_features, training_record
from models.speech.voice.features import MEL, log_mel, speech_frames
from models.speech.voice.flow_vc import SAMPLING_STEPS, generate
from models.speech.voice.flow_vc import training_record as flow_record
from models.speech.voice.vocoders import DEFAULT_VOCODER, Vocoded, vocode

MIN_REFERENCE_SECONDS = 2.0
MAX_REFERENCE_SECONDS = 180.0  # kNN-VC keeps improving with minutes of reference
DEFAULT_K = 4
SMOOTHING_FRAMES = 3
DEFAULT_SPACE = "content encoder (trained here)"
FLOW = "flow matching, StableVC-lite (trained here)"
MATCHING_SPACES: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    DEFAULT_SPACE: content_features,
    "mel cepstra (untrained baseline)": cepstral_features,
    FLOW: content_features,
}
"""How source frames become target frames: kNN matching in a feature space (each maps a
(n_mels, T) log-mel to (T, d) unit vectors), or :data:`FLOW`, generation conditioned on the
content encoder's features (its bank keys are unused; the reference's frames give the prompt)."""


@dataclass(frozen=True)
class Bank:
    """A reference voice: its frames' log-mels (n_mels, N) and their unit-norm features (N, d)
    in the matching space ``space`` (source frames must be put in the same space)."""
    logmel: torch.Tensor
    keys: torch.Tensor
    space: str = DEFAULT_SPACE


def check_space(space: str) -> str:
    """``space`` if it is a known matching space (a front end may send any string)."""
    if space not in MATCHING_SPACES:
        raise InputError(f"Unknown matching space '{space}'; choose one of: {', '.join(MATCHING_SPACES)}.")
    return space


def space_note(space: str) -> str:
    """Markdown for the page's side note: what the matching space is and, for the trained encoder,
    its validation record (read from the checkpoint, so the page shows what training measured)."""
    if check_space(space) == FLOW:
        rec = flow_record()
        return ("**Flow matching** (StableVC's idea, small, trained here): instead of reusing the reference's "
                "frames, a network generates the target voice's mel frames from noise in "
                f"{SAMPLING_STEPS} steps, guided by the content encoder's features of the source and by the "
                "reference's average spectrum and its spread. It was trained on parallel speech of "
                f"{len(rec['voices'])} TTS voices ({rec['steps']} steps, {rec['train_cpu_minutes']} CPU-minutes), "
                "so it knows those voices best; the k and smoothing of kNN do not apply.")
    if space != DEFAULT_SPACE:
        return ("**Mel cepstra** (untrained baseline): each frame is matched by the shape of its spectral "
                "envelope. That shape carries the speaker too, so at high blend the nearest reference frames "
                "are often the wrong sound and words blur.")
    rec = training_record()
    return ("**Content encoder** (trained here, the default): a small convolutional network over log-mels "
            f"trained on the same sentences spoken by {len(rec['voices'])} TTS voices, DTW-aligned, so that "
            "frames saying the same sound map together whoever says them; at full blend the output comes "
            "closer to the target voice saying the same words than with cepstra (benchmark: MCD-DTW). "
            "On held-out sentences the nearest frame of another voice is the right one (within +-32 ms) "
            f"{rec['val_retrieval']:.0%} of the time, against {rec['val_retrieval_cepstra']:.0%} for mel "
            f"cepstra ({rec['steps']} steps, {rec['train_cpu_minutes']} CPU-minutes of training).")


def reference_bank(audio: np.ndarray, name: str = "The reference clip", space: str = DEFAULT_SPACE) -> Bank:
    """Build the matching set from a reference recording (mono, at MEL.sr)."""
    check_space(space)
    seconds = len(audio) / MEL.sr
    if seconds < MIN_REFERENCE_SECONDS:
        raise InputError(f"{name} is {seconds:.1f} s long; voice conversion needs at least "
                         f"{MIN_REFERENCE_SECONDS:.0f} s of the target voice (the more the better, up to 3 min).")
    if seconds > MAX_REFERENCE_SECONDS:
        raise InputError(f"{name} is {seconds:.0f} s long; use at most {MAX_REFERENCE_SECONDS:.0f} s "
                         "of the target voice.")
    logmel = log_mel(audio)
    speech = speech_frames(logmel)  # pauses would otherwise be matched as 'content'
    if int(speech.sum()) < MIN_REFERENCE_SECONDS * MEL.sr / MEL.hop / 2:
        raise InputError(f"{name} has too little speech in it (mostly silence or a steady tone); "
                         "record a few seconds of someone talking.")
    # features of the whole clip, then pauses dropped: the encoder needs each frame's context
    return Bank(logmel[:, speech], MATCHING_SPACES[space](logmel)[speech], space)


def match(source_logmel: torch.Tensor, bank: Bank, k: int = DEFAULT_K) -> torch.Tensor:
    """kNN regression: the mean (in linear mel) of the k reference frames most cosine-similar
    to each source frame, then re-levelled to the source frame's loudness. Returns (n_mels, T)."""
    k = max(1, min(int(k), bank.keys.shape[0]))
    sims = MATCHING_SPACES[bank.space](source_logmel) @ bank.keys.T  # (T, N) cosine similarities
    idx = sims.topk(k, dim=1).indices  # (T, k)
    matched = torch.log(torch.exp(bank.logmel[:, idx]).mean(dim=2))  # (n_mels, T)
    # keep the source's loudness contour (its c0), so pauses stay pauses and stress stays stress
    return matched - matched.mean(dim=0, keepdim=True) + source_logmel.mean(dim=0, keepdim=True)


def smooth_frames(logmel: torch.Tensor, width: int = SMOOTHING_FRAMES) -> torch.Tensor:
    """Moving average over ``width`` frames (edges repeated).

    Neighbouring output frames are retrieved from unrelated moments of the reference, so their
    pitch and level jump from frame to frame; averaging 3 frames (48 ms) removes that jitter
    (measured: higher DNSMOS and STOI at equal or lower MCD than no smoothing or 5 frames)."""
    if width <= 1:
        return logmel
    kernel = torch.full((logmel.shape[0], 1, width), 1.0 / width)
    padded = F.pad(logmel[None], (width // 2, width // 2), mode="replicate")
    return F.conv1d(padded, kernel, groups=logmel.shape[0])[0]


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


def target_frames(source_logmel: torch.Tensor, bank: Bank, k: int = DEFAULT_K) -> torch.Tensor:
    """The source's frames in the bank's voice, by the bank's converter: smoothed kNN
    regression, or flow-matching generation prompted by the reference frames."""
    if bank.space == FLOW:
        return generate(source_logmel, bank.logmel)
    return smooth_frames(match(source_logmel, bank, k))


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
    mel = src if blend == 0 else (1 - blend) * src + blend * target_frames(src, bank, k)
    out = vocode(change_speed(mel, speed), vocoder)
    return Vocoded(out.name, shift_pitch(out.audio, semitones), out.seconds)
