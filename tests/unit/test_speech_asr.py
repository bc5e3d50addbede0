"""The offline recogniser used as an intelligibility meter (models.speech.asr)."""
from __future__ import annotations

import numpy as np
import pytest

from models.speech.asr import intelligibility_table, transcribe, word_error_rate
from models.speech.synth import synthesize


def test_word_error_rate_counts_edits_and_ignores_case_and_punctuation():
    assert word_error_rate("Hello, world!", "hello world") == 0.0
    assert word_error_rate("the cat sat on the mat", "the cat sat on mat") == pytest.approx(1 / 6)
    assert word_error_rate("a b", "a x b") == pytest.approx(0.5)  # one insertion
    assert word_error_rate("a b", "") == 1.0


def test_recogniser_understands_a_recorded_voice_at_any_sample_rate():
    text = "The quick brown fox jumps over the lazy dog."
    for sr in (16000, 22050):  # 22.05 kHz is resampled to the model's 16 kHz inside
        assert word_error_rate(text, transcribe(synthesize(text, "flite:rms", sr=sr), sr)) <= 0.25


def test_destroying_the_speech_raises_the_error_rate():
    text = "Please call Stella and ask her to bring these things with her from the store."
    clean = synthesize(text, "flite:awb", sr=16000)
    noisy = clean + np.random.default_rng(0).normal(0, 3 * clean.std(), len(clean)).astype(np.float32)
    rows = intelligibility_table(text, {"clean": clean, "buried in noise": noisy}, 16000)
    assert [r["clip"] for r in rows] == ["clean", "buried in noise"]
    assert rows[0]["WER"] < 0.3 < rows[1]["WER"]
