"""Forecasting page handlers called directly (no browser): default run, window views, bad input."""
import zipfile
from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import numpy as np
import pandas as pd
import pytest

from apps.gradio_pages import forecasting as page
from models.forecasting import compare
from tests.pages.conftest import no_progress

D = compare.DEFAULT
REQUEST = SimpleNamespace(session_hash="pytest-forecasting")



def default_run():
    return page.run(D.dataset, None, list(D.channels), list(D.models), D.L, D.H, D.W, REQUEST, progress=no_progress)


def test_default_run_opens_from_bundled_checkpoints_with_every_view():
    _state, status, results, cycles, window, _channel, _decompose, forecast, _fold, files = default_run()
    assert "bundled checkpoint" in status
    assert list(results["model"]) == list(D.models)
    cyclenet = results.set_index("model").loc["CycleNet/Linear"]
    assert cyclenet["published MSE"] == pytest.approx(0.3794)
    assert cyclenet["MSE"] < 0.40  # real test-set number from the shipped checkpoint
    naive = results.set_index("model").loc["Seasonal naive"]
    assert cyclenet["MSE"] < naive["MSE"]
    assert len(cycles.data) > len(D.channels)  # a bar + a Q line per channel
    assert {t.name for t in forecast.data} >= {"truth", "CycleNet/Linear", "SparseTSF/Linear"}
    assert window["maximum"] == 2880 - D.H  # every one of the 2880 - H + 1 test windows (no drop_last)
    names = [Path(f).name for f in files]
    assert names == ["forecasts_test_window_0.csv", "metrics.csv", "checkpoints.zip"]
    forecasts = pd.read_csv(files[0])
    assert {"truth", "CycleNet/Linear", "CycleNet/Linear cycle part", "CycleNet/Linear backbone part"} <= set(forecasts)
    future = forecasts[forecasts["part"] == "forecast"]
    np.testing.assert_allclose(future["CycleNet/Linear cycle part"] + future["CycleNet/Linear backbone part"],
                               future["CycleNet/Linear"], rtol=1e-4, atol=1e-4)
    with zipfile.ZipFile(files[2]) as zf:
        assert len(zf.namelist()) == 5 and all(n.endswith(".safetensors") for n in zf.namelist())


def test_window_slider_redraws_from_cache():
    state = default_run()[0]
    forecast, fold, files = page.show_window(state, 123, "HUFL", "DLinear+RCF", REQUEST)
    assert Path(files[0]).name == "forecasts_test_window_123.csv"
    assert any("DLinear+RCF" in (t.name or "") for t in forecast.data)
    assert len(fold.data) == 2  # folded look-back + SparseTSF weights


def test_show_window_before_run_asks_to_run():
    with pytest.raises(gr.Error, match="Run first"):
        page.show_window(None, 0, "OT", "(none)", REQUEST)


def test_bad_upload_gives_a_clear_message(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"\xff\xfe\x00\x00binary")
    with pytest.raises(gr.Error, match="not UTF-8"):
        page.upload_changed(str(bad))


def test_invalid_sparsetsf_lookback_names_valid_values():
    with pytest.raises(gr.Error, match=r"700 is not\. Use 696 or 720"):
        page.run(D.dataset, None, ["OT"], ["SparseTSF/Linear"], 700, 96, 24, REQUEST, progress=no_progress)


def test_uploaded_csv_is_detected_and_trained(tmp_path):
    t = pd.date_range("2023-01-02", periods=24 * 60, freq="h")
    rng = np.random.default_rng(0)
    y = 10 + 3 * np.sin(2 * np.pi * t.hour / 24) + rng.normal(0, 0.5, len(t))
    path = tmp_path / "load.csv"
    pd.DataFrame({"timestamp": t, "load": y}).to_csv(path, index=False)
    dataset, _channels, W, _acf, info = page.upload_changed(str(path))
    assert dataset == page.UPLOAD and W == 24 and "1 day" in info
    out = page.run(dataset, str(path), ["load"], ["CycleNet/Linear", "Seasonal naive"], 48, 24, W, REQUEST,
                   progress=no_progress)
    results = out[2].set_index("model")
    assert results.loc["CycleNet/Linear", "MSE"] < results.loc["Seasonal naive", "MSE"]
    assert "hour of day" in out[3].layout.title.text
