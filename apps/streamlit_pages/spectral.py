"""The Fine-tuning spectra page in Streamlit: built-in runs (table, eps curves, per-layer bars, heatmap,
spectra, mitigation) and inspection of your own checkpoints, on the same library calls as Gradio.
(The re-run-a-fine-tune accordion is Gradio-only.)"""
from __future__ import annotations

import streamlit as st

from apps.catalogue import demo, papers_markdown
from apps.common import streamlit_errors, streamlit_progress, streamlit_session_dir
from apps.figures import spectral as figures
from models.common.text import minilm_dir
from models.spectral import live, runs
from models.spectral.analysis import K_MAX, MatrixSpectrum, summary_table
from models.spectral.intruders import DEFAULT_EPS, DEFAULT_K
from models.spectral.sources import DEFAULT_PATTERN, MAX_MATRIX_ENTRIES, analyse_checkpoints

DEMO = demo("spectral")


def _sliders(key: str) -> tuple[int, float]:
    c1, c2 = st.columns(2)
    k = c1.slider("k: top tuned singular vectors checked", 1, K_MAX, DEFAULT_K, key=f"k_{key}")
    eps = c2.slider("eps: intruder if max |cos| < eps", 0.05, 0.95, DEFAULT_EPS, 0.05, key=f"eps_{key}")
    return k, eps


def _matrix_views(spectra: list[MatrixSpectrum], k: int, eps: float, key: str, prefix: str = "") -> None:
    names = [s.name for s in spectra]
    best = max(range(len(spectra)), key=lambda i: spectra[i].intruders(k, eps))
    s = spectra[names.index(st.selectbox("Matrix", names, index=best, key=f"m_{key}"))]
    c1, c2 = st.columns(2)
    name = figures.short(s.name)
    c1.plotly_chart(figures.similarity_heatmap(s, k, eps, title=f"{prefix}{name}: |cos(tuned, base)|"), width="stretch")
    c2.plotly_chart(figures.spectra_plot(s, title=f"{prefix}{name}: singular values"), width="stretch")


def _builtin() -> None:
    available = runs.available_runs()
    if not available:
        st.warning("The built-in runs are missing. Regenerate them with `python scripts/finetune_spectral.py`.")
        return
    label_to_run = {runs.LABELS[n]: n for n in available}
    labels = st.multiselect("Runs", list(label_to_run), default=list(label_to_run))
    if not labels:
        st.info("Pick at least one run.")
        return
    k, eps = _sliders("builtin")
    chosen = {label: list(runs.run_spectra(label_to_run[label])) for label in labels}
    table = runs.metrics_table([label_to_run[label] for label in labels], k, eps)
    st.dataframe(table, hide_index=True)
    c1, c2 = st.columns(2)
    c1.plotly_chart(figures.eps_curves(chosen, k, eps), width="stretch")
    c2.plotly_chart(figures.layer_bars(chosen, k, eps), width="stretch")
    heat_label = st.selectbox("Run for the matrix views", labels, index=min(1, len(labels) - 1))
    _matrix_views(chosen[heat_label], k, eps, "builtin", f"{heat_label}, ")
    st.subheader("Mitigation: scale intruder singular values by lambda")
    _live_mitigation(k, eps)
    st.markdown("**Precomputed** for every run (the rank-64 and full fine-tunes are too big to ship): the full 600 "
                "test tweets, k = 10, eps = 0.5, by scripts/finetune_spectral.py.")
    mitigation = runs.mitigation_table([label_to_run[label] for label in labels])
    lam = st.select_slider("Precomputed lambda", sorted(mitigation["lambda"].unique()), value=0.5)
    st.dataframe(mitigation[mitigation["lambda"] == lam], hide_index=True)
    st.plotly_chart(figures.mitigation_plot(mitigation, "precomputed, 600 test tweets"), width="stretch")
    frames = [summary_table(s, k, eps).assign(run=label) for label, s in chosen.items()]
    import pandas as pd

    st.download_button("Per-matrix report (CSV)", pd.concat(frames).to_csv(index=False),
                       f"intruders_builtin_k{k}_eps{eps:.2f}.csv", "text/csv")


