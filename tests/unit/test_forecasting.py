"""Forecasting library: cycle recovery on the true phase axis, reference-checkpoint conversion,
SparseTSF shapes, CSV checks, and a short real ETTh1 run against seasonal naive."""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from models.common.errors import InputError
from models.forecasting import backbones, compare, data, experiment, registry, train
from models.forecasting.cycle import RecurrentCycle, from_reference, reference_rotation
from models.forecasting.data import Series, load_csv, make_splits
from models.forecasting.forecaster import Forecaster
from models.forecasting.period import detect_period
from models.forecasting.sparsetsf import SparseTSF

torch.set_num_threads(1)


def hourly_series(n: int, start: str, cycle: np.ndarray, noise: float = 0.3, seed: int = 0) -> Series:
    """cycle[hour of day] + AR(1) noise, on an hourly clock that starts at ``start``."""
    rng = np.random.default_rng(seed)
    times = pd.date_range(start, periods=n, freq="h")
    ar = np.zeros(n)
    for t in range(1, n):
        ar[t] = 0.8 * ar[t - 1] + noise * rng.standard_normal()
    values = (cycle[times.hour] + ar).astype(np.float32)[:, None]
    return Series("synthetic", values, ["y"], times, pd.Timedelta(hours=1))


# --- RCF ----------------------------------------------------------------------------------

def test_learned_cycle_recovers_the_true_cycle_on_the_hour_axis():
    # Row 0 is 05:00, so a row-number phase would put the cycle 5 hours off.
    true = np.sin(2 * np.pi * np.arange(24) / 24) + (np.arange(24) == 18) * 1.5
    series = hourly_series(24 * 150, "2021-03-01 05:00", true, noise=1.0)
    splits = make_splits(series, L=48, H=24, W=24)
    model = Forecaster(backbones.linear(48, 24), 48, 24, RecurrentCycle(24, 1))
    train.fit(model, splits, lr=0.01, epochs=6)
    q = model.cycle.data.detach().numpy()[:, 0]
    # Q matches the cycle up to a constant (correlation ignores offset and scale) ...
    assert np.corrcoef(q, true)[0, 1] > 0.95
    # ... and its best alignment is the true hour of day, not a rotation of it
    shifts = [np.corrcoef(q, np.roll(true, k))[0, 1] for k in range(24)]
    assert int(np.argmax(shifts)) == 0


def test_phase_comes_from_the_time_column_not_the_row_number():
    series = hourly_series(100, "2021-03-01 05:00", np.zeros(24))
    assert series.phase(24)[0] == 5
    assert series.phase(168)[0] == 5  # 2021-03-01 is a Monday: hour 5 of the week
    no_clock = Series("x", series.values, ["y"], None, None)
    assert no_clock.phase(24)[0] == 0


def test_cycle_used_for_a_forecast_step_does_not_depend_on_L():
    cycle = RecurrentCycle(24, 2)
    cycle.data.data = torch.randn(24, 2)
    phase = hourly_series(400, "2021-03-01 07:00", np.zeros(24)).phase(24)
    target_row = 300  # the first forecast step, reached with two different look-backs
    outs = []
    for L in (48, 96, 100):
        start = target_row - L
        p = torch.tensor([phase[start]])
        outs.append(cycle((p + L) % 24, 12))
    assert torch.equal(outs[0], outs[1]) and torch.equal(outs[0], outs[2])


def _reference_forward(state: dict, x: torch.Tensor, cycle_index: torch.Tensor, L: int, H: int) -> torch.Tensor:
    """ACAT-SCUT/CycleNet's Model.forward (linear, RevIN), written out to test the conversion."""
    q = state["cycleQueue.data"]
    W = q.shape[0]
    mean = x.mean(dim=1, keepdim=True)
    var = x.var(dim=1, keepdim=True) + 1e-5
    x = (x - mean) / torch.sqrt(var)
    x = x - q[(cycle_index.view(-1, 1) + torch.arange(L)) % W]
    y = (x.permute(0, 2, 1) @ state["model.weight"].T + state["model.bias"]).permute(0, 2, 1)
    y = y + q[(((cycle_index + L) % W).view(-1, 1) + torch.arange(H)) % W]
    return y * torch.sqrt(var) + mean


