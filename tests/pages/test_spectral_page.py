"""Spectral page handlers called directly (no browser), on the shipped MiniLM runs and adapters."""
from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import pandas as pd
import pytest
from safetensors.torch import save_file
import torch

from apps.gradio_pages import spectral as page
from models.common.text import minilm_dir
from models.spectral import runs
from tests.pages.conftest import no_progress

REQUEST = SimpleNamespace(session_hash="pytest-spectral")
LABELS = [runs.LABELS[n] for n in runs.available_runs()]



def test_all_builtin_runs_are_shipped():
    # LoRA r=8 alpha=16 stays a re-runnable recipe but was not re-made with the 240-step recipe (see assets README)
    assert runs.available_runs() == ["full", "lora_r1", "lora_r8", "lora_r64", "rslora_r64"]


def test_builtin_views_show_every_run_and_the_papers_qualitative_result():
    table, curve, bars, heat, _spec = page.builtin_views(LABELS, 10, 0.5, "LoRA r=1", None)
    t = table.set_index("run")
    assert list(t.index) == ["Pre-trained MiniLM", *LABELS]
    # the paper's result at its defaults (k = 10, eps = 0.5): LoRA r=1 and r=8 have intruders, full FT (nearly)
    # none, and higher rank has fewer: LoRA r=64 fewer than r=8, rank-stabilised r=64 fewer still
    n = t["intruders"]
    assert n["LoRA r=1"] >= 10 and n["LoRA r=8"] >= 10 and n["Full FT"] <= 1
    assert n["LoRA r=8"] > n["LoRA r=64"] > n["rsLoRA r=64"]
    assert (t.loc[LABELS, "accuracy"] > 0.45).all()  # 3 balanced classes: chance is 0.33
    assert len(curve.data) == len(LABELS) and len(bars.data) == len(LABELS)
    assert heat.data[0].z.shape == (10, 64)
    # eps slider: a stricter threshold can only find fewer intruders
    strict = page.builtin_views(LABELS, 10, 0.2, "LoRA r=1", None)[0].set_index("run")
    assert (strict["intruders"] <= t["intruders"]).all()


def test_matrix_choice_defaults_to_a_matrix_with_intruders():
    update = page.matrix_choices("LoRA r=1")
    spectra = {s.name: s for s in runs.run_spectra("lora_r1")}
    assert len(update["choices"]) == 36 and spectra[update["value"]].intruders() > 0


def test_mitigation_and_downloads():
    at, fig = page.mitigation_view(LABELS, 0.0)
    assert set(at["run"]) == set(LABELS) and len(fig.data) == 2 * len(LABELS)
    assert set(runs.mitigation_table(runs.available_runs())["lambda"]) >= {0.0, 0.5, 1.0}
    live_table, live_fig = page.live_mitigation_view("LoRA r=1", 0.0, 10, 0.5, progress=no_progress)
    assert 0.0 in set(live_table["lambda"]) and (live_table["intruders"] > 0).all()
    assert len(live_fig.data) == 2 and "live" in live_fig.layout.title.text
    files = page.builtin_download(LABELS, 10, 0.5, REQUEST)
    report = pd.read_csv(files[0])
    assert len(report) == 36 * len(LABELS) and Path(files[1]).stat().st_size > 1000


def test_own_checkpoint_with_the_bundled_adapter():
    base, tuned, adapter = page.example_paths()
    pattern = r"layer\.[0-2]\..*weight$"  # the 18 matrices of the first three blocks keep the test short
    out = page.analyse_own(None, base, None, tuned, None, adapter, pattern, False, 10, 0.5, REQUEST,
                           progress=no_progress)
    state, summary, table, _curve, _bars, _matrix, _heat, _spec, files = out
    assert "18 matrices analysed" in summary and len(table) == 18
    assert "not 2-D matrices and were skipped" in summary  # LayerNorm weights match the pattern too
    assert (table["dW_rank"] == 1).all()  # a rank-1 LoRA update, merged exactly
    shipped = {s.name: s.intruders() for s in runs.run_spectra("lora_r1") if s.name in set(table["matrix"])}
    assert len(shipped) == 18 and sum(shipped.values()) >= 3
    # streaming from files gives the script's in-memory result
    assert dict(zip(table["matrix"], table["intruders"], strict=True)) == shipped
    resliced = page.own_resliced(state, 5, 0.3)[0]
    assert resliced["intruders"].sum() <= table["intruders"].sum()
    assert [Path(f).name for f in files] == ["intruders_report.csv", "intruders_vs_eps.png"]


def test_bad_inputs_show_messages(tmp_path):
    with pytest.raises(gr.Error, match="Tick at least one run"):
        page.builtin_views([], 10, 0.5, "LoRA r=1", None)
    with pytest.raises(gr.Error, match="Give a base checkpoint"):
        page.analyse_own(None, "", None, "", None, "", "", False, 10, 0.5, REQUEST, progress=no_progress)
    with pytest.raises(gr.Error, match="does not exist"):
        page.analyse_own(None, "/nope/base", None, "/nope/tuned", None, "", "", False, 10, 0.5, REQUEST,
                         progress=no_progress)
    other = tmp_path / "other.safetensors"
    save_file({"encoder.layer.0.attention.self.query.weight": torch.zeros(8, 8)}, str(other))
    with pytest.raises(gr.Error, match="different architectures"):
        page.analyse_own(None, str(minilm_dir()), str(other), "", None, "", "", False, 10, 0.5, REQUEST,
                         progress=no_progress)
    with pytest.raises(gr.Error, match="does not match this base"):
        page.analyse_own(str(other), "", None, "", None, str(runs.RUNS_DIR / "lora_r1_adapter"), "", False, 10, 0.5,
                         REQUEST, progress=no_progress)
