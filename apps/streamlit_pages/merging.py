"""The merging page in Streamlit: method, knobs, live accuracies, curve, heatmap, uploads, YAML.

Same library calls as the Gradio page; AdaMerging and the merged-weights export are Gradio-only.
"""
from __future__ import annotations

import numpy as np
import streamlit as st

from apps.catalogue import demo, papers_markdown
from apps.common import streamlit_errors, streamlit_progress, streamlit_session_dir
from models.common.errors import InputError
from models.merging.families import TITLES, family_reference, load_family
from apps.figures.merging import (accuracy_bars, accuracy_table, conflicts_figure, curve_figure, heatmap_figure,
                                    kept_figure)
from models.merging.mergekit_yaml import to_mergekit_yaml
from models.merging.methods import METHODS, NOTES, MergeSettings
from models.merging.outofcore import merge_files
from models.merging.sweeps import curve, curve_knob, curve_title, current_knob, evaluate, grid, kept_by_method

DEMO = demo("merging")


def _knobs(tasks: tuple[str, ...], key: str) -> MergeSettings:
    """Sidebar widgets for the chosen method; returns the settings they describe."""
    method = st.sidebar.selectbox("Method", list(METHODS), format_func=METHODS.get, index=1, key=f"method_{key}")
    s = MergeSettings(method, (0.3,) * len(tasks))
    if method in ("linear", "task_arithmetic", "dare", "fisher"):
        s = s.with_lambdas([st.sidebar.slider(f"lambda {t}", -0.5, 1.5, 1.0 if method in ("linear", "fisher") else 0.3,
                                              0.05, key=f"lam_{key}_{t}") for t in tasks])
    kw: dict = {}
    if method == "ties":
        kw = {"density": st.sidebar.slider("density k", 0.0, 1.0, 0.2, 0.05, key=f"k_{key}"),
              "scale": st.sidebar.slider("lambda", 0.0, 3.0, 1.0, 0.05, key=f"s_{key}")}
    if method == "dare":
        kw = {"drop_rate": st.sidebar.slider("drop rate p", 0.0, 1.0, 0.9, 0.05, key=f"p_{key}"),
              "rescale": st.sidebar.checkbox("rescale by 1/(1-p)", True, key=f"r_{key}"),
              "sign_election": st.sidebar.checkbox("TIES sign election", False, key=f"e_{key}")}
    if method == "slerp":
        kw = {"t": st.sidebar.slider("t", 0.0, 1.0, 0.5, 0.05, key=f"t_{key}")}
    if method == "lines":
        kw = {"alpha": st.sidebar.slider("alpha", 0.0, 1.5, 0.3, 0.05, key=f"a_{key}"),
              "beta": st.sidebar.slider("beta", 0.0, 1.5, 0.5, 0.05, key=f"b_{key}")}
    if len(tasks) > 2 and method == "slerp":
        pairs = [(i, j) for i in range(len(tasks)) for j in range(i + 1, len(tasks))]
        kw["pair"] = st.sidebar.selectbox("models", pairs, format_func=lambda p: f"{tasks[p[0]]} & {tasks[p[1]]}",
                                          key=f"pair_{key}")
    st.sidebar.markdown(f"### {METHODS[method]}\n{NOTES[method]}")
    return MergeSettings(**{**s.__dict__, **kw})


