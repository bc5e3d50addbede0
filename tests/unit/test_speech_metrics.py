"""Metrics against values known in closed form or at their extremes."""
import numpy as np
import pytest

from models.speech import data, metrics


@pytest.fixture(scope="module")
def speech():
    return data.clean_utterance(0, "test")[0]


def test_si_sdr_matches_closed_form_and_is_scale_invariant():
    rng = np.random.default_rng(0)
    s = rng.standard_normal(16000)
    n = rng.standard_normal(16000)
    n -= s * np.dot(n, s) / np.dot(s, s)  # orthogonal noise: SI-SDR = 10 log10(|s|^2/|n|^2) exactly
    n *= np.linalg.norm(s) / np.linalg.norm(n) * 10 ** (-10 / 20)
    assert metrics.si_sdr(s + n, s) == pytest.approx(10.0, abs=1e-3)
    assert metrics.si_sdr(3.7 * (s + n), s) == pytest.approx(10.0, abs=1e-3)


def test_pesq_and_stoi_extremes(speech):
    assert metrics.pesq_wb(speech, speech) > 4.5
    assert metrics.stoi(speech, speech) == pytest.approx(1.0, abs=1e-6)
    noisy = data.mix_at_snr(speech, data.make_noise("white", speech.size, 0), -5.0)
    assert metrics.pesq_wb(noisy, speech) < 1.5
    assert metrics.stoi(noisy, speech) < 0.85


def test_dnsmos_prefers_clean_speech(speech):
    noisy = data.mix_at_snr(speech, data.make_noise("white", speech.size, 0), 0.0)
    clean, dirty = metrics.dnsmos(speech), metrics.dnsmos(noisy)
    assert all(1.0 <= v <= 5.0 for v in clean.values())
    assert clean["dnsmos_bak"] > dirty["dnsmos_bak"] + 0.5


def test_timed_reports_rtf():
    out, took, rtf = metrics.timed(lambda x: x + 1, 1, seconds_of_audio=2.0)
    assert out == 2 and rtf == pytest.approx(took / 2.0)
