"""Deterministic speech corpora built offline: clean utterances, noises, noisy and 2-speaker mixes.

Why synthetic: the machine cannot download speech corpora, so clean speech comes from the
espeak-ng/flite voices (models.speech.synth) reading sentences from Debian's ``fortunes`` files.
Train/validation/test use disjoint voices *and* disjoint sentences, so the held-out test set
measures generalisation to unseen speakers and text. Every function is a pure function of its
``seed`` (numpy ``default_rng``), so a benchmark run is reproducible.

Public API (kept stable; the voice demo uses it for held-out speech):
``sentences(split)``, ``voices(split)``, ``clean_utterance(seed, split, sr)``,
``make_noise(kind, n, seed, sr, split)``, ``mix_at_snr(clean, noise, snr_db)``,
``noisy_example(seed, split, ...)``, ``two_speaker_example(seed, split, ...)``,
``speech_pool(split, count, sr, cache_dir)``, ``real_speech_clips(sr)``.
"""
from __future__ import annotations

import functools
import glob
import hashlib
import importlib.util
import re
from pathlib import Path

import numpy as np

from models.common.audio import load_audio
from models.speech.synth import ESPEAK_LANGS, ESPEAK_VARIANTS, FLITE_VOICES, synthesize

SPLITS = ("train", "val", "test")
NOISE_KINDS = ("white", "pink", "brown", "babble", "hum")
SR = 16000
FORTUNES_DIR = Path("/usr/share/games/fortunes")
GRADIO_SPEECH = ("media_assets/audio/cate_blanch.mp3", "media_assets/audio/cate_blanch_2.mp3",
                 "media_assets/audio/heath_ledger.mp3")
"""Real recorded speech that ships inside the gradio wheel (used only for evaluation). These are
film/interview excerpts with their own background (DNSMOS BAK about 2.5), so reference metrics
against them also count removing that background as error. The wheel's ``recording1.wav`` is
left out: it is a sustained low tone, not speech (PocketSphinx hears nothing sensible, DNSMOS
SIG 1.6), and scoring speech engines on it dragged every real-speech average down."""

# Voices are split by variant (timbre) and flite voice, so a test speaker's timbre is never
# seen in training, whatever its accent.
_TEST_VARIANTS = {"f4", "m4", "Belinda", "Michael", "grandpa", "Steph"}
_VAL_VARIANTS = {"f5", "m6", "Linda", "Paul"}
_FLITE_SPLIT = {"kal": "train", "awb": "train", "rms": "val", "slt": "test"}


def _split_of(key: str) -> str:
    """Stable 80/10/10 assignment of a string to a split by hash (independent of list order)."""
    h = int(hashlib.sha1(key.encode()).hexdigest()[:8], 16) % 10
    return "test" if h == 0 else "val" if h == 1 else "train"


def _check_split(split: str) -> None:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")


@functools.cache
def sentences(split: str) -> tuple[str, ...]:
    """Plain English sentences (6-18 words) from the fortunes files, disjoint across splits."""
    _check_split(split)
    keep = re.compile(r"[A-Za-z ,.'!?;:-]+")
    out: set[str] = set()
    for path in sorted(glob.glob(str(FORTUNES_DIR / "*"))):
        if "." in Path(path).name:
            continue  # .dat index and .u8 duplicate files
        for chunk in Path(path).read_text(encoding="latin-1").split("\n%\n"):
            text = " ".join(chunk.split())
            if keep.fullmatch(text) and 6 <= len(text.split()) <= 18:
                out.add(text)
    if not out:  # fortunes not installed: a tiny built-in corpus keeps the demo working
        out = {f"This is sentence number {i} spoken for the speech demo." for i in range(50)}
    return tuple(sorted(s for s in out if _split_of(s) == split))


@functools.cache
def voices(split: str) -> tuple[str, ...]:
    """Synthesiser voice names of one split (see models.speech.synth for the name format)."""
    _check_split(split)
    out = []
    for var in ESPEAK_VARIANTS:
        var_split = "test" if var in _TEST_VARIANTS else "val" if var in _VAL_VARIANTS else "train"
        if var_split == split:
            out += [f"espeak:{lang}+{var}" if var else f"espeak:{lang}" for lang in ESPEAK_LANGS]
    out += [f"flite:{name}" for name in FLITE_VOICES if _FLITE_SPLIT[name] == split]
    return tuple(out)


def _normalise(x: np.ndarray, peak: float = 0.5) -> np.ndarray:
    return (x * (peak / max(float(np.max(np.abs(x))), 1e-6))).astype(np.float32)


