"""Synthesiser and corpus generator: real espeak-ng/flite audio, determinism, disjoint splits."""
import numpy as np
import pytest

from models.common.errors import InputError
from models.speech import data
from models.speech.synth import list_voices, synthesize


def test_list_voices_has_both_engines():
    voices = list_voices()
    assert "espeak:en-us" in voices and "flite:slt" in voices
    assert all(v.split(":")[0] in ("espeak", "flite") for v in voices)


@pytest.mark.parametrize("voice", ["espeak:en-gb+f3", "flite:kal", "flite:slt"])
def test_synthesize_returns_speech_at_requested_rate(voice):
    audio = synthesize("Hello, this is a short test sentence.", voice, sr=16000)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert 0.8 * 16000 < audio.size < 6 * 16000
    assert np.abs(audio).max() > 0.05


def test_rate_changes_duration_and_leading_dash_is_text():
    slow = synthesize("- one two three four five", "espeak:en-us", rate=100)
    fast = synthesize("- one two three four five", "espeak:en-us", rate=300)
    assert slow.size > 1.8 * fast.size


@pytest.mark.parametrize("text,voice", [("   ", "espeak:en-us"), ("hi", "espeak:xx-nope"), ("hi", "festival:x")])
def test_bad_requests_raise_input_error(text, voice):
    with pytest.raises(InputError):
        synthesize(text, voice)


def test_splits_are_disjoint_in_voices_and_sentences():
    for a, b in [("train", "val"), ("train", "test"), ("val", "test")]:
        assert not set(data.voices(a)) & set(data.voices(b))
        assert not set(data.sentences(a)) & set(data.sentences(b))
    assert len(data.sentences("test")) > 100 and len(data.voices("test")) > 10


def test_noisy_example_is_deterministic_and_hits_the_snr():
    a = data.noisy_example(5, "test", snr_db=3.0, noise_kind="white")
    b = data.noisy_example(5, "test", snr_db=3.0, noise_kind="white")
    np.testing.assert_array_equal(a["noisy"], b["noisy"])
    noise = a["noisy"] - a["clean"]
    snr = 10 * np.log10(np.mean(a["clean"] ** 2) / np.mean(noise ** 2))
    assert snr == pytest.approx(3.0, abs=0.01)
    assert np.abs(a["noisy"]).max() <= 0.9 + 1e-6


@pytest.mark.parametrize("kind", data.NOISE_KINDS)
def test_noises_have_unit_rms(kind):
    x = data.make_noise(kind, 16000, seed=1, split="test")
    assert x.shape == (16000,) and np.std(x) == pytest.approx(1.0, rel=1e-3)


def test_pink_noise_falls_3db_per_octave():
    x = data.make_noise("pink", 1 << 18, seed=0)
    p = np.abs(np.fft.rfft(x)) ** 2
    f = np.fft.rfftfreq(x.size, 1 / 16000)
    band = lambda lo: p[(f >= lo) & (f < 2 * lo)].mean()  # noqa: E731
    assert 10 * np.log10(band(500) / band(1000)) == pytest.approx(3.0, abs=0.6)


def test_two_speaker_sources_sum_to_mixture_and_differ():
    ex = data.two_speaker_example(2, "test", seconds=3.0, level_db=0.0)
    assert ex["sources"].shape == (2, 48000)
    np.testing.assert_allclose(ex["sources"].sum(0), ex["mixture"], atol=1e-6)
    assert ex["voices"][0] != ex["voices"][1]
    ratio = 10 * np.log10(np.mean(ex["sources"][1] ** 2) / np.mean(ex["sources"][0] ** 2))
    assert ratio == pytest.approx(0.0, abs=0.1)


def test_reverb_keeps_length_and_smears_energy():
    x = np.zeros(16000, np.float32)
    x[100] = 1.0
    y = data.reverberate(x, 0.4, seed=0)
    assert y.shape == x.shape and np.sum(np.abs(y[2000:]) > 1e-4) > 1000


def test_every_real_clip_is_speech():
    """The wheel's clips serve as real speech in benchmarks and examples: each must hold words
    (recording1.wav, a sustained tone, once slipped in and skewed every real-speech figure)."""
    from models.speech.asr import transcribe

    clips = data.real_speech_clips(16000)
    assert len(clips) == len(data.GRADIO_SPEECH)
    for name, audio in clips.items():
        assert len(transcribe(audio, 16000).split()) >= 4, name
