"""The vocoder lab: analyse a clip to a mel, vocode it with every contender, and score each
against the original (copy synthesis, the standard vocoder test)."""
from __future__ import annotations

import functools
import re

import numpy as np
import pandas as pd

from models.common.errors import InputError
from models.common.progress import Progress, report
from models.speech.voice import metrics
from models.speech.voice.corpus import sentences
from models.speech.voice.features import MEL, log_mel, peak_normalise
from models.speech.voice.vocoders import VOCODERS, Vocoded, vocode

MAX_SECONDS = 20.0
EXAMPLES = {
    "Held-out sentence, flite slt (US female)": ("flite:slt", 0),
    "Held-out sentence, flite awb (Scottish male)": ("flite:awb", 1),
    "Held-out sentence, espeak en-us": ("espeak:en-us", 2),
    "Recorded: cate_blanch (real speech)": ("recorded", "cate_blanch"),
    "Recorded: heath_ledger (real speech)": ("recorded", "heath_ledger"),
}


@functools.cache
def example_audio(name: str) -> np.ndarray:
    """A built-in clip: a test-split sentence no vocoder was trained on, or a real recording."""
    if name not in EXAMPLES:
        raise InputError(f"Unknown example '{name}'. Pick one from the list or upload a clip.")
    kind, key = EXAMPLES[name]
    if kind == "recorded":
        from models.speech.data import real_speech_clips

        clips = real_speech_clips(MEL.sr)
        if key not in clips:
            raise InputError(f"The recording '{key}' is not installed here; pick another example.")
        return peak_normalise(clips[key])
    from models.speech.synth import synthesize

    return peak_normalise(synthesize(sentences("test")[key], kind, sr=MEL.sr))


def file_stem(vocoder: str) -> str:
    """A download-friendly name for a vocoder: 'FreeV + Griffin-Lim' -> 'freev_griffin-lim'."""
    return re.sub(r"[^a-z0-9-]+", "_", vocoder.lower()).strip("_")


def score(reference: np.ndarray, result: Vocoded) -> dict:
    """One metrics row: mel distance, PESQ and STOI against the original, and real-time factor."""
    return {
        "vocoder": result.name,
        "mel distance": round(metrics.mel_distance(reference, result.audio), 3),
        "PESQ": round(metrics.pesq_wb(reference, result.audio), 2),
        "STOI": round(metrics.stoi(reference, result.audio), 3),
        "RTF": round(result.rtf, 4),
        "seconds": round(result.seconds, 3),
    }


def compare(audio: np.ndarray, names: list[str] | None = None,
            progress: Progress | None = None) -> tuple[list[Vocoded], pd.DataFrame]:
    """Vocode ``audio`` (mono, MEL.sr) with each named vocoder; results and a metrics table."""
    names = list(VOCODERS) if names is None else list(names)
    if not names:
        raise InputError("Pick at least one vocoder.")
    if len(audio) / MEL.sr > MAX_SECONDS:
        raise InputError(f"The clip is {len(audio) / MEL.sr:.0f} s long; the lab accepts at most {MAX_SECONDS:.0f} s.")
    mel = log_mel(audio)
    results, rows = [], []
    for i, name in enumerate(names):
        report(progress, i / len(names), f"Vocoding with {name}")
        result = vocode(mel, name)
        results.append(result)
        rows.append(score(audio, result))
    report(progress, 1.0, "Done")
    return results, pd.DataFrame(rows)


UPLOADED_CLIP = "Uploaded / recorded clip"


def clip_audio(choice: str, upload_path: str | None = None) -> np.ndarray:
    """The clip behind a picker choice: a built-in example, or the user's upload (checked, resampled)."""
    if choice != UPLOADED_CLIP:
        return example_audio(choice)
    if not upload_path:
        raise InputError("Upload or record a clip first, or pick a built-in example.")
    from models.common.audio import load_audio

    audio, _ = load_audio(upload_path, target_sr=MEL.sr, max_seconds=MAX_SECONDS)
    return peak_normalise(audio)
