"""The merging page's Gradio handlers called directly: numbers, plots, downloads, bad input."""
import types
from pathlib import Path

import gradio as gr
import pytest
import yaml
from safetensors.torch import load_file

from apps.gradio_pages import merging as page

DIGITS = page.TITLES["digits"]
REQUEST = types.SimpleNamespace(session_hash="pytest-merging")


def knobs(method="task_arithmetic", lam=(0.3, 0.3, 0.3), density=0.2, drop_rate=0.9, t=0.5):
    return [method, *lam, 1.0, density, drop_rate, True, False, t, "rotated & inverted", 0.3, 0.5]


def test_live_shows_accuracy_table_plots_and_downloads():
    table, summary, bars, conflicts, kept, files = page.live(DIGITS, *knobs(), request=REQUEST)
    assert list(table["task"]) == ["rotated", "inverted", "upside_down", "average"]
    assert table["merged %"].between(50, 100).all()
    assert "Normalised average" in summary
    assert len(bars.data) == 3 and len(conflicts.data[0].x) == 3 and len(kept.data[0].x) == 7
    yml = next(f for f in files if f.endswith(".yml"))
    assert yaml.safe_load(Path(yml).read_text())["merge_method"] == "task_arithmetic"
    assert all("/pytest-merging/" in f for f in files)  # written in this session's own folder


def test_moving_a_lambda_changes_the_accuracy():
    low = page.live(DIGITS, *knobs(lam=(0.1, 0.1, 0.1)), request=REQUEST)[0]
    high = page.live(DIGITS, *knobs(lam=(1.2, 1.2, 1.2)), request=REQUEST)[0]
    assert list(low["merged %"]) != list(high["merged %"])


@pytest.mark.parametrize("method", ["linear", "ties", "dare", "slerp", "fisher", "lines"])
def test_every_method_runs_from_the_page(method):
    table = page.live(DIGITS, *knobs(method), request=REQUEST)[0]
    assert len(table) == 4


def test_extreme_sliders_are_handled():
    for k in (knobs("ties", density=0.0), knobs("dare", drop_rate=1.0), knobs("slerp", t=1.0)):
        table = page.live(DIGITS, *k, request=REQUEST)[0]
        assert table["merged %"].notna().all()
    with pytest.raises(gr.Error, match="sum to zero"):
        page.live(DIGITS, *knobs("linear", lam=(0.0, 0.0, 0.0)), request=REQUEST)


def test_sweep_gives_curve_and_heatmap():
    curve_fig, heat = page.sweep(DIGITS, *knobs())
    assert len(curve_fig.data) == 4  # three tasks + normalised average
    assert len(heat.data[0].z) == page.HEATMAP_POINTS["digits"]


def test_method_switch_shows_its_knobs_and_note():
    *groups, note = page.on_method("slerp")
    assert [g["visible"] for g in groups] == [False, False, False, True, False]
    assert "SLERP" in note


def test_export_weights_writes_safetensors():
    path = page.export_weights(DIGITS, *knobs(), request=REQUEST)
    assert set(load_file(path)) == {f"layers.{i}.{p}" for i in range(3) for p in ("weight", "bias")}


def test_upload_flow_with_example_files():
    base, tuned = page.example_checkpoints(REQUEST)
    merged, yml, notes, conflicts = page.merge_uploads(base, tuned, "0.3, 0.3, 0.3", *knobs("ties")[:1],
                                                       0.3, 0.3, 0.3, 1.0, 0.2, 0.9, True, False, 0.5, 0.3, 0.5,
                                                       request=REQUEST)
    assert set(load_file(merged)) == set(load_file(base))
    assert yaml.safe_load(Path(yml).read_text())["merge_method"] == "ties"
    assert "Merged 3 models" in notes and len(conflicts.data[0].x) == 3


def _upload(base, tuned, lambdas="", method="task_arithmetic"):
    return page.merge_uploads(base, tuned, lambdas, method, 0.3, 0.3, 0.3, 1.0, 0.2, 0.9, True, False, 0.5, 0.3, 0.5,
                              request=REQUEST)


def test_upload_bad_input_gets_clear_messages(tmp_path):
    base, tuned = page.example_checkpoints(REQUEST)
    with pytest.raises(gr.Error, match="base"):
        _upload(None, tuned)
    with pytest.raises(gr.Error, match="Only one fine-tuned model"):
        _upload(base, tuned[:1])
    with pytest.raises(gr.Error, match="No fine-tuned models"):
        _upload(base, [])
    with pytest.raises(gr.Error, match="numbers separated by commas"):
        _upload(base, tuned, "a, b")
    with pytest.raises(gr.Error, match="3 models"):
        _upload(base, tuned, "0.5, 0.5")
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(b"\x00" * 100)
    with pytest.raises(gr.Error, match=r"broken\.safetensors"):
        _upload(base, [tuned[0], str(broken)])
    with pytest.raises(gr.Error, match="Fisher"):
        _upload(base, tuned, method="fisher")