@pytest.mark.parametrize("L", [48, 96])
def test_reference_checkpoint_gives_identical_forecasts_after_phase_correction(L):
    H, W, C = 24, 24, 3
    gen = torch.Generator().manual_seed(0)
    state = {"cycleQueue.data": torch.randn(W, C, generator=gen), "model.weight": torch.randn(H, L, generator=gen) / L,
             "model.bias": torch.randn(H, generator=gen)}
    ours = experiment.load_reference(state, L, H, ["a", "b", "c"]).model
    series = torch.randn(500, C, generator=gen)
    starts = torch.tensor([0, 7, 123, 300])
    x = torch.stack([series[s:s + L] for s in starts])
    ref = _reference_forward(state, x, (starts + L) % W, L, H)  # reference: row-number phase of s_end
    with torch.no_grad():
        mine = ours(x, starts % W)  # ours: true phase of the first input step (row 0 = phase 0)
    torch.testing.assert_close(mine, ref, atol=1e-4, rtol=1e-4)


def test_reference_rotation_is_consistent_across_L():
    true_q = torch.randn(24, 1)
    for L in (96, 336, 720):
        q_ref = torch.roll(true_q, shifts=reference_rotation(L, 24), dims=0)  # what the reference learns
        assert torch.equal(from_reference({"cycleQueue.data": q_ref}, L)["cycle.data"], true_q)


# --- SparseTSF ------------------------------------------------------------------------------

def test_sparsetsf_shapes_and_parameter_count():
    model = SparseTSF(720, 96, 24)
    assert model(torch.randn(5, 720, 7)).shape == (5, 96, 7)
    assert registry.count_parameters(model) == 25 + 30 * 4
    assert registry.count_parameters(SparseTSF(720, 720, 24)) == 925  # the paper's "1k parameters"
    assert registry.count_parameters(SparseTSF(720, 96, 24, hidden=128)) > 1000


def test_sparsetsf_fft_aggregation_equals_the_convolution():
    model = SparseTSF(96, 48, 24)
    z = torch.randn(6, 1, 96)
    torch.testing.assert_close(model._aggregate(z), model.conv(z), atol=1e-5, rtol=1e-5)


def test_sparsetsf_refuses_l_and_h_that_are_not_multiples_of_w_and_offers_the_nearest():
    with pytest.raises(InputError, match="696 or 720"):
        SparseTSF(700, 96, 24)
    with pytest.raises(InputError, match="H"):
        SparseTSF(720, 100, 24)


def test_every_registered_model_maps_l_to_h():
    x, p = torch.randn(3, 96, 2), torch.tensor([0, 5, 23])
    for name in registry.MODEL_NAMES:
        assert registry.build(name, 96, 48, 24, 2)(x, p).shape == (3, 48, 2), name


# --- data loading -----------------------------------------------------------------------------

