"""The content encoder (kNN-VC's trained matching space) and the MCD-DTW measure."""
from __future__ import annotations

import functools

import numpy as np
import pytest
import torch

from models.common.errors import InputError
from models.speech.synth import synthesize
from models.speech.voice import content, corpus, knn_vc, metrics, voices
from models.speech.voice.features import MEL, log_mel, peak_normalise


@functools.cache
def speech(voice: str, index: int) -> np.ndarray:
    """A held-out test sentence (never trained on), spoken once per test session."""
    return peak_normalise(synthesize(corpus.sentences("test")[index], voice, sr=MEL.sr))


def test_shipped_encoder_is_small_loads_lazily_and_gives_unit_vectors():
    assert content.CHECKPOINT.is_file() and content.CHECKPOINT.stat().st_size < 5 * 2**20
    mel = log_mel(speech("flite:slt", 0))
    z = content.content_features(mel)
    assert z.shape == (mel.shape[1], content.EncoderConfig().dim)
    assert torch.allclose(z.norm(dim=1), torch.ones(len(z)), atol=1e-4)
    record = content.training_record()
    assert record["val_retrieval"] > record["val_retrieval_cepstra"]


def test_encoder_finds_the_same_sound_in_another_voice_far_more_often_than_cepstra():
    """Held-out sentences, a voice pair the benchmark converts between (espeak en-us -> flite slt/awb)."""
    pairs = []
    for index in (0, 1):
        a, b = log_mel(speech("espeak:en-us", index)), log_mel(speech("flite:awb", index))
        pairs.append((a, b, content.alignment_pairs(a, b)))
    trained = content.retrieval_accuracy(content.content_features, pairs)
    baseline = content.retrieval_accuracy(content.cepstral_features, pairs)
    assert trained > baseline + 0.2, (trained, baseline)


def test_contrastive_training_step_pulls_aligned_frames_together():
    torch.manual_seed(0)
    model = content.ContentEncoder(channels=16, blocks=1, dim=8)
    a, b = log_mel(speech("espeak:en-us", 2)), log_mel(speech("flite:rms", 2))
    rows = content.alignment_pairs(a, b)[::4]
    assert len(rows) > 20 and (np.diff(rows, axis=0) >= 0).all()  # a monotonic path

    def loss() -> torch.Tensor:
        return content.info_nce(model(a[None])[0][rows[:, 0]], model(b[None])[0][rows[:, 1]])

    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    first = loss().item()
    for _ in range(10):
        opt.zero_grad()
        loss().backward()
        opt.step()
    assert loss().item() < first


def test_mcd_dtw_is_zero_for_the_same_clip_and_tolerates_tempo():
    slt = speech("flite:slt", 3)
    assert metrics.mcd_dtw(slt, slt) == pytest.approx(0.0, abs=1e-9)
    text = corpus.sentences("test")[3]
    slower = peak_normalise(synthesize(text, "flite:slt", sr=MEL.sr, rate=130))
    other_voice = peak_normalise(synthesize(text, "espeak:en-us", sr=MEL.sr))
    # the same voice at another tempo is much closer than another voice at the same tempo
    assert metrics.mcd_dtw(slt, slower) < 0.5 * metrics.mcd_dtw(slt, other_voice)


def test_content_matching_lands_closer_to_the_target_saying_the_words_than_cepstral_matching():
    """MCD-DTW against the target voice reading the same held-out sentence, at blend 1."""
    mcd = {}
    for space in (knn_vc.DEFAULT_SPACE, "mel cepstra (untrained baseline)"):
        bank = voices.target_bank("flite rms (US male, from recordings)", space=space)
        mcd[space] = np.mean([metrics.mcd_dtw(speech("flite:rms", i), knn_vc.convert(speech("espeak:en-us", i), bank,
                                                                                        vocoder="FreeV + Griffin-Lim").audio)
                              for i in (0, 1)])
    source = np.mean([metrics.mcd_dtw(speech("flite:rms", i), speech("espeak:en-us", i)) for i in (0, 1)])
    assert mcd[knn_vc.DEFAULT_SPACE] < mcd["mel cepstra (untrained baseline)"] < source, (mcd, source)


def test_unknown_matching_space_is_refused_with_the_choices():
    with pytest.raises(InputError, match="content encoder"):
        knn_vc.reference_bank(speech("flite:slt", 0), space="wavlm")
    assert "Mel cepstra" in knn_vc.space_note("mel cepstra (untrained baseline)")
    assert "%" in knn_vc.space_note(knn_vc.DEFAULT_SPACE)


def test_smoothing_removes_frame_to_frame_jitter_and_keeps_steady_frames():
    steady = torch.full((MEL.n_mels, 20), -3.0)
    assert torch.allclose(knn_vc.smooth_frames(steady), steady)
    jitter = steady + torch.tensor([1.0, -1.0] * 10)
    smoothed = knn_vc.smooth_frames(jitter)
    assert smoothed.shape == jitter.shape
    assert smoothed.diff(dim=1).abs().mean() < 0.5 * jitter.diff(dim=1).abs().mean()
