"""Offline speech synthesis through the espeak-ng and flite command-line programs.

Why: the speech demos need clean speech without downloading anything. espeak-ng (formant
synthesis, many accents x voice variants) and flite (CMU diphone/clustergen voices) are apt
packages that ship their voices, so this module is the one place that shells out to them.
Voice names are ``"espeak:<language>[+<variant>]"`` (e.g. ``espeak:en-us+f3``) or
``"flite:<name>"`` (kal, awb, rms, slt).
"""
from __future__ import annotations

import functools
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

from models.common.audio import resample
from models.common.errors import InputError

ESPEAK_LANGS: tuple[str, ...] = (
    "en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-029", "en-us-nyc",
    "en-gb-x-gbclan", "en-gb-x-gbcwmd",
)
"""English espeak-ng accents that work here (the mbrola ``mb-*`` voices need the missing mbrola binary)."""
ESPEAK_VARIANTS: tuple[str, ...] = (
    "", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5",
    "Annie", "Alicia", "Andrea", "Belinda", "Linda", "Steph", "anika", "female2", "female3",
    "Adam", "Andy", "Benjamin", "Caleb", "David", "Ed", "Edward", "Gene", "Max", "Michael",
    "Paul", "Rob", "Robert", "Steph2", "Storm", "grandpa", "Zac", "Jacky", "Mike", "John",
)
"""espeak-ng voice variants (timbre/pitch presets); "" is the accent's default voice."""
FLITE_VOICES: tuple[str, ...] = ("kal", "awb", "rms", "slt")
"""flite's built-in voices (``awb_time`` is left out: it only speaks clock times)."""

_TIMEOUT_S = 60


@functools.cache
def list_voices() -> tuple[str, ...]:
    """Every voice name :func:`synthesize` accepts on this machine, espeak-ng first.

    Only engines whose binary is installed are listed; the result is cached per process.
    """
    voices: list[str] = []
    if shutil.which("espeak-ng"):
        voices += [f"espeak:{lang}+{var}" if var else f"espeak:{lang}"
                   for lang in ESPEAK_LANGS for var in ESPEAK_VARIANTS]
    if shutil.which("flite"):
        voices += [f"flite:{name}" for name in FLITE_VOICES]
    return tuple(voices)


def synthesize(text: str, voice: str = "espeak:en-us", sr: int = 16000,
               rate: int | None = None, pitch: int | None = None) -> np.ndarray:
    """Speak ``text`` with ``voice`` and return mono float32 audio at ``sr`` Hz.

    ``rate`` is words per minute (espeak-ng ``-s``, default 175; for flite it is mapped onto
    its duration stretch) and ``pitch`` is espeak-ng's 0-99 pitch (flite ignores it). Output
    peaks are left as the engine made them (roughly -1..1); callers normalise as they need.
    Raises InputError for empty text or an unknown voice.
    """
    text = " ".join(str(text).split())
    if not text:
        raise InputError("There is no text to speak. Type a sentence first.")
    engine, _, name = voice.partition(":")
    with tempfile.TemporaryDirectory(prefix="paperlab_tts_") as tmp:
        wav = Path(tmp) / "out.wav"
        if engine == "espeak" and name:
            cmd = ["espeak-ng", "-v", name, "-w", str(wav)]
            if rate is not None:
                cmd += ["-s", str(int(np.clip(rate, 80, 450)))]
            if pitch is not None:
                cmd += ["-p", str(int(np.clip(pitch, 0, 99)))]
            cmd.append("--stdin")  # text on stdin: a sentence starting with "-" is not an option
        elif engine == "flite" and name in FLITE_VOICES:
            cmd = ["flite", "-voice", name, "-o", str(wav)]
            if rate is not None:  # flite's duration_stretch: >1 is slower; 175 wpm is its pace
                cmd += ["--setf", f"duration_stretch={175.0 / float(np.clip(rate, 80, 450)):.3f}"]
            (Path(tmp) / "text.txt").write_text(text)
            cmd += ["-f", str(Path(tmp) / "text.txt")]
        else:
            raise InputError(f"Unknown voice '{voice}'. Pick one of list_voices(), e.g. 'espeak:en-us' or 'flite:slt'.")
        done = subprocess.run(cmd, input=text.encode(), capture_output=True, timeout=_TIMEOUT_S)
        if done.returncode != 0 or not wav.is_file() or wav.stat().st_size <= 44:
            raise InputError(f"Voice '{voice}' could not speak this text: {done.stderr.decode(errors='replace')[:200]}")
        audio, native_sr = sf.read(str(wav), dtype="float32", always_2d=True)
    return resample(audio.mean(axis=1), int(native_sr), sr)