def write(tmp_path: Path, text: str | bytes, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def csv_text(n: int = 50, step: str = "h") -> str:
    times = pd.date_range("2022-01-01", periods=n, freq=step)
    return "date,a,b\n" + "\n".join(f"{t},{np.sin(i / 3):.4f},{i % 7}" for i, t in enumerate(times))


def test_good_csv_with_missing_values_is_interpolated_and_reported(tmp_path):
    lines = csv_text().splitlines()
    lines[5] = lines[5].split(",")[0] + ",,3"
    series = load_csv(write(tmp_path, "\n".join(lines)))
    assert series.columns == ["a", "b"] and len(series) == 50 and series.step == pd.Timedelta(hours=1)
    assert np.isfinite(series.values).all()
    assert any("1 missing" in n for n in series.notes)


def test_csv_without_time_column_falls_back_to_row_index(tmp_path):
    series = load_csv(write(tmp_path, "x,y\n" + "\n".join(f"{i},{i % 5}" for i in range(40))))
    assert series.times is None and any("row number" in n for n in series.notes)


@pytest.mark.parametrize("content, message", [
    (b"\xff\xfe\x00a\x00b\x00\x00\x01", "UTF-8"),
    ("", "empty"),
    ("date,name\n2022-01-01,x\n2022-01-02,y\n2022-01-03,z\n", "no numeric column"),
    ("date,a\n2022-01-01,1\n2022-01-02,2\n2022-01-03,oops\n2022-01-04,4\n", "row 4 holds text"),
    ("date,a\n2022-01-01,\n2022-01-02,\n2022-01-03,\n", "empty or constant"),
    ("date,a\n2022-01-01,5\n2022-01-02,5\n2022-01-03,5\n", "empty or constant"),
    ("date,a\n2022-01-01,1\n2022-01-01,2\n2022-01-02,3\n", "duplicated"),
    ("date,a\n2022-01-01 00:00,1\n2022-01-01 01:00,2\n2022-01-01 05:00,3\n2022-01-01 06:00,4\n", "irregular"),
    ("date,a\n2022-01-03,1\n2022-01-02,2\n2022-01-01,3\n", "increasing order"),
])
def test_bad_csvs_raise_a_message_for_the_user(tmp_path, content, message):
    with pytest.raises(InputError, match=message):
        load_csv(write(tmp_path, content))


def test_row_cap(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "MAX_ROWS", 30)
    with pytest.raises(InputError, match="more than 30 rows"):
        load_csv(write(tmp_path, csv_text(40)))


def test_too_short_series_and_too_long_period_are_refused(tmp_path):
    series = load_csv(write(tmp_path, csv_text(200)))
    with pytest.raises(InputError, match="too short"):
        make_splits(series, 96, 48, 24)
    with pytest.raises(InputError, match="longer than the whole series"):
        make_splits(series, 24, 12, 500)


def test_ett_protocol_borders_and_full_test_set():
    splits = make_splits(data.load_bundled("ETTh1"), 96, 96, 24)
    assert splits.borders == {"train": (0, 8640), "val": (8544, 11520), "test": (11424, 14400)}
    assert len(splits.starts["test"]) == 14400 - 11424 - 96 - 96 + 1  # 2785: no drop_last
    train_part = splits.data[:8640]
    np.testing.assert_allclose(train_part.mean(axis=0), 0, atol=1e-4)


def test_period_detection_finds_the_day_in_etth1():
    guess = compare.suggest_period(data.load_bundled("ETTh1"))
    assert guess.period == 24 and "1 day" in guess.explanation


def test_period_detection_prefers_the_fundamental():
    t = np.arange(2000)
    x = np.sin(2 * np.pi * t / 12) + 0.5 * np.sin(2 * np.pi * t / 60)
    assert detect_period(x[:, None]).period in (12, 60)
    assert detect_period(np.sin(2 * np.pi * t / 7)[:, None]).period == 7


# --- training on real data ----------------------------------------------------------------------

def test_short_etth1_training_beats_seasonal_naive_and_is_deterministic():
    series = data.load_bundled("ETTh1").select(["OT", "HUFL"])
    splits = make_splits(series, 96, 96, 24)
    naive = train.evaluate(registry.build("Seasonal naive", 96, 96, 24, 2), splits)["mse"]
    mses = [experiment.run("CycleNet/Linear", splits, "ETTh1", ["OT", "HUFL"], seed=7, epochs=2).metrics["mse"]
            for _ in range(2)]
    assert mses[0] == mses[1]
    assert mses[0] < 0.9 * naive


def test_checkpoint_round_trip(tmp_path):
    series = data.load_bundled("ETTh1").select(["OT"])
    splits = make_splits(series, 96, 24, 24)
    trained = experiment.run("DLinear+RCF", splits, "ETTh1", ["OT"], seed=1)
    trained.model.cycle.data.data += 0.1  # make Q non-trivial
    path = experiment.save(trained, tmp_path / "m.safetensors")
    loaded = experiment.load(path, splits)
    assert loaded.config["L"] == 96 and loaded.name == "DLinear+RCF"
    x, p = torch.randn(2, 96, 1), torch.tensor([3, 20])
    with torch.no_grad():
        torch.testing.assert_close(loaded.model(x, p), trained.model(x, p))


def test_not_a_checkpoint_is_an_input_error(tmp_path):
    with pytest.raises(InputError):
        experiment.load(write(tmp_path, b"not safetensors", "x.safetensors"))


def test_bundled_checkpoints_are_small_and_reproduce_their_recorded_test_metrics():
    """The page shows the recorded metrics without re-scoring, so they must be what scoring gives."""
    d = compare.DEFAULT
    splits = make_splits(data.load_bundled(d.dataset), d.L, d.H, d.W)
    for name in d.models:
        if not registry.spec(name).trainable:
            continue
        path = compare.default_checkpoint(name)
        assert path.stat().st_size < 5 * 2**20
        recorded = experiment.load(path).metrics
        rescored = experiment.load(path, splits).metrics
        assert rescored["mse"] == pytest.approx(recorded["mse"], rel=1e-5), name
        assert rescored["mae"] == pytest.approx(recorded["mae"], rel=1e-5), name


def test_reference_checkpoint_file_is_read_with_weights_only(tmp_path):
    state = {"cycleQueue.data": torch.randn(24, 2), "model.0.weight": torch.randn(16, 48),
             "model.0.bias": torch.randn(16), "model.2.weight": torch.randn(24, 16), "model.2.bias": torch.randn(24)}
    torch.save(state, tmp_path / "checkpoint.pth")
    trained = experiment.load_reference(experiment.read_reference(tmp_path / "checkpoint.pth"), 48, 24, ["a", "b"])
    assert trained.name == "CycleNet/MLP"
    torch.testing.assert_close(trained.model.cycle.data, torch.roll(state["cycleQueue.data"], -48 % 24, dims=0))
    with pytest.raises(InputError):
        experiment.read_reference(write(tmp_path, b"garbage", "bad.pth"))
