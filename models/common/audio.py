"""Audio I/O for every speech feature: read anything soundfile/librosa can, check it, resample.

torchaudio is deliberately not used: its PyPI wheels are CUDA-linked and do not import on CPU-only
machines, so soundfile (libsndfile) reads and writes, and librosa (soxr) resamples.
"""
from pathlib import Path

import numpy as np
import soundfile as sf

from models.common.errors import InputError

MIN_SECONDS = 0.1


def resample(audio: np.ndarray, sr_from: int, sr_to: int) -> np.ndarray:
    """Resample along the last axis with soxr's high-quality filter (via librosa)."""
    if sr_from == sr_to:
        return audio.astype(np.float32, copy=False)
    import librosa  # imported lazily: it pulls numba, which is slow to import

    return librosa.resample(audio, orig_sr=sr_from, target_sr=sr_to, res_type="soxr_hq").astype(np.float32)


def _read(path: Path) -> tuple[np.ndarray, int]:
    """Decode to float32 (frames, channels); soundfile first, librosa/audioread for mp3 and friends."""
    try:
        data, sr = sf.read(str(path), dtype="float32", always_2d=True)
        return data, int(sr)
    except (sf.LibsndfileError, RuntimeError, TypeError):
        pass
    try:
        import librosa

        data, sr = librosa.load(str(path), sr=None, mono=False)
    except Exception as exc:  # librosa raises many unrelated types for undecodable files
        raise InputError(f"'{path.name}' could not be decoded as audio (wav, flac, ogg or mp3 expected).") from exc
    data = np.atleast_2d(data).T.astype(np.float32)
    return data, int(sr)


def load_audio(path: str | Path, target_sr: int | None = None, mono: bool = True,
               max_seconds: float | None = None) -> tuple[np.ndarray, int]:
    """Read, validate and optionally downmix/resample an audio file.

    Returns ``(audio, sr)``: ``audio`` is float32, shape (n,) when ``mono`` else (channels, n);
    ``sr`` is ``target_sr`` if given, else the file's own rate. Every defect a user can upload
    (not audio, empty, too short, NaN, too long, silent) raises :class:`InputError`.
    """
    path = Path(path)
    if not path.is_file() or path.stat().st_size == 0:
        raise InputError(f"'{path.name}' is empty or missing.")
    data, sr = _read(path)
    return check_audio(data.T, sr, target_sr=target_sr, mono=mono, max_seconds=max_seconds, name=path.name)


def check_audio(audio: np.ndarray, sr: int, target_sr: int | None = None, mono: bool = True,
                max_seconds: float | None = None, name: str = "The audio") -> tuple[np.ndarray, int]:
    """Validate an in-memory signal (channels first or mono) the same way :func:`load_audio` does."""
    audio = np.atleast_2d(np.asarray(audio, dtype=np.float32))
    seconds = audio.shape[-1] / float(sr) if sr else 0.0
    if audio.size == 0 or seconds == 0:
        raise InputError(f"{name} contains no samples.")
    if seconds < MIN_SECONDS:
        raise InputError(f"{name} is {seconds * 1000:.0f} ms long; at least {MIN_SECONDS * 1000:.0f} ms is needed.")
    if max_seconds is not None and seconds > max_seconds:
        raise InputError(f"{name} is {seconds:.0f} s long; this demo accepts at most {max_seconds:.0f} s. "
                         "Trim it and try again.")
    if not np.all(np.isfinite(audio)):
        raise InputError(f"{name} contains NaN or infinite samples.")
    if np.max(np.abs(audio)) < 1e-5:
        raise InputError(f"{name} is silent (peak below -100 dBFS).")
    out = audio.mean(axis=0) if mono else audio
    if target_sr is not None and target_sr != sr:
        out, sr = resample(out, sr, target_sr), target_sr
    return out.astype(np.float32, copy=False), int(sr)


def save_wav(path: str | Path, audio: np.ndarray, sr: int) -> Path:
    """Write 16-bit PCM WAV (channels first or mono), clipping to [-1, 1] so players never wrap."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = np.clip(np.asarray(audio, dtype=np.float32), -1.0, 1.0)
    sf.write(str(path), data.T if data.ndim == 2 else data, int(sr), subtype="PCM_16")
    return path
