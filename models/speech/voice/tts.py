"""Text to speech in any voice: espeak-ng/flite speak the text, kNN conversion changes the voice.

This is SSL-TTS's recipe with the parts we can have offline: a single-speaker-ish front end
produces source speech, and kNN retrieval from a short reference recording supplies the target
voice, with a blend between the two. The engines themselves are driven by models.speech.synth.
"""
from __future__ import annotations

import subprocess
import time
import unicodedata
from dataclasses import dataclass, field

import numpy as np

from models.common.errors import InputError
from models.speech.synth import list_voices, synthesize
from models.speech.voice.features import MEL, peak_normalise
from models.speech.voice.knn_vc import DEFAULT_K, Bank, convert
from models.speech.voice.vocoders import DEFAULT_VOCODER

MAX_CHARS = 400
"""About 70 words / 25 s of speech: keeps one request well under a few seconds on 2 cores."""
SOURCE_VOICES = {  # a readable short list; every espeak-ng/flite voice id is accepted too
    "espeak en-us (US male)": "espeak:en-us",
    "espeak en-gb (British male)": "espeak:en-gb",
    "espeak en-us f3 (female)": "espeak:en-us+f3",
    "espeak en-gb-scotland m3": "espeak:en-gb-scotland+m3",
    "espeak en-029 (Caribbean)": "espeak:en-029",
    "flite slt (US female)": "flite:slt",
    "flite awb (Scottish male)": "flite:awb",
    "flite rms (US male)": "flite:rms",
    "flite kal (US male)": "flite:kal",
}
DEFAULT_TEXT = ("When the evening light fades over the quiet harbour, the fishermen mend their nets "
                "and tell stories of distant seas.")
"""Twenty words: the sentence the benchmark times and the page speaks by default."""
DEFAULT_VOICE = "espeak en-us (US male)"
DEFAULT_RATE = 175  # words per minute, espeak-ng's default
DEFAULT_PITCH = 50  # espeak-ng's 0-99 scale


def _speakable(char: str) -> bool:
    """ASCII, accented Latin letters (café, naïve) and typographic punctuation; the English
    voices would spell out anything else (CJK, emoji) as 'symbol' or skip it silently."""
    if char.isascii():
        return char.isprintable()
    return unicodedata.name(char, "").startswith("LATIN") or char in "’‘“”–—…¡¿«»"


def check_text(text: str) -> str:
    """Normalise whitespace and reject what the English voices cannot read, with a helpful message."""
    text = " ".join(unicodedata.normalize("NFC", str(text or "")).split())
    if not text:
        raise InputError("There is no text to speak. Type a sentence first.")
    if len(text) > MAX_CHARS:
        raise InputError(f"The text has {len(text)} characters; the limit is {MAX_CHARS}. Shorten it and try again.")
    bad = sorted({c for c in text if not _speakable(c)})
    if bad:
        shown = " ".join(repr(c) for c in bad[:8])
        raise InputError(f"These characters cannot be spoken: {shown}. Use Latin letters, digits and punctuation only.")
    if not any(c.isalnum() for c in text):
        raise InputError("The text has no letters or digits to speak.")
    return text.lstrip("-–— ")  # a leading dash would reach espeak-ng's command line as an option


def voice_choices() -> list[str]:
    """The short readable list first, then every voice the installed engines offer."""
    return [*SOURCE_VOICES, *list_voices()]


def source_voice(name: str) -> str:
    """Engine voice id (``espeak:...``/``flite:...``) for a picker label or a raw voice id."""
    if name in SOURCE_VOICES:
        return SOURCE_VOICES[name]
    if name in list_voices():
        return name
    raise InputError(f"Unknown voice '{name}'. Pick one of: {', '.join(SOURCE_VOICES)}.")


def phonemes(text: str, ipa: bool = True) -> str:
    """espeak-ng's phoneme transcription (IPA or its ASCII Kirshenbaum-like -x form).

    Always with the en-us voice: flite shares the same English phoneme inventory, and this keeps
    the transcription independent of the synthesis engine.
    """
    text = check_text(text)
    cmd = ["espeak-ng", "-q", "-v", "en-us", "--ipa" if ipa else "-x", "--", text]
    done = subprocess.run(cmd, capture_output=True, timeout=30)
    if done.returncode != 0:
        raise InputError("espeak-ng could not transcribe this text.")
    return " ".join(done.stdout.decode("utf-8", errors="replace").split())


@dataclass
class Speech:
    engine: np.ndarray  # the engine's own voice, float32 at MEL.sr
    converted: np.ndarray | None  # after conversion toward the target (None without a target)
    phonemes: str
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage

    @property
    def audio(self) -> np.ndarray:
        """The final speech: converted if there was a target, else the engine's."""
        return self.engine if self.converted is None else self.converted


def speak(text: str, voice: str, rate: int = DEFAULT_RATE, pitch: int = DEFAULT_PITCH,
          target: Bank | None = None, blend: float = 1.0, k: int = DEFAULT_K,
          vocoder: str = DEFAULT_VOCODER) -> Speech:
    """Text -> speech with a picker ``voice``; with a ``target`` bank, converted toward it.

    ``rate`` (80-450 wpm) and ``pitch`` (0-99) go to the engine, so speed and pitch changes are
    synthesised rather than post-processed.
    """
    text = check_text(text)
    if not 80 <= rate <= 450:
        raise InputError("Speed must be between 80 and 450 words per minute.")
    if not 0 <= pitch <= 99:
        raise InputError("Pitch must be between 0 and 99.")
    timings = {}
    t = time.perf_counter()
    engine = peak_normalise(synthesize(text, source_voice(voice), sr=MEL.sr, rate=rate, pitch=pitch))
    timings["synthesis"] = time.perf_counter() - t
    converted = None
    if target is not None:
        t = time.perf_counter()
        converted = peak_normalise(convert(engine, target, blend=blend, k=k, vocoder=vocoder).audio)
        timings["conversion"] = time.perf_counter() - t
    t = time.perf_counter()
    ipa = phonemes(text)
    timings["phonemes"] = time.perf_counter() - t
    return Speech(engine, converted, ipa, timings)