def _builtin() -> None:
    name = st.radio("Model family", list(TITLES), format_func=TITLES.get, horizontal=True)
    fam = load_family(name, streamlit_progress("Loading the family...") if name == "minilm" else None)
    s = _knobs(fam.task_names, name)
    ref = family_reference(name)
    ev = evaluate(fam, s, ref)
    table = accuracy_table(fam.task_names, ref, ev)
    st.markdown(f"**Normalised average {100 * ev.normalised:.1f}%** · {100 * ev.kept:.0f}% of parameters changed · "
                f"merge + evaluation {1000 * ev.seconds:.0f} ms")
    st.dataframe(table, hide_index=True)
    c1, c2 = st.columns(2)
    c1.plotly_chart(accuracy_bars(fam.task_names, ref, ev), width="stretch")
    c2.plotly_chart(kept_figure(kept_by_method(fam, s)), width="stretch")
    density = s.density if s.method == "ties" else 1.0
    st.plotly_chart(conflicts_figure(fam.sign_conflicts(density), density), width="stretch")
    c1, c2 = st.columns(2)
    c1.download_button("mergekit YAML", to_mergekit_yaml(s, "base", [f"finetuned_{t}" for t in fam.task_names]),
                       f"merge_{name}_{s.method}.yml", "text/yaml")
    c2.download_button("Accuracy (CSV)", table.to_csv(index=False), f"merge_{name}_{s.method}_accuracy.csv", "text/csv")
    if st.button("Sweep lambda: curve + heatmap"):
        report = streamlit_progress("Sweeping...")
        xs = np.linspace(0.0, 1.0 if curve_knob(s.method) == "t" else 1.5, 16 if name == "digits" else 6)
        evals = curve(fam, s, ref, xs, progress=lambda f, m: report(0.3 * f, m))
        gx = np.linspace(0.0, 1.5, 11 if name == "digits" else 5)
        pair = s.pair
        g = grid(fam, s, ref, pair, gx, progress=lambda f, m: report(0.3 + 0.7 * f, m))
        c1, c2 = st.columns(2)
        c1.plotly_chart(curve_figure(fam.task_names, xs, evals, curve_knob(s.method), current_knob(s), curve_title(s)),
                        width="stretch")
        c2.plotly_chart(heatmap_figure(gx, g, (fam.task_names[pair[0]], fam.task_names[pair[1]])), width="stretch")


def _own() -> None:
    st.caption("A base and two or more fine-tuned safetensors checkpoints of the same architecture; merged tensor by "
               "tensor (the same code as `python -m models.merging.cli`). Knobs: the sidebar (lambdas: one value for all).")
    base = st.file_uploader("Base checkpoint", type=["safetensors"])
    tuned = st.file_uploader("Fine-tuned checkpoints", type=["safetensors"], accept_multiple_files=True)
    method = st.selectbox("Method", [m for m in METHODS if m != "fisher"], format_func=METHODS.get, key="own_method")
    lam = st.slider("lambda per model", -0.5, 1.5, 0.3, 0.05)
    c1, c2, c3 = st.columns(3)
    density = c1.slider("TIES density", 0.0, 1.0, 0.2, 0.05)
    drop = c2.slider("DARE drop rate", 0.0, 1.0, 0.9, 0.05)
    t = c3.slider("SLERP t", 0.0, 1.0, 0.5, 0.05)
    if not st.button("Merge", type="primary"):
        return
    if base is None:
        raise InputError("Upload the base (pre-trained) checkpoint first.")
    folder = streamlit_session_dir()
    paths = []
    for i, f in enumerate([base, *tuned]):
        path = folder / f"upload_{i}_{f.name}"
        path.write_bytes(f.getvalue())
        paths.append(path)
    s = MergeSettings(method, (lam,) * len(tuned), density=density, drop_rate=drop, t=t)
    out = folder / f"merged_{method}.safetensors"
    notes = merge_files(paths[0], paths[1:], out, s, progress=streamlit_progress("Merging..."))
    for note in notes:
        st.info(note)
    st.download_button("Merged checkpoint", out.read_bytes(), out.name)
    st.download_button("mergekit YAML", to_mergekit_yaml(s, "base", [f.name for f in tuned]), f"merged_{method}.yml")


def render() -> None:
    st.title(DEMO.title)
    st.write("Merge fine-tuned models without retraining: pick a method in the sidebar, move its sliders, and the "
             "merged model is re-evaluated on every task's held-out set.")
    with streamlit_errors():
        builtin, own = st.tabs(["Built-in families", "Your checkpoints"])
        with builtin:
            _builtin()
        with own:
            _own()
    with st.expander("Papers"):
        st.markdown(papers_markdown(DEMO))
