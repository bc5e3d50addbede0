"""Fine-tuning spectra page: intruder dimensions of LoRA vs full fine-tuning, on built-in MiniLM
runs or on the user's own checkpoints. All maths lives in models/spectral; this file wires widgets."""
from __future__ import annotations

import shutil
from pathlib import Path

import gradio as gr

from apps.catalogue import demo, papers_markdown
from apps.common import gradio_handler, gradio_progress, gradio_session_dir, write_download
from apps.figures import spectral as figures
from models.common.errors import InputError
from models.spectral import live, runs
from models.spectral.analysis import K_MAX, MatrixSpectrum, summary_table
from models.spectral.finetune import BUILTIN_RUNS
from models.spectral.intruders import DEFAULT_EPS, DEFAULT_K
from models.spectral.sources import DEFAULT_PATTERN, MAX_MATRIX_ENTRIES, analyse_checkpoints

DEMO = demo("spectral")
LABEL_TO_RUN = {r.label: r.name for r in BUILTIN_RUNS}


def _selected(labels: list[str]) -> dict[str, list[MatrixSpectrum]]:
    """{run label: spectra} for the ticked runs, in recipe order."""
    names = [LABEL_TO_RUN[label] for label in labels or [] if label in LABEL_TO_RUN]
    if not names:
        raise InputError("Tick at least one run.")
    return {runs.LABELS[n]: list(runs.run_spectra(n)) for n in names}


def _matrix(spectra: list[MatrixSpectrum], name: str | None) -> MatrixSpectrum:
    return next((s for s in spectra if s.name == name), spectra[0])


# --- built-in runs --------------------------------------------------------------------------------

@gradio_handler
def builtin_views(labels: list[str], k: int, eps: float, heat_label: str, matrix: str):
    """Every built-in view for the current sliders: table, eps curves, per-layer bars, heatmap, spectra."""
    k, eps = int(k), float(eps)
    chosen = _selected(labels)
    table = runs.metrics_table([LABEL_TO_RUN[label] for label in chosen], k, eps)
    spectra = list(runs.run_spectra(LABEL_TO_RUN.get(heat_label, "lora_r1")))
    s = _matrix(spectra, matrix)
    title = f"{heat_label}, {figures.short(s.name)}"
    return (table, figures.eps_curves(chosen, k, eps), figures.layer_bars(chosen, k, eps),
            figures.similarity_heatmap(s, k, eps, title=f"{title}: |cos(tuned, base)|"),
            figures.spectra_plot(s, title=f"{title}: singular values"))


@gradio_handler
def mitigation_view(labels: list[str], lam: float):
    """Accuracy and forgetting after scaling intruders by lambda (precomputed by the training script)."""
    names = [LABEL_TO_RUN[label] for label in _selected(labels)]
    table = runs.mitigation_table(names)
    at = table[table["lambda"] == float(lam)].drop(columns=["lambda"]).round(4)
    return at, figures.mitigation_plot(table, "precomputed, 600 test tweets")


@gradio_handler
def live_mitigation_view(run_label: str, lam: float, k: int, eps: float, progress=gr.Progress()):
    """Scale the run's intruders by lambda now and re-measure; shows every lambda tried so far at this (k, eps)."""
    name, k, eps = LABEL_TO_RUN[run_label], int(k), float(eps)
    live.live_mitigation(name, float(lam), k, eps, gradio_progress(progress))
    table = live.live_table(name, k, eps)
    table.insert(0, "run", run_label)
    title = f"live, {live.LIVE_TEST_TWEETS} tweets / {live.LIVE_PROBE_TEXTS} fortunes, k = {k}, eps = {eps:.2f}"
    return table.round(4), figures.mitigation_plot(table, title)


@gradio_handler
def builtin_download(labels: list[str], k: int, eps: float, request: gr.Request):
    """Per-matrix CSV of all ticked runs plus the eps-curve PNG."""
    chosen = _selected(labels)
    out = gradio_session_dir(request)
    frames = [summary_table(spectra, int(k), float(eps)).assign(run=label) for label, spectra in chosen.items()]
    import pandas as pd

    csv = write_download(out, f"intruders_builtin_k{int(k)}_eps{float(eps):.2f}.csv", pd.concat(frames))
    png = write_download(out, "intruders_vs_eps.png", figures.eps_curves(chosen, int(k), float(eps)))
    return [str(csv), str(png)]


