"""Voice generation library: features, vocoders, kNN conversion, TTS front end, metrics."""
from __future__ import annotations

import functools

import numpy as np
import pytest
import torch

from models.common.errors import InputError
from models.speech.synth import synthesize
from models.speech.voice import corpus, knn_vc, lab, metrics, tts, voices
from models.speech.voice.features import MEL, log_mel, log_mel_from_magnitude, magnitude_from_mel, peak_normalise, stft
from models.speech.voice.istftnet import CHECKPOINT, ISTFTVocoder, VocoderConfig, load_vocoder, vocoder_loss
from models.speech.voice.vocoders import VOCODERS, resynthesise


@functools.cache
def speech(voice: str = "flite:slt", index: int = 0) -> np.ndarray:
    """A held-out test sentence, spoken once per test session."""
    return peak_normalise(synthesize(corpus.sentences("test")[index], voice, sr=MEL.sr))


# --- features and corpus ---------------------------------------------------------------------

def test_log_mel_shape_and_freev_pseudo_inverse_reproduces_the_mel():
    audio = speech()
    mel = log_mel(audio)
    assert mel.shape == (MEL.n_mels, len(audio) // MEL.hop + 1)
    # A A^+ is a projection, so re-analysing the pseudo-inverse magnitude gives the mel back,
    # up to the clamp that turns A^+'s negative values into a floor
    again = log_mel_from_magnitude(magnitude_from_mel(mel))
    speech_bins = mel > mel.max() - 6
    assert (again - mel)[speech_bins].abs().mean() < 0.2


def test_corpus_splits_are_disjoint_and_deterministic():
    train, val, test = (set(corpus.sentences(s)) for s in ("train", "val", "test"))
    assert len(test) == len(val) == 40 and len(train) > 1000
    assert not (train & test) and not (train & val) and not (val & test)
    assert corpus.sentences("test") == corpus.sentences("test")
    with pytest.raises(ValueError):
        corpus.sentences("dev")


# --- vocoders --------------------------------------------------------------------------------

def test_shipped_vocoder_checkpoint_is_small_and_loads():
    assert CHECKPOINT.is_file() and CHECKPOINT.stat().st_size < 5 * 2**20
    model = load_vocoder()
    assert not model.training
    wav = model(log_mel(speech())[None])
    assert wav.shape[-1] == (log_mel(speech()).shape[-1] - 1) * MEL.hop


@pytest.mark.parametrize("name", list(VOCODERS))
def test_every_vocoder_reconstructs_held_out_speech(name):
    audio = speech("flite:awb", 1)
    out = resynthesise(audio, name)
    assert out.audio.dtype == np.float32 and abs(len(out.audio) - len(audio)) <= MEL.hop
    assert metrics.mel_distance(audio, out.audio) < 0.5
    assert metrics.stoi(audio, out.audio) > 0.8
    assert out.rtf > 0


def test_neural_vocoder_beats_griffin_lim_on_held_out_speech():
    """On average over the four evaluation voices (single clips can go either way, see the benchmark).
    FreeV's magnitude makes Griffin-Lim 5x faster at the same quality, so it stands in here."""
    clips = [speech(voice, 2) for voice in corpus.EVAL_VOICES]
    scores = {name: [lab.score(clip, resynthesise(clip, name)) for clip in clips]
              for name in ("FreeV + Griffin-Lim", "iSTFTNet (trained here)")}
    mean = {name: {k: np.mean([row[k] for row in rows]) for k in ("mel distance", "PESQ")}
            for name, rows in scores.items()}
    gl, neural = mean["FreeV + Griffin-Lim"], mean["iSTFTNet (trained here)"]
    assert neural["mel distance"] < gl["mel distance"] and neural["PESQ"] > gl["PESQ"]


def test_vocoder_training_step_reduces_the_loss():
    torch.manual_seed(0)
    model = ISTFTVocoder(VocoderConfig(channels=16, blocks=1))
    audio = torch.from_numpy(speech()[None, : 32 * MEL.hop].copy())
    mel = log_mel(audio)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    first = None
    for _ in range(15):
        loss, parts = vocoder_loss(model, mel, audio)
        first = first if first is not None else float(loss.detach())
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert set(parts) == {"stft", "mel", "phase"}
    assert float(vocoder_loss(model, mel, audio)[0]) < first


def test_lab_compare_scores_every_vocoder_and_caps_length():
    results, table = lab.compare(speech(), ["FreeV + Griffin-Lim", "iSTFTNet (trained here)"])
    assert list(table["vocoder"]) == ["FreeV + Griffin-Lim", "iSTFTNet (trained here)"]
    assert (table["PESQ"] > 1.0).all() and len(results) == 2
    with pytest.raises(InputError, match="at most 20 s"):
        lab.compare(np.zeros(MEL.sr * 21, dtype=np.float32) + 0.1)
    with pytest.raises(InputError, match="at least one"):
        lab.compare(speech(), [])


# --- kNN voice conversion ----------------------------------------------------------------------

@pytest.mark.parametrize("space", list(knn_vc.MATCHING_SPACES))
def test_matching_a_voice_against_itself_with_k1_returns_its_own_frames(space):
    audio = speech()
    bank = knn_vc.reference_bank(audio, space=space)
    mel = log_mel(audio)
    loud = mel.mean(dim=0) > mel.mean(dim=0).max() - 4.6
    matched = knn_vc.match(mel, bank, k=1)
    assert torch.allclose(matched[:, loud], mel[:, loud], atol=1e-3)


def test_conversion_moves_the_voice_toward_the_target_as_blend_rises():
    source = speech("espeak:en-us", 3)
    bank = voices.target_bank("flite awb (Scottish male, from recordings)")
    held_out_target = speech("flite:awb", 4)
    sims = [metrics.speaker_similarity(knn_vc.convert(source, bank, blend=b).audio, held_out_target)
            for b in (0.0, 0.5, 1.0)]
    assert sims[0] < sims[1] < sims[2]


def test_speed_and_pitch_controls_change_duration_and_keep_it_finite():
    source, bank = speech("espeak:en-us", 3), voices.target_bank(voices.DEFAULT_TARGET)
    normal = knn_vc.convert(source, bank).audio
    fast = knn_vc.convert(source, bank, speed=2.0, semitones=3).audio
    assert abs(len(fast) / len(normal) - 0.5) < 0.05 and np.isfinite(fast).all()
    with pytest.raises(InputError, match="Speed"):
        knn_vc.convert(source, bank, speed=3.0)
    with pytest.raises(InputError, match="blend"):
        knn_vc.convert(source, bank, blend=1.5)


@pytest.mark.parametrize(("audio", "message"), [
    (np.full(MEL.sr, 0.1, dtype=np.float32), "at least 2 s"),
    (np.zeros(MEL.sr * 181, dtype=np.float32), "at most 180 s"),
    (np.r_[np.zeros(MEL.sr * 4), 0.5 * np.ones(200)].astype(np.float32), "too little speech"),
])
def test_bad_reference_audio_is_rejected_with_a_clear_message(audio, message):
    with pytest.raises(InputError, match=message):
        knn_vc.reference_bank(audio)


def test_uploaded_reference_must_exist_and_be_audio(tmp_path):
    with pytest.raises(InputError, match="Upload or record"):
        voices.target_bank(voices.UPLOADED, None)
    bad = tmp_path / "notes.wav"
    bad.write_text("this is not audio")
    with pytest.raises(InputError, match="could not be decoded"):
        voices.target_bank(voices.UPLOADED, str(bad))
    assert voices.target_bank(voices.NO_CONVERSION) is None


# --- text to speech --------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "message"), [
    ("   ", "no text"),
    ("word " * 100, f"limit is {tts.MAX_CHARS}"),
    ("hello \U0001f600 world", "cannot be spoken"),
    ("?!...", "no letters"),
])
def test_bad_text_is_rejected_with_a_clear_message(text, message):
    with pytest.raises(InputError, match=message):
        tts.check_text(text)


