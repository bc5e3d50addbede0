"""Every enhancement engine on generated audio: shape, rate round trip, latency alignment and
improvement on an easy case (stationary white noise at 5 dB)."""
import numpy as np
import pytest

from models.speech import data, metrics
from models.speech.enhance import ENGINES

LEARNED = ["PaperLab FRCRN", "DeepFilterNet3", "RNNoise"]


@pytest.fixture(scope="module")
def easy():
    return data.noisy_example(11, "test", seconds=3.0, snr_db=5.0, noise_kind="white")


def lag(a: np.ndarray, b: np.ndarray, max_lag: int = 800) -> int:
    """Lag of a behind b in samples, by cross-correlation within +-max_lag."""
    n = min(a.size, b.size)
    corr = [np.dot(a[max(k, 0):n + min(k, 0)], b[max(-k, 0):n - max(k, 0)]) for k in range(-max_lag, max_lag + 1)]
    return int(np.argmax(corr)) - max_lag


@pytest.mark.parametrize("name", list(ENGINES))
def test_shape_and_alignment(name, easy):
    out = ENGINES[name](easy["noisy"], 16000)
    assert out.shape == easy["noisy"].shape and out.dtype == np.float32
    assert np.all(np.isfinite(out))
    assert abs(lag(out, easy["clean"])) <= 16  # delays (10-30 ms) are compensated to within 1 ms


@pytest.mark.parametrize("name", LEARNED)
def test_learned_engines_improve_easy_case(name, easy):
    out = ENGINES[name](easy["noisy"], 16000)
    before = metrics.si_sdr(easy["noisy"], easy["clean"])
    assert metrics.si_sdr(out, easy["clean"]) > before + 3.0


def test_spectral_gating_removes_noise_energy(easy):
    out = ENGINES["Spectral gating"](easy["noisy"], 16000)
    silence = slice(0, 800)  # the clip starts with 0.1 s of silence (noise only)
    assert np.std(out[silence]) < 0.5 * np.std(easy["noisy"][silence])


@pytest.mark.parametrize("sr", [8000, 44100])
@pytest.mark.parametrize("name", ["DeepFilterNet3", "PaperLab FRCRN"])
def test_sample_rate_round_trip(name, sr, easy):
    from models.common.audio import resample

    x = resample(easy["noisy"], 16000, sr)
    out = ENGINES[name](x, sr)
    assert out.shape == x.shape
    assert metrics.si_sdr(resample(out, sr, 16000), easy["clean"]) > metrics.si_sdr(easy["noisy"], easy["clean"])