def _live_mitigation(k: int, eps: float) -> None:
    """Scale a shipped adapter's intruders by lambda now and re-measure (cached per run, lambda, k, eps)."""
    labels = {runs.LABELS[n]: n for n in live.live_runs()}
    if not labels:
        return
    c1, c2 = st.columns(2)
    label = c1.selectbox("Live: run (shipped LoRA adapters)", list(labels))
    lam = c2.slider("Live lambda (uses the k and eps sliders above)", 0.0, 1.0, 0.5, 0.05)
    st.caption(f"Live: merges the adapter, scales its intruders and scores {live.LIVE_TEST_TWEETS} test tweets and "
               f"{live.LIVE_PROBE_TEXTS} probe fortunes (seconds; the first time per run and (k, eps) also finds "
               "the intruders).")
    if st.button("Evaluate"):
        live.live_mitigation(labels[label], lam, k, eps, streamlit_progress("Evaluating..."))
    table = live.live_table(labels[label], k, eps)
    if len(table):
        st.dataframe(table.round(4), hide_index=True)
        title = f"live, {live.LIVE_TEST_TWEETS} tweets / {live.LIVE_PROBE_TEXTS} fortunes, k = {k}, eps = {eps:.2f}"
        st.plotly_chart(figures.mitigation_plot(table.assign(run=label), title), width="stretch")


def _saved(upload, name: str) -> str | None:
    if upload is None:
        return None
    path = streamlit_session_dir() / name
    path.write_bytes(upload.getvalue())
    return str(path)


def _own() -> None:
    st.caption("A base and a tuned checkpoint (safetensors file or Hugging Face folder), or a base plus a peft LoRA "
               f"adapter folder. Each matrix may have at most {MAX_MATRIX_ENTRIES // 2**20} M entries.")
    if st.button("Example: MiniLM + bundled LoRA r=1 adapter"):
        st.session_state.update(base_path=str(minilm_dir()), tuned_path="",
                                adapter_path=str(runs.RUNS_DIR / "lora_r1_adapter"))
    c1, c2, c3 = st.columns(3)
    base_up = c1.file_uploader("Base .safetensors", type=["safetensors"])
    base_path = c1.text_input("... or base path", key="base_path")
    tuned_up = c2.file_uploader("Tuned .safetensors", type=["safetensors"])
    tuned_path = c2.text_input("... or tuned path", key="tuned_path")
    adapter_path = c3.text_input("LoRA adapter folder path (instead of a tuned checkpoint)", key="adapter_path")
    pattern = st.text_input("Target matrices: regular expression on tensor names", DEFAULT_PATTERN)
    randomized = st.checkbox("Randomised SVD for the tuned side (faster, approximate)")
    k, eps = _sliders("own")
    if st.button("Analyse", type="primary"):
        base = _saved(base_up, "spectral_base.safetensors") or base_path.strip() or None
        tuned = _saved(tuned_up, "spectral_tuned.safetensors") or tuned_path.strip() or None
        if base is None:
            st.error("Give a base checkpoint: upload a .safetensors file or type a path.")
            return
        adapter = None if tuned else (adapter_path.strip() or None)
        st.session_state["spectral_own"] = analyse_checkpoints(
            base, tuned, adapter, pattern=pattern or DEFAULT_PATTERN,
            randomized=randomized, progress=streamlit_progress("Analysing matrices..."))
    if "spectral_own" not in st.session_state:
        return
    spectra, notes = st.session_state["spectral_own"]
    table = summary_table(spectra, k, eps)
    st.markdown(f"**{len(spectra)} matrices analysed, {int(table['intruders'].sum())} intruder dimension(s).**")
    for note in notes:
        st.caption(note)
    st.dataframe(table, hide_index=True)
    c1, c2 = st.columns(2)
    c1.plotly_chart(figures.eps_curves({"your checkpoint": spectra}, k, eps), width="stretch")
    c2.plotly_chart(figures.layer_bars({"your checkpoint": spectra}, k, eps), width="stretch")
    _matrix_views(spectra, k, eps, "own")
    st.download_button("Report (CSV)", table.to_csv(index=False), "intruders_report.csv", "text/csv")


def render() -> None:
    st.title(DEMO.title)
    st.write(DEMO.summary)
    with streamlit_errors():
        built_in, own = st.tabs(["Built-in MiniLM runs", "Inspect your own checkpoints"])
        with built_in:
            _builtin()
        with own:
            _own()
    st.markdown(f"Paper:\n{papers_markdown(DEMO)}")
