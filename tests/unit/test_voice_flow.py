"""The flow-matching converter (models.speech.voice.flow_vc): the objective, sampling, and the
shipped checkpoint converting a held-out sentence."""
from __future__ import annotations

import numpy as np
import torch

from models.speech.synth import synthesize
from models.speech.voice import corpus, flow_vc, knn_vc, metrics, voices
from models.speech.voice.features import MEL, log_mel, peak_normalise


def speech(voice: str, index: int) -> np.ndarray:
    return peak_normalise(synthesize(corpus.sentences("test")[index], voice, sr=MEL.sr))


def test_the_objective_can_be_fitted_and_sampling_then_lands_on_the_data():
    """Overfit one (content, prompt) -> mel example: the loss falls and 8 Euler steps from noise
    reproduce the target far better than the untrained field does."""
    torch.manual_seed(0)
    mel = log_mel(speech("flite:slt", 0))[:, :64]
    content = torch.randn(1, 16, 64)
    prompt = flow_vc.speaker_prompt(mel)[None]
    model = flow_vc.FlowVC(content_dim=16, channels=64, blocks=2, mel_mean=float(mel.mean()), mel_std=float(mel.std()))

    def error() -> float:
        return float((flow_vc.sample(model, content, prompt, temperature=0.0)[0] - mel).abs().mean())

    before = error()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(300):
        loss = flow_vc.flow_matching_loss(model, model.normalise(mel)[None], content, prompt)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss))
    assert np.mean(losses[-20:]) < 0.5 * np.mean(losses[:20])
    assert error() < 0.5 * before


def test_speaker_prompt_tells_voices_apart():
    slt, awb = (flow_vc.speaker_prompt(log_mel(speech(v, 1))) for v in ("flite:slt", "flite:awb"))
    slt_again = flow_vc.speaker_prompt(log_mel(speech("flite:slt", 2)))
    assert slt.shape == (2 * MEL.n_mels,)
    assert (slt - slt_again).abs().mean() < (slt - awb).abs().mean()


def test_shipped_flow_converter_moves_a_held_out_sentence_toward_the_target():
    source = speech("flite:rms", 5)
    bank = voices.target_bank("flite slt (US female, from recordings)", space=knn_vc.FLOW)
    frames = flow_vc.generate(log_mel(source), bank.logmel)
    assert frames.shape == log_mel(source).shape and torch.isfinite(frames).all()
    held_out_target = speech("flite:slt", 6)
    sims = [metrics.speaker_similarity(knn_vc.convert(source, bank, blend=b).audio, held_out_target)
            for b in (0.0, 1.0)]
    assert sims[0] < sims[1]
    assert "Flow matching" in knn_vc.space_note(knn_vc.FLOW)
