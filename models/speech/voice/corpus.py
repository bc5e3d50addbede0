"""A fixed, offline speech corpus: fortune-cookie sentences spoken by flite and espeak-ng.

Why these: nothing can be downloaded here, flite's kal/awb/rms/slt voices are built from
recordings of four real speakers (so their spectra look like real speech, the best vocoder
training data we have), and espeak-ng's formant voices are what the TTS page speaks, so the
vocoder must handle them too. Sentences come from Debian's ``fortunes`` files; a seeded shuffle
fixes the train/val/test split, so the benchmark always scores on sentences never trained on.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from models.speech.synth import synthesize
from models.speech.voice.features import MEL, log_mel, peak_normalise

FORTUNES_DIR = Path("/usr/share/games/fortunes")
FORTUNE_FILES = ("wisdom", "literature", "platitudes", "people", "science")
TRAIN_VOICES = ("flite:kal", "flite:awb", "flite:rms", "flite:slt",
                "espeak:en-us", "espeak:en-gb+f3", "espeak:en-us+m3")
EVAL_VOICES = ("flite:awb", "flite:slt", "flite:rms", "espeak:en-us")
PARALLEL_VOICES = ("flite:kal", "flite:awb", "flite:rms", "flite:slt", "espeak:en-us", "espeak:en-gb+f3",
                   "espeak:en-us+m3", "espeak:en-gb-scotland+f2", "espeak:en-029+m1", "espeak:en-us-nyc+Andy")
"""Voices of the parallel corpus the content encoder and the flow converter learn from: four
flite voices (three from recordings) and six espeak-ng accent/variant pairs. The benchmark's
espeak en-gb+f4 target and the real recordings are voices neither model hears."""
_CLEAN = re.compile(r"^[A-Za-z ,.;:'?!-]+$")


@dataclass(frozen=True)
class Utterance:
    text: str
    voice: str
    audio: np.ndarray  # float32 at MEL.sr, peak-normalised


def sentences(split: str, seed: int = 0) -> list[str]:
    """Plain-English fortune sentences of 6-20 words; ``split`` is train, val or test."""
    found: set[str] = set()
    for name in FORTUNE_FILES:
        path = FORTUNES_DIR / name
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing: install Debian's fortunes packages (apt-get install fortunes)")
        for cookie in path.read_text(encoding="latin-1").split("\n%\n"):
            text = " ".join(cookie.split()).split(" -- ")[0].strip()  # drop "-- Author" attributions
            if _CLEAN.match(text) and text[0].isalpha() and 6 <= len(text.split()) <= 20:
                found.add(text)
    ordered = sorted(found)
    random.Random(seed).shuffle(ordered)
    n_eval = 40
    bounds = {"test": (0, n_eval), "val": (n_eval, 2 * n_eval), "train": (2 * n_eval, len(ordered))}
    if split not in bounds:
        raise ValueError(f"split must be train, val or test, not {split!r}")
    lo, hi = bounds[split]
    return ordered[lo:hi]


def speak_corpus(split: str, voices: tuple[str, ...], per_voice: int, seed: int = 0) -> list[Utterance]:
    """``per_voice`` different sentences of ``split`` for each voice (each voice gets its own slice)."""
    texts = sentences(split, seed)
    out = []
    for v, voice in enumerate(voices):
        for i in range(per_voice):
            text = texts[(v * per_voice + i) % len(texts)]
            out.append(Utterance(text, voice, peak_normalise(synthesize(text, voice, sr=MEL.sr))))
    return out


def parallel_logmels(split: str, n_sentences: int, voices: tuple[str, ...],
                     rng: np.random.Generator) -> list[list[torch.Tensor]]:
    """Parallel speech for training: for each of the first ``n_sentences`` of ``split``, one
    log-mel per voice, at a random rate of 140-210 wpm (and espeak pitch 30-70), so the same
    words come in many voices and tempos."""
    out = []
    for text in sentences(split)[:n_sentences]:
        mels = []
        for voice in voices:
            pitch = int(rng.integers(30, 71)) if voice.startswith("espeak") else None
            audio = synthesize(text, voice, sr=MEL.sr, rate=int(rng.integers(140, 211)), pitch=pitch)
            mels.append(log_mel(peak_normalise(audio)))
        out.append(mels)
    return out