@gradio_handler
def rerun(run_label: str, steps: int, progress=gr.Progress()):
    """Re-train one recipe from scratch on this server (same data, fewer steps if asked) and report."""
    return runs.retrain(LABEL_TO_RUN[run_label], int(steps), gradio_progress(progress))


# --- your own checkpoints -------------------------------------------------------------------------

def _path(upload: str | None, typed: str | None) -> Path | None:
    """An uploaded file wins over a typed server path; neither means 'not given'."""
    if upload:
        return Path(upload)
    if typed and typed.strip():
        return Path(typed.strip()).expanduser()
    return None


def _adapter_dir(files: list[str] | None, typed: str | None, out: Path) -> Path | None:
    """Uploaded adapter files are copied into a private folder, as peft expects a folder."""
    if files:
        folder = out / "adapter_upload"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for f in files:
            shutil.copy(f, folder / Path(f).name)
        return folder
    return _path(None, typed)


@gradio_handler
def analyse_own(base_file, base_path, tuned_file, tuned_path, adapter_files, adapter_path, pattern,
                randomized, k, eps, request: gr.Request, progress=gr.Progress()):
    """Stream both checkpoints matrix by matrix and draw the same views as for the built-in runs."""
    out = gradio_session_dir(request)
    base = _path(base_file, base_path)
    if base is None:
        raise InputError("Give a base checkpoint: upload a .safetensors file or type a path.")
    spectra, notes = analyse_checkpoints(base, _path(tuned_file, tuned_path),
                                         _adapter_dir(adapter_files, adapter_path, out),
                                         pattern=(pattern or "").strip() or DEFAULT_PATTERN,
                                         randomized=bool(randomized), progress=gradio_progress(progress))
    names = [s.name for s in spectra]
    table = summary_table(spectra, int(k), float(eps))
    csv = write_download(out, "intruders_report.csv", table)
    curve = figures.eps_curves({"your checkpoint": spectra}, int(k), float(eps))
    png = write_download(out, "intruders_vs_eps.png", curve)
    total = int(table["intruders"].sum())
    summary = (f"**{len(spectra)} matrices analysed, {total} intruder dimension(s)** at k = {int(k)}, "
               f"eps = {float(eps):.2f}." + "".join(f"\n- {n}" for n in notes))
    heat, spec = own_matrix_views(spectra, names[0], k, eps)
    return (spectra, summary, table, curve, figures.layer_bars({"your checkpoint": spectra}, int(k), float(eps)),
            gr.update(choices=names, value=names[0]), heat, spec, [str(csv), str(png)])


@gradio_handler
def own_matrix_views(spectra: list[MatrixSpectrum] | None, matrix: str, k: int, eps: float):
    if not spectra:
        raise InputError("Analyse a checkpoint first.")
    s = _matrix(spectra, matrix)
    return figures.similarity_heatmap(s, int(k), float(eps)), figures.spectra_plot(s)


@gradio_handler
def own_resliced(spectra: list[MatrixSpectrum] | None, k: int, eps: float):
    """Sliders moved after an analysis: recount without recomputing any SVD."""
    if not spectra:
        return gr.skip(), gr.skip(), gr.skip()
    k, eps = int(k), float(eps)
    return (summary_table(spectra, k, eps), figures.eps_curves({"your checkpoint": spectra}, k, eps),
            figures.layer_bars({"your checkpoint": spectra}, k, eps))


def example_paths():
    """Bundled MiniLM plus the shipped LoRA r=8 adapter, so the tab works without any upload."""
    from models.common.text import minilm_dir

    return str(minilm_dir()), "", str(runs.RUNS_DIR / "lora_r1_adapter")


# --- layout ------------------------------------------------------------------------------------------

def _sliders():
    with gr.Row():
        k = gr.Slider(1, K_MAX, value=DEFAULT_K, step=1, label="k: top tuned singular vectors checked")
        eps = gr.Slider(0.05, 0.95, value=DEFAULT_EPS, step=0.05, label="eps: intruder if max |cos| < eps")
    return k, eps


