"""Built-in target voices for conversion: synthetic speakers reading the Rainbow Passage and
training sentences, and the real recordings that ship inside the gradio wheel.

The Rainbow Passage (Fairbanks, 1940; public domain) is the standard speech-pathology reading
text because it contains nearly every English phoneme, which is what a kNN reference set needs:
a source frame can only be converted well if some reference frame says the same sound. More
reference helps too (kNN-VC's finding): measured here with the offline recogniser, flite rms
converted to slt at full blend fell from 75% to 58% word errors when slt's reference grew from
the passage alone (29 s) to the passage plus 40 training sentences (175 s), and MCD-DTW from
4.67 to 3.99 dB. So each synthetic voice reads both, up to the reference cap.
"""
from __future__ import annotations

import functools

import numpy as np

from models.common.audio import load_audio
from models.common.errors import InputError
from models.speech.synth import synthesize
from models.speech.voice.corpus import sentences
from models.speech.voice.features import MEL, peak_normalise
from models.speech.voice.knn_vc import (DEFAULT_SPACE, MAX_REFERENCE_SECONDS, MIN_REFERENCE_SECONDS, Bank,
                                        reference_bank)

RAINBOW_PASSAGE = (
    "When the sunlight strikes raindrops in the air, they act as a prism and form a rainbow. "
    "The rainbow is a division of white light into many beautiful colors. These take the shape "
    "of a long round arch, with its path high above, and its two ends apparently beyond the horizon. "
    "There is, according to legend, a boiling pot of gold at one end. People look, but no one ever "
    "finds it. When a man looks for something beyond his reach, his friends say he is looking for "
    "the pot of gold at the end of the rainbow."
)
SYNTHETIC_TARGETS = {
    "flite slt (US female, from recordings)": "flite:slt",
    "flite awb (Scottish male, from recordings)": "flite:awb",
    "flite rms (US male, from recordings)": "flite:rms",
    "flite kal (US male, diphones)": "flite:kal",
    "espeak en-gb f4 (formant synthesis)": "espeak:en-gb+f4",
}
RECORDED_TARGETS = {
    "Recorded: cate_blanch (real speech, 8 s)": "cate_blanch",
    "Recorded: heath_ledger (real speech, 3 s)": "heath_ledger",
}

REFERENCE_TRAIN_SENTENCES = 40  # never test sentences: the benchmark converts those

UPLOADED = "Uploaded / recorded reference"
NO_CONVERSION = "None (keep the engine's voice)"
DEFAULT_TARGET = "flite slt (US female, from recordings)"
REFERENCE_HINT = (f"Reference clip ({MIN_REFERENCE_SECONDS:.0f}-{MAX_REFERENCE_SECONDS:.0f} s of the target voice; "
                  f"used when '{UPLOADED}' is picked)")


def target_names() -> list[str]:
    """Names of the built-in target voices, synthetic first."""
    return [*SYNTHETIC_TARGETS, *RECORDED_TARGETS]


def target_choices() -> list[str]:
    """Every choice of the target-voice picker: none, the built-ins, or an uploaded clip."""
    return [NO_CONVERSION, *target_names(), UPLOADED]


@functools.cache
def builtin_reference(name: str) -> np.ndarray:
    """Reference audio (mono, MEL.sr) of a built-in target voice, made once per process."""
    if name in SYNTHETIC_TARGETS:
        text = " ".join([RAINBOW_PASSAGE, *sentences("train")[:REFERENCE_TRAIN_SENTENCES]])
        audio = peak_normalise(synthesize(text, SYNTHETIC_TARGETS[name], sr=MEL.sr))
        return audio[: int(MAX_REFERENCE_SECONDS * MEL.sr)]
    if name in RECORDED_TARGETS:
        from models.speech.data import real_speech_clips

        clips = real_speech_clips(MEL.sr)
        if RECORDED_TARGETS[name] in clips:
            return peak_normalise(clips[RECORDED_TARGETS[name]])
        raise InputError(f"The recording behind '{name}' is not installed here; pick another voice or upload one.")
    raise InputError(f"Unknown target voice '{name}'. Pick one from the list or upload a reference clip.")


@functools.cache
def _builtin_bank(name: str, space: str) -> Bank:
    return reference_bank(builtin_reference(name), name=f"The built-in voice '{name}'", space=space)


def target_bank(name: str, reference_path: str | None = None, space: str = DEFAULT_SPACE) -> Bank | None:
    """The kNN reference bank, in matching space ``space``, for a picker choice: a built-in voice
    (cached), or the uploaded clip when ``name`` is :data:`UPLOADED`. None for :data:`NO_CONVERSION`."""
    if name == NO_CONVERSION:
        return None
    if name == UPLOADED:
        if not reference_path:
            raise InputError("Upload or record a reference clip of the target voice first (a few seconds of speech).")
        audio, _ = load_audio(reference_path, target_sr=MEL.sr, max_seconds=MAX_REFERENCE_SECONDS)
        return reference_bank(peak_normalise(audio), space=space)
    return _builtin_bank(name, space)


def reference_audio(name: str, reference_path: str | None = None) -> np.ndarray:
    """The raw reference audio behind a picker choice (for scoring speaker similarity)."""
    if name == UPLOADED:
        if not reference_path:
            raise InputError("Upload or record a reference clip of the target voice first.")
        return load_audio(reference_path, target_sr=MEL.sr)[0]
    return builtin_reference(name)
