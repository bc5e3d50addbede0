"""Chunk alignment (with a fake separator whose speaker order is random per chunk) and the
trained TIGER-lite separator: improvement on a held-out mixture, no swap over 60 s."""
import numpy as np
import pytest

from models.speech import data, metrics
from models.speech.separate.chunking import best_order, separate_long

SR = 16000


def band_split_separator(seed: int):
    """Separates a low-band + high-band mixture perfectly, but returns the two in random order."""
    rng = np.random.default_rng(seed)

    def separate(chunk: np.ndarray) -> np.ndarray:
        spec = np.fft.rfft(chunk)
        cut = spec.size // 4
        low, high = spec.copy(), spec.copy()
        low[cut:], high[:cut] = 0, 0
        out = np.stack([np.fft.irfft(low, chunk.size), np.fft.irfft(high, chunk.size)]).astype(np.float32)
        return out[::-1] if rng.random() < 0.5 else out

    return separate


def band_limited_sources(n: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    spec = np.fft.rfft(rng.standard_normal((2, n)), axis=-1)
    cut = spec.shape[1] // 4
    spec[0, cut:], spec[1, :cut] = 0, 0
    return np.fft.irfft(spec, n, axis=-1).astype(np.float32)


def test_best_order_finds_the_swap():
    a = np.random.default_rng(1).standard_normal((2, 1000))
    assert best_order(a, a[::-1]) == (1, 0)
    assert best_order(a, 0.1 * a) == (0, 1)


def test_best_order_is_not_fooled_by_faint_leakage():
    """One talker silent in the overlap: the 'empty' output holds a faint copy of the other."""
    s, junk, noise = np.random.default_rng(2).standard_normal((3, 1000))
    previous = np.stack([s, 1e-3 * junk])
    current = np.stack([0.01 * s, s + 0.2 * noise])  # talker moved to output 1, leakage in output 0
    assert best_order(previous, current) == (1, 0)


@pytest.mark.parametrize("seed", range(4))
def test_chunks_are_realigned_so_speakers_never_swap(seed):
    sources = band_limited_sources(30 * SR)
    out = separate_long(sources.sum(0), band_split_separator(seed), SR, chunk_s=4.0, overlap_s=1.0)
    assert out.shape == sources.shape
    order = best_order(sources, out)
    for start in range(0, out.shape[1] - SR, SR):  # every second keeps the same assignment
        assert best_order(sources[:, start:start + SR], out[:, start:start + SR]) == order
    assert all(metrics.si_sdr(e, r) > 10.0 for e, r in zip(out[list(order)], sources))


def test_short_input_is_one_call():
    calls = []
    separate_long(np.ones(SR, np.float32), lambda x: calls.append(x) or np.stack([x, x]), SR)
    assert len(calls) == 1


def test_shift_average_puts_every_pass_in_the_first_pass_order(monkeypatch):
    """A perfect separator whose speaker order flips on alternate passes: averaging must not mix them."""
    from types import SimpleNamespace

    from models.speech.separate import tiger as engine

    sources = band_limited_sources(SR)
    flips = iter([False, True, False, True])

    def run(chunk: np.ndarray) -> np.ndarray:  # chunk = d zeros + mixture: return the sources delayed by d
        out = np.pad(sources, ((0, 0), (chunk.size - SR, 0)))
        return out[::-1] if next(flips) else out

    monkeypatch.setattr(engine, "_run", run)
    monkeypatch.setattr(engine, "load_model", lambda: SimpleNamespace(hop=256))
    np.testing.assert_allclose(engine.shift_average(sources.sum(0), 4), sources, atol=1e-6)


@pytest.fixture(scope="module")
def tiger():
    from models.speech.separate import tiger

    tiger.load_model()
    return tiger


def test_tiger_improves_a_held_out_mixture(tiger):
    gains = []
    for seed in range(3):
        ex = data.two_speaker_example(seed, "test", SR, seconds=4.0, level_db=0.0)
        est = tiger.separate(ex["mixture"], SR)
        assert est.shape == (2, ex["mixture"].size)
        est = est[list(best_order(ex["sources"], est))]
        gains += [metrics.si_sdr(e, r) - metrics.si_sdr(ex["mixture"], r) for e, r in zip(est, ex["sources"])]
    assert np.mean(gains) > 5.0  # the shipped checkpoint: 10.1 dB on these three (8.23 dB over 100 in the benchmark)


@pytest.mark.parametrize("seed", [1, 1234])  # seed 1: the second talker starts 13 s in (swapped with 8 s chunks)
def test_tiger_60_s_mixture_has_no_speaker_swap(tiger, seed):
    ex = data.two_speaker_example(seed, "test", SR, seconds=60.0)
    est = tiger.separate(ex["mixture"], SR)
    win = 4 * SR
    orders = {best_order(ex["sources"][:, s:s + win], est[:, s:s + win])
              for s in range(0, est.shape[1] - win + 1, win)}
    assert len(orders) == 1, "speaker order changed between windows"


def test_tiger_keeps_the_input_rate(tiger):
    from models.common.audio import resample

    ex = data.two_speaker_example(3, "test", SR, seconds=2.0)
    est = tiger.separate(resample(ex["mixture"], SR, 44100), 44100)
    assert est.shape == (2, 2 * 44100)


def test_grown_separator_keeps_its_output_until_trained():
    import torch

    from models.speech.separate.tiger_net import TigerLite

    torch.manual_seed(0)
    model = TigerLite(features=16, blocks=1).eval()
    mix = torch.from_numpy(data.two_speaker_example(5, "test", SR, seconds=1.0)["mixture"])[None]
    with torch.no_grad():
        before = model(mix)
        model.grow(3)
        after = model(mix)
    assert len(model.blocks) == 3
    torch.testing.assert_close(after, before)
    grads = torch.autograd.grad(model(mix).pow(2).sum(), model.blocks[2].time.out.weight)
    assert grads[0].abs().sum() > 0  # the zeroed layers still learn


def test_speed_perturbation_keeps_length_and_shifts_pitch():
    from models.speech.training import speed_crop

    t = np.arange(SR) / SR
    tone = np.sin(2 * np.pi * 200 * t).astype(np.float32)
    rng = np.random.default_rng(0)
    peaks = []
    for _ in range(8):
        x = speed_crop(tone, SR // 2, rng, 0.1)
        assert x.shape == (SR // 2,)
        peaks.append(np.argmax(np.abs(np.fft.rfft(x))) * 2)  # 2 Hz per bin for a 0.5 s window
    assert min(peaks) >= 180 and max(peaks) <= 220 and len(set(peaks)) > 2