def build(page: gr.Blocks) -> None:
    gr.Markdown(f"# {DEMO.title}\n{DEMO.summary}")
    available = runs.available_runs()
    labels = [runs.LABELS[n] for n in available]
    if not labels:
        gr.Markdown("**The built-in runs are missing.** Regenerate them with `python scripts/finetune_spectral.py`.")
        return
    with gr.Tab("Built-in MiniLM runs"):
        gr.Markdown("all-MiniLM-L6-v2 fine-tuned on 3-way tweet sentiment, same data and steps for every run; "
                    "36 attention and feed-forward matrices analysed. *Forgetting*: drift = 1 - cosine between "
                    "pre-trained and tuned sentence embeddings of held-out fortune cookies; topic 1-NN = how well "
                    "the tuned embeddings still group cookies by topic (pre-trained skill).")
        picked = gr.CheckboxGroup(labels, value=labels, label="Runs")
        k, eps = _sliders()
        table = gr.Dataframe(label="Accuracy, forgetting and intruders per run", interactive=False,
                             elem_id="spectral-table")
        with gr.Row():
            curve = gr.Plot(label="Intruders vs eps", elem_id="spectral-curve")
            bars = gr.Plot(label="Intruders per layer", elem_id="spectral-bars")
        with gr.Row():
            heat_run = gr.Dropdown(labels, value=labels[min(1, len(labels) - 1)], label="Run for the matrix views")
            matrix = gr.Dropdown(choices=[], value=None, label="Matrix", allow_custom_value=True)
        with gr.Row():
            heat = gr.Plot(label="Similarity heatmap", elem_id="spectral-heat")
            spec = gr.Plot(label="Spectra", elem_id="spectral-spec")
        gr.Markdown("### Mitigation: scale intruder singular values by lambda\nEach intruder direction's "
                    "singular value is multiplied by lambda: 1 is the run itself, 0 removes the intruders.")
        live_labels = [runs.LABELS[n] for n in live.live_runs()]
        with gr.Row():
            live_run = gr.Dropdown(live_labels, value=live_labels[0] if live_labels else None,
                                   label="Live: run (shipped LoRA adapters)")
            live_lam = gr.Slider(0, 1, value=0.5, step=0.05, label="Live lambda (uses the k and eps sliders above)")
            live_btn = gr.Button("Evaluate", elem_id="spectral-live-btn")
        gr.Markdown(f"Live: merges the adapter, scales its intruders and scores **{live.LIVE_TEST_TWEETS} test "
                    f"tweets and {live.LIVE_PROBE_TEXTS} probe fortunes** (seconds; the first time per run and "
                    "(k, eps) also finds the intruders). Results are cached per (run, lambda, k, eps).")
        live_table = gr.Dataframe(headers=["run", *live.LIVE_COLUMNS], label="Live results so far for this run, "
                                  "k and eps", interactive=False, elem_id="spectral-live")
        live_plot = gr.Plot(label="Live: accuracy and forgetting vs lambda")
        gr.Markdown("**Precomputed** for every run (the rank-64 and full fine-tunes are too big to ship): the full "
                    "600 test tweets, k = 10, eps = 0.5, lambda in {0, 0.25, 0.5, 0.75, 1} ({0, 0.5, 1} for the runs "
                    "evaluated live above), by scripts/finetune_spectral.py.")
        lam = gr.Slider(0, 1, value=0.5, step=0.25, label="Precomputed lambda")
        mit_table = gr.Dataframe(label="Precomputed, at this lambda", interactive=False, elem_id="spectral-mitigation")
        mit_plot = gr.Plot(label="Precomputed: accuracy and forgetting vs lambda")
        with gr.Row():
            dl_btn = gr.Button("Download report (CSV + PNG)")
            dl = gr.File(label="Downloads", file_count="multiple", height=120)
        with gr.Accordion("Re-run a fine-tune on this server", open=False):
            gr.Markdown("Trains one recipe from pre-trained MiniLM on 1 CPU thread (about 3-10 s per step on "
                        "2 cores) and reports accuracy, forgetting and intruders. The shipped runs used 240 steps.")
            with gr.Row():
                rerun_label = gr.Dropdown([r.label for r in BUILTIN_RUNS], value="LoRA r=1", label="Recipe")
                rerun_steps = gr.Slider(5, 240, value=20, step=5, label="Steps (batch 32)")
                rerun_btn = gr.Button("Fine-tune", variant="primary")
            rerun_out = gr.Dataframe(label="Result", interactive=False)

        view_inputs = [picked, k, eps, heat_run, matrix]
        view_outputs = [table, curve, bars, heat, spec]
        for widget in (picked, k, eps, heat_run, matrix):
            widget.change(builtin_views, view_inputs, view_outputs, show_progress="hidden")
        heat_run.change(matrix_choices, heat_run, matrix)
        for widget in (picked, lam):
            widget.change(mitigation_view, [picked, lam], [mit_table, mit_plot])
        live_inputs = [live_run, live_lam, k, eps]
        live_lam.release(live_mitigation_view, live_inputs, [live_table, live_plot])
        live_btn.click(live_mitigation_view, live_inputs, [live_table, live_plot])
        dl_btn.click(builtin_download, [picked, k, eps], dl)
        rerun_btn.click(rerun, [rerun_label, rerun_steps], rerun_out)

    with gr.Tab("Inspect your own checkpoints"):
        gr.Markdown("A base and a tuned checkpoint (safetensors file or Hugging Face folder with safetensors), or a "
                    "base plus a peft LoRA adapter folder. Matrices are read and analysed one at a time; each may "
                    f"have at most {MAX_MATRIX_ENTRIES // 2**20} M entries. Typed paths are read on the server.")
        with gr.Row():
            with gr.Column():
                base_file = gr.File(label="Base .safetensors", file_types=[".safetensors"], type="filepath")
                base_path = gr.Textbox(label="... or base path (file or folder)")
            with gr.Column():
                tuned_file = gr.File(label="Tuned .safetensors", file_types=[".safetensors"], type="filepath")
                tuned_path = gr.Textbox(label="... or tuned path (file or folder)")
            with gr.Column():
                adapter_files = gr.File(label="... or LoRA adapter (adapter_config.json + adapter_model.safetensors)",
                                        file_count="multiple", type="filepath")
                adapter_path = gr.Textbox(label="... or adapter folder path")
        with gr.Row():
            pattern = gr.Textbox(DEFAULT_PATTERN, label="Target matrices: regular expression on tensor names")
            randomized = gr.Checkbox(False, label="Randomised SVD for the tuned side (faster, approximate)")
        own_k, own_eps = _sliders()
        with gr.Row():
            example_btn = gr.Button("Example: MiniLM + bundled LoRA r=1 adapter", elem_id="spectral-example")
            analyse_btn = gr.Button("Analyse", variant="primary", elem_id="spectral-analyse")
        own_state = gr.State(None)
        own_summary = gr.Markdown(elem_id="spectral-own-summary")
        own_table = gr.Dataframe(label="Per matrix", interactive=False, max_height=300)
        with gr.Row():
            own_curve = gr.Plot(label="Intruders vs eps")
            own_bars = gr.Plot(label="Intruders per layer")
        own_matrix = gr.Dropdown(choices=[], label="Matrix", allow_custom_value=True)
        with gr.Row():
            own_heat = gr.Plot(label="Similarity heatmap")
            own_spec = gr.Plot(label="Spectra")
        own_dl = gr.File(label="Report (CSV + PNG)", file_count="multiple", height=120)

        example_btn.click(example_paths, None, [base_path, tuned_path, adapter_path])
        analyse_btn.click(analyse_own, [base_file, base_path, tuned_file, tuned_path, adapter_files, adapter_path,
                                        pattern, randomized, own_k, own_eps],
                          [own_state, own_summary, own_table, own_curve, own_bars, own_matrix, own_heat, own_spec,
                           own_dl])
        own_matrix.input(own_matrix_views, [own_state, own_matrix, own_k, own_eps], [own_heat, own_spec])
        for widget in (own_k, own_eps):
            widget.release(own_resliced, [own_state, own_k, own_eps], [own_table, own_curve, own_bars])
    gr.Markdown(f"Paper:\n{papers_markdown(DEMO)}")
    page.load(matrix_choices, heat_run, matrix).then(
        builtin_views, view_inputs, view_outputs).then(mitigation_view, [picked, lam], [mit_table, mit_plot])


@gradio_handler
def matrix_choices(heat_label: str):
    """Matrix names of the run shown in the heatmap, defaulting to the one with most intruders."""
    spectra = list(runs.run_spectra(LABEL_TO_RUN[heat_label]))
    best = max(spectra, key=lambda s: (s.intruders(DEFAULT_K, DEFAULT_EPS), -float(s.m[:DEFAULT_K].min())))
    return gr.update(choices=[s.name for s in spectra], value=best.name)