def clean_utterance(seed: int, split: str = "train", sr: int = SR) -> tuple[np.ndarray, str, str]:
    """One clean utterance ``(audio, text, voice)`` with random voice, text, rate and pitch.

    Leading/trailing silence is trimmed to 0.1 s; the peak is normalised to 0.5.
    """
    rng = np.random.default_rng([seed, SPLITS.index(split), 17])
    voice = str(rng.choice(voices(split)))
    text = str(rng.choice(sentences(split)))
    rate, pitch = int(rng.integers(140, 200)), int(rng.integers(25, 75))
    audio = synthesize(text, voice, sr=sr, rate=rate, pitch=pitch)
    loud = np.flatnonzero(np.abs(audio) > 0.01 * np.max(np.abs(audio)))
    pad = int(0.1 * sr)
    audio = audio[max(loud[0] - pad, 0): loud[-1] + pad] if loud.size else audio
    return _normalise(audio), text, voice


def _coloured(n: int, rng: np.random.Generator, exponent: float) -> np.ndarray:
    """Gaussian noise with power spectrum ~ 1/f^exponent (0 white, 1 pink, 2 brown), by FFT shaping."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.arange(spec.size, dtype=np.float64)
    f[0] = 1.0
    return np.fft.irfft(spec / f ** (exponent / 2), n)


def make_noise(kind: str, n: int, seed: int, sr: int = SR, split: str = "train") -> np.ndarray:
    """``n`` samples of noise of ``kind`` (see NOISE_KINDS), unit RMS, float32.

    ``babble`` sums 4 utterances of the split's voices (so test babble uses unseen voices);
    ``hum`` is mains hum with harmonics plus a little pink noise (an easy, stationary case).
    """
    rng = np.random.default_rng([seed, 99])
    if kind == "white":
        x = rng.standard_normal(n)
    elif kind == "pink":
        x = _coloured(n, rng, 1.0)
    elif kind == "brown":
        x = _coloured(n, rng, 2.0)
    elif kind == "hum":
        t = np.arange(n) / sr
        f0 = float(rng.choice([50.0, 60.0]))
        x = sum(np.sin(2 * np.pi * f0 * k * t + rng.uniform(0, 6.3)) / k for k in range(1, 8))
        x = x + 0.1 * _coloured(n, rng, 1.0) / (np.std(_coloured(n, rng, 1.0)) + 1e-9)
    elif kind == "babble":
        x = np.zeros(n)
        for _ in range(4):
            talker = np.zeros(0, dtype=np.float32)
            j = 0
            while talker.size < n:  # concatenate utterances until the noise is long enough
                u, _, _ = clean_utterance(int(rng.integers(1 << 30)) + j, split, sr)
                talker = np.concatenate([talker, u])
                j += 1
            x += talker[:n] / (np.std(talker[:n]) + 1e-9)
    else:
        raise ValueError(f"noise kind must be one of {NOISE_KINDS}, got {kind!r}")
    x = np.asarray(x, dtype=np.float64)
    return (x / (np.std(x) + 1e-12)).astype(np.float32)


def reverberate(x: np.ndarray, rt60: float, seed: int, sr: int = SR) -> np.ndarray:
    """Simple room: convolve with exponentially decaying noise (RT60 in seconds), same length.

    A statistical reverb tail, not an image-source room; enough to teach robustness to echo.
    """
    rng = np.random.default_rng([seed, 7])
    n = int(rt60 * sr)
    t = np.arange(n) / sr
    rir = rng.standard_normal(n) * np.exp(-6.9 * t / rt60)
    rir[0] = 1.0
    rir /= np.sqrt(np.sum(rir ** 2))
    from scipy.signal import fftconvolve

    return fftconvolve(x, rir)[: x.size].astype(np.float32)


def mix_at_snr(clean: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """``clean + g * noise`` with ``g`` chosen so that 10 log10(P_clean / P_gnoise) = snr_db."""
    noise = np.resize(noise, clean.shape)
    p_clean = float(np.mean(clean.astype(np.float64) ** 2))
    p_noise = float(np.mean(noise.astype(np.float64) ** 2)) + 1e-12
    gain = np.sqrt(p_clean / (p_noise * 10 ** (snr_db / 10)))
    return (clean + gain * noise).astype(np.float32)


def _fit(x: np.ndarray, n: int) -> np.ndarray:
    return np.pad(x, (0, n - x.size)) if x.size < n else x[:n]


def noisy_example(seed: int, split: str = "test", sr: int = SR, seconds: float | None = None,
                  snr_db: float | None = None, noise_kind: str | None = None,
                  reverb: bool = False) -> dict:
    """A noisy utterance with its clean reference.

    Returns a dict with ``clean``, ``noisy`` (float32, same length), ``snr_db``, ``noise_kind``,
    ``voice``, ``text``. Unset options are drawn from the seed: SNR uniform in -5..20 dB, noise
    kind uniform over NOISE_KINDS. ``seconds`` pads/crops to a fixed length. The mix is scaled
    so its peak is at most 0.9 (no clipping).
    """
    rng = np.random.default_rng([seed, 3])
    clean, text, voice = clean_utterance(seed, split, sr)
    if seconds is not None:
        clean = _fit(clean, int(seconds * sr))
    snr = float(rng.uniform(-5, 20)) if snr_db is None else float(snr_db)
    kind = str(rng.choice(NOISE_KINDS)) if noise_kind is None else noise_kind
    if reverb:
        clean = reverberate(clean, float(rng.uniform(0.2, 0.6)), seed, sr)
    noise = make_noise(kind, clean.size, seed, sr, split)
    noisy = mix_at_snr(clean, noise, snr)
    scale = min(1.0, 0.9 / max(float(np.max(np.abs(noisy))), 1e-6))
    return {"clean": clean * scale, "noisy": noisy * scale, "snr_db": snr, "noise_kind": kind,
            "voice": voice, "text": text}


def two_speaker_example(seed: int, split: str = "test", sr: int = SR, seconds: float = 4.0,
                        level_db: float | None = None) -> dict:
    """Two different voices talking at once, each source cropped/padded to ``seconds``.

    Returns ``mixture`` (n,), ``sources`` (2, n) — the scaled sources sum exactly to the
    mixture — ``level_db`` (speaker 2 relative to speaker 1, uniform -5..5 dB if unset) and
    ``voices``. Speaker 2 starts at a random offset so the overlap is partial, as in real talk.
    """
    rng = np.random.default_rng([seed, 5])
    n = int(seconds * sr)
    first, _, v1 = clean_utterance(seed, split, sr)
    k = 1
    while True:  # a second utterance by a different voice
        second, _, v2 = clean_utterance(seed + 7919 * k, split, sr)
        if v2 != v1:
            break
        k += 1
    s1 = _fit(np.tile(first, int(np.ceil(n / first.size))), n)
    offset = int(rng.integers(0, max(n // 4, 1)))
    s2 = _fit(np.concatenate([np.zeros(offset, np.float32), np.tile(second, int(np.ceil(n / second.size)))]), n)
    level = float(rng.uniform(-5, 5)) if level_db is None else float(level_db)
    s2 = s2 * np.sqrt(np.mean(s1 ** 2) / (np.mean(s2 ** 2) + 1e-12)) * 10 ** (level / 20)
    sources = np.stack([s1, s2]).astype(np.float32)
    scale = 0.9 / max(float(np.max(np.abs(sources.sum(0)))), 1e-6)
    sources = sources * min(scale, 1.0)
    return {"mixture": sources.sum(0), "sources": sources, "level_db": level, "voices": (v1, v2)}


def speech_pool(split: str, count: int, sr: int = SR, cache_dir: str | Path | None = None,
                progress=None) -> list[np.ndarray]:
    """``count`` clean utterances (seeds 0..count-1) for training with on-the-fly mixing.

    Synthesis costs ~0.1 s per utterance, so training scripts cache the pool as one .npz in
    ``cache_dir`` (never committed) and mix noise/speakers freshly at every step.
    """
    path = Path(cache_dir) / f"pool_{split}_{count}_{sr}.npz" if cache_dir else None
    if path is not None and path.is_file():
        with np.load(path) as z:
            return [z[f"u{i}"] for i in range(count)]
    pool = []
    for i in range(count):
        pool.append(clean_utterance(i, split, sr)[0])
        if progress is not None and i % 50 == 0:
            progress(i / count, f"synthesising {split} utterance {i}/{count}")
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, **{f"u{i}": u for i, u in enumerate(pool)})
    return pool


def real_speech_clips(sr: int = SR) -> dict[str, np.ndarray]:
    """The recorded speech clips shipped in the gradio wheel, mono at ``sr``, peak 0.5."""
    # Only the wheel's location is needed (the clips are plain audio files), so find it without
    # importing the UI framework into the library.
    root = Path(importlib.util.find_spec("gradio").origin).parent
    out = {}
    for rel in GRADIO_SPEECH:
        if (root / rel).is_file():
            audio, _ = load_audio(root / rel, target_sr=sr)
            out[Path(rel).stem] = _normalise(audio)
    return out
