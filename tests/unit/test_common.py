"""The shared helpers every page relies on: errors, progress, session files, downloads."""
import inspect
import json
import os
import time

import gradio as gr
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
import pytest

from apps import common
from models.common.errors import InputError
from models.common.progress import report


def test_user_message_passes_input_errors_and_hides_internals():
    assert common.user_message(InputError("CSV has no numeric column")) == "CSV has no numeric column"
    msg = common.user_message(KeyError("secret_internal_key"))
    assert "secret_internal_key" not in msg and "KeyError" in msg


def test_gradio_handler_converts_errors_and_keeps_signature():
    @common.gradio_handler
    def handler(x: int, request: gr.Request = None) -> int:
        if x < 0:
            raise InputError("x must be positive")
        if x == 0:
            raise ZeroDivisionError("boom")
        return 2 * x

    assert handler(3) == 6
    assert "request" in inspect.signature(handler).parameters  # Gradio injects by signature
    with pytest.raises(gr.Error, match="x must be positive"):
        handler(-1)
    with pytest.raises(gr.Error, match="ZeroDivisionError") as info:
        handler(0)
    assert "boom" not in str(info.value)


def test_gradio_handler_wraps_generators():
    @common.gradio_handler
    def streaming(n: int):
        yield 1
        raise InputError(f"stopped at {n}")

    gen = streaming(2)
    assert next(gen) == 1
    with pytest.raises(gr.Error, match="stopped at 2"):
        next(gen)


def test_progress_report_clamps_and_tolerates_none():
    seen = []
    report(None, 0.5, "ignored")
    report(lambda f, m: seen.append((f, m)), 1.7, "done")
    report(lambda f, m: seen.append((f, m)), -1, "start")
    assert seen == [(1.0, "done"), (0.0, "start")]


def test_gradio_progress_adapter_calls_with_desc():
    calls = []
    common.gradio_progress(lambda f, desc: calls.append((f, desc)))(0.25, "epoch 1")
    assert calls == [(0.25, "epoch 1")]


def test_session_dirs_are_private_and_sanitised(tmp_path, monkeypatch):
    monkeypatch.setattr(common, "TMP_ROOT", tmp_path)
    a, b = common.session_dir("alice"), common.session_dir("bob")
    assert a != b and a.is_dir() and b.is_dir()
    evil = common.session_dir("../../etc")
    assert evil.parent == tmp_path  # no escape from the root
    anonymous = {common.session_dir(None), common.session_dir(None)}
    assert len(anonymous) == 2  # no shared fallback directory


def test_sweep_removes_only_stale_sessions(tmp_path, monkeypatch):
    monkeypatch.setattr(common, "TMP_ROOT", tmp_path)
    old, fresh = common.session_dir("old"), common.session_dir("fresh")
    past = time.time() - 10_000
    os.utime(old, (past, past))
    assert common.sweep_sessions(max_age_s=3600) == 1
    assert not old.exists() and fresh.exists()


def test_write_download_formats(tmp_path):
    csv = common.write_download(tmp_path, "metrics.csv", pd.DataFrame({"mse": [0.1, 0.2]}))
    assert pd.read_csv(csv)["mse"].tolist() == [0.1, 0.2]
    js = common.write_download(tmp_path, "run config.json", {"L": 96})
    assert js.name == "run_config.json" and json.loads(js.read_text()) == {"L": 96}
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    png = common.write_download(tmp_path, "plot.png", fig)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert common.write_download(tmp_path, "raw.bin", b"\x00\x01").read_bytes() == b"\x00\x01"


def test_write_download_leaves_nothing_half_written(tmp_path):
    with pytest.raises(TypeError):
        common.write_download(tmp_path, "bad.csv", object())
    assert list(tmp_path.iterdir()) == []


def test_write_download_renders_plotly_png(tmp_path):
    import plotly.graph_objects as go

    png = common.write_download(tmp_path, "curve.png", go.Figure(go.Scatter(y=[1, 3, 2])))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"  # kaleido drove the system chromium
