"""An offline speech recogniser as an intelligibility meter: transcripts and word error rate.

STOI and DNSMOS cannot tell whether converted or synthesised speech still says the right words
(STOI also punishes the intended voice change). A recogniser can: the word error rate (WER) of
its transcript against the known text is the standard intelligibility measure of voice-
conversion papers (they use Whisper; nothing can be downloaded here). CMU PocketSphinx ships its
US-English acoustic model, language model and dictionary inside the ``pocketsphinx`` wheel, so
it runs offline. It is a 2010s HMM recogniser, weaker than Whisper, and it is thrown by
unnatural voices (espeak-ng's formant voices score about 90% WER even unconverted, flite's
recorded voices 5-15%), so compare WERs of the same source, never across sources.
WER itself comes from ``jiwer``.
"""
from __future__ import annotations

import functools
import threading

import numpy as np

ASR_SR = 16000  # the bundled acoustic model's sample rate
_LOCK = threading.Lock()  # one decoder per process; Gradio runs handlers in threads


@functools.cache
def _decoder():
    from pocketsphinx import Decoder

    return Decoder(samprate=ASR_SR, logfn="/dev/null")


def transcribe(audio: np.ndarray, sr: int) -> str:
    """Lower-case words PocketSphinx hears in ``audio`` (mono float in [-1, 1]); '' if none."""
    if sr != ASR_SR:
        import librosa

        audio = librosa.resample(np.asarray(audio, dtype=np.float32), orig_sr=sr, target_sr=ASR_SR)
    pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype(np.int16).tobytes()
    with _LOCK:
        decoder = _decoder()
        decoder.start_utt()
        decoder.process_raw(pcm, full_utt=True)
        decoder.end_utt()
        hyp = decoder.hyp()
    return hyp.hypstr if hyp is not None else ""


def word_error_rate(text: str, transcript: str) -> float:
    """(substitutions + deletions + insertions) / words of ``text``, case and punctuation ignored."""
    import jiwer

    words = jiwer.Compose([jiwer.ToLowerCase(), jiwer.RemovePunctuation(), jiwer.RemoveMultipleSpaces(),
                           jiwer.Strip(), jiwer.ReduceToListOfListOfWords()])
    return float(jiwer.wer(text, transcript, reference_transform=words, hypothesis_transform=words))


def intelligibility_table(text: str, clips: dict[str, np.ndarray], sr: int) -> list[dict]:
    """Per named clip: what the recogniser heard and its WER against ``text`` (for the pages)."""
    rows = []
    for name, audio in clips.items():
        heard = transcribe(audio, sr)
        rows.append({"clip": name, "recogniser heard": heard or "(nothing)",
                     "WER": round(word_error_rate(text, heard), 3)})
    return rows