def test_text_is_normalised_and_leading_dashes_cannot_become_options():
    assert tts.check_text("  -- hello\n  world ") == "hello world"


def test_phonemes_are_ipa():
    assert tts.phonemes("Hello world") == "həlˈoʊ wˈɜːld"


def test_speak_follows_rate_and_converts_on_request():
    slow = tts.speak("The rain in Spain stays mainly in the plain.", "espeak en-us (US male)", rate=120)
    fast = tts.speak("The rain in Spain stays mainly in the plain.", "espeak en-us (US male)", rate=300)
    assert len(fast.engine) < 0.6 * len(slow.engine) and slow.converted is None
    conv = tts.speak("The rain in Spain.", "flite kal (US male)", target=voices.target_bank(voices.DEFAULT_TARGET))
    assert conv.converted is not None and np.isfinite(conv.converted).all()
    assert set(conv.timings) == {"synthesis", "conversion", "phonemes"}
    with pytest.raises(InputError, match="Unknown voice"):
        tts.speak("hello", "espeak:xx")


# --- metrics ---------------------------------------------------------------------------------

def test_metrics_rank_a_clean_copy_above_a_noisy_one():
    audio = speech()
    noisy = audio + 0.05 * np.random.default_rng(0).standard_normal(len(audio)).astype(np.float32)
    assert metrics.pesq_wb(audio, audio) > 4.0 > metrics.pesq_wb(audio, noisy)
    assert metrics.stoi(audio, audio) > 0.99
    assert metrics.mel_distance(audio, audio) == 0.0 < metrics.mel_distance(audio, noisy)
    assert metrics.speaker_similarity(audio, audio) == pytest.approx(1.0)
    assert metrics.dnsmos_overall(audio) > metrics.dnsmos_overall(audio + 3 * (noisy - audio))
    assert stft(torch.from_numpy(audio)).shape[0] == MEL.n_freq
