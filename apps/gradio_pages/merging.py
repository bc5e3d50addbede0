"""The merging page: pick a method, move its sliders, watch every task's accuracy update.

Widgets and wiring only; the maths is in models/merging.
"""
from __future__ import annotations

from pathlib import Path

import gradio as gr
import numpy as np

from apps.catalogue import demo, papers_markdown
from apps.common import gradio_handler, gradio_progress, gradio_session_dir, write_download
from models.common.checkpoint import save_checkpoint
from models.common.errors import InputError
from models.merging.adamerging import adamerging
from models.merging.analysis import sign_conflicts
from models.merging.families import TITLES, default_settings, family_reference, load_family
from apps.figures.merging import (accuracy_bars, accuracy_table, conflicts_figure, curve_figure, heatmap_figure,
                                    kept_figure)
from models.merging.mergekit_yaml import to_mergekit_yaml
from models.merging.methods import METHODS, NOTES, MergeSettings, layer_index
from models.merging.outofcore import SafetensorsReader, merge_files
from models.merging.sweeps import curve, curve_knob, curve_title, current_knob, evaluate, grid, kept_by_method

DEMO = demo("merging")
MAX_TASKS = 3
HEATMAP_POINTS = {"digits": 11, "minilm": 5}
CURVE_POINTS = {"digits": 16, "minilm": 6}
KNOB_GROUPS = {"lambdas": ("linear", "task_arithmetic", "dare", "fisher"), "ties": ("ties",),
               "dare": ("dare",), "slerp": ("slerp",), "lines": ("lines",)}


# --- helpers --------------------------------------------------------------------------------------

def family_key(title: str) -> str:
    return next(k for k, v in TITLES.items() if v == title)


def pair_choices(tasks: tuple[str, ...]) -> list[str]:
    return [f"{tasks[i]} & {tasks[j]}" for i in range(len(tasks)) for j in range(i + 1, len(tasks))]


def parse_pair(choice: str, tasks: tuple[str, ...]) -> tuple[int, int]:
    for i in range(len(tasks)):
        for j in range(i + 1, len(tasks)):
            if choice == f"{tasks[i]} & {tasks[j]}":
                return i, j
    return 0, 1


def settings_from(n: int, tasks: tuple[str, ...], method: str, l1: float, l2: float, l3: float, scale: float,
                  density: float, drop_rate: float, rescale: bool, sign_election: bool, t: float, pair: str,
                  alpha: float, beta: float) -> MergeSettings:
    """The widgets' values as MergeSettings for ``n`` models (the first ``n`` lambda sliders)."""
    return MergeSettings(method=method, lambdas=tuple(float(x) for x in (l1, l2, l3)[:n]), scale=float(scale),
                         density=float(density), drop_rate=float(drop_rate), rescale=bool(rescale),
                         sign_election=bool(sign_election), t=float(t), pair=parse_pair(pair, tasks),
                         alpha=float(alpha), beta=float(beta))


def family_settings(family_title: str, *knobs, progress=None):
    fam = load_family(family_key(family_title), progress)
    return fam, settings_from(len(fam.tuned), fam.task_names, *knobs)


# --- handlers (module level so tests/pages can call them without a browser) -------------------------

@gradio_handler
def on_family(family_title: str, progress=gr.Progress()):
    """Relabel the lambda sliders and the task pair for the chosen family (loading it if needed)."""
    fam = load_family(family_key(family_title), gradio_progress(progress))
    tasks = fam.task_names
    sliders = [gr.update(label=f"lambda {tasks[k]}" if k < len(tasks) else "lambda", visible=k < len(tasks),
                         value=default_settings(family_key(family_title)).lambdas[k] if k < len(tasks) else 0.3)
               for k in range(MAX_TASKS)]
    choices = pair_choices(tasks)
    return (*sliders, gr.update(choices=choices, value=choices[0]))


@gradio_handler
def on_method(method: str):
    """Show only the chosen method's knobs, and its note."""
    groups = [gr.update(visible=method in methods) for methods in KNOB_GROUPS.values()]
    return (*groups, f"### {METHODS.get(method, method)}\n{NOTES[method]}")


@gradio_handler
def live(family_title: str, method: str, l1: float, l2: float, l3: float, scale: float, density: float, drop_rate: float,
         rescale: bool, sign_election: bool, t: float, pair: str, alpha: float, beta: float,
         request: gr.Request, progress=gr.Progress()):
    """Merge with the current knobs and evaluate every task: what the page shows after each change."""
    name = family_key(family_title)
    fam, s = family_settings(family_title, method, l1, l2, l3, scale, density, drop_rate, rescale, sign_election,
                             t, pair, alpha, beta, progress=gradio_progress(progress))
    ref = family_reference(name)
    if s.method == "fisher":
        fam.ensure_fishers(gradio_progress(progress))  # MiniLM estimates them on first use
    ev = evaluate(fam, s, ref)
    table = accuracy_table(fam.task_names, ref, ev)
    density = s.density if s.method == "ties" else 1.0
    conflicts = fam.sign_conflicts(density)
    summary = (f"**Normalised average {100 * ev.normalised:.1f}%** (merged / fine-tuned accuracy, mean over tasks) · "
               f"{100 * ev.kept:.0f}% of parameters changed · merge + evaluation {1000 * ev.seconds:.0f} ms")
    folder = gradio_session_dir(request)
    yaml_text = to_mergekit_yaml(s, "base", [f"finetuned_{t}" for t in fam.task_names])
    files = [str(write_download(folder, f"merge_{name}_{s.method}.yml", yaml_text)),
             str(write_download(folder, f"merge_{name}_{s.method}_accuracy.csv", table))]
    return (table, summary, accuracy_bars(fam.task_names, ref, ev), conflicts_figure(conflicts, density),
            kept_figure(kept_by_method(fam, s)), files)


@gradio_handler
def sweep(family_title: str, method: str, l1: float, l2: float, l3: float, scale: float, density: float, drop_rate: float,
         rescale: bool, sign_election: bool, t: float, pair: str, alpha: float, beta: float,
          progress=gr.Progress()):
    """Accuracy-vs-lambda curve for the current method and the lambda_a x lambda_b heatmap."""
    name = family_key(family_title)
    report = gradio_progress(progress)
    fam, s = family_settings(family_title, method, l1, l2, l3, scale, density, drop_rate, rescale, sign_election,
                             t, pair, alpha, beta, progress=report)
    ref = family_reference(name)
    knob = curve_knob(s.method)
    xs = np.linspace(0.0, 1.0 if knob == "t" else 1.5, CURVE_POINTS[name])
    evals = curve(fam, s, ref, xs, progress=lambda f, m: report(0.3 * f, m))
    pair = s.pair
    gx = np.linspace(0.0, 1.5, HEATMAP_POINTS[name])
    g = grid(fam, s, ref, pair, gx, progress=lambda f, m: report(0.3 + 0.7 * f, m))
    return (curve_figure(fam.task_names, xs, evals, knob, current_knob(s), curve_title(s)),
            heatmap_figure(gx, g, (fam.task_names[pair[0]], fam.task_names[pair[1]])))


@gradio_handler
def auto_lambdas(family_title: str, progress=gr.Progress()):
    """AdaMerging: learn the task-arithmetic lambdas without labels, then show them on the sliders."""
    fam = load_family(family_key(family_title), gradio_progress(progress))
    lam = adamerging(fam, steps=100 if family_key(family_title) == "digits" else 25, progress=gradio_progress(progress))
    values = [gr.update(value=lam[k]) if k < len(lam) else gr.update() for k in range(MAX_TASKS)]
    note = ("AdaMerging learnt lambda = " + ", ".join(f"{t}: {x:.2f}" for t, x in zip(fam.task_names, lam)) +
            " by minimising prediction entropy on unlabelled validation inputs; the method is now task arithmetic.")
    return (gr.update(value="task_arithmetic"), *values, note)


@gradio_handler
def export_weights(family_title: str, method: str, l1: float, l2: float, l3: float, scale: float, density: float,
                   drop_rate: float, rescale: bool, sign_election: bool, t: float, pair: str, alpha: float, beta: float,
                   request: gr.Request) -> str:
    """The merged tensors as safetensors (for MiniLM: the fine-tuned blocks only)."""
    name = family_key(family_title)
    fam, s = family_settings(family_title, method, l1, l2, l3, scale, density, drop_rate, rescale, sign_election,
                             t, pair, alpha, beta)
    path = gradio_session_dir(request) / f"merged_{name}_{s.method}.safetensors"
    return str(save_checkpoint(path, fam.merge(s), {"family": name, "settings": s.__dict__}))


@gradio_handler
def example_checkpoints(request: gr.Request):
    """The digits family as separate safetensors files, to try the upload flow without own files."""
    fam = load_family("digits")
    folder = gradio_session_dir(request)
    base = save_checkpoint(folder / "digits_base.safetensors", fam.base, {})
    tuned = [str(save_checkpoint(folder / f"digits_{t}.safetensors", m, {})) for t, m in zip(fam.task_names, fam.tuned)]
    return str(base), tuned


def _upload_paths(files) -> list[Path]:
    items = files if isinstance(files, list) else ([files] if files else [])
    return [Path(getattr(f, "name", f)) for f in items]


@gradio_handler
def merge_uploads(base_file, tuned_files, lambdas_text: str, method: str, l1: float, l2: float, l3: float,
                  scale: float, density: float, drop_rate: float, rescale: bool, sign_election: bool, t: float,
                  alpha: float, beta: float, request: gr.Request, progress=gr.Progress()):
    """Merge uploaded checkpoints out of core; return the merged file, the YAML, notes and sign conflicts."""
    if not base_file:
        raise InputError("Upload the base (pre-trained) checkpoint first.")
    paths = _upload_paths(tuned_files)
    n = len(paths)
    if lambdas_text and lambdas_text.strip():
        try:
            lam = tuple(float(x) for x in lambdas_text.replace(";", ",").split(",") if x.strip())
        except ValueError:
            raise InputError("Lambdas must be numbers separated by commas, e.g. 0.3, 0.5.") from None
    else:
        lam = tuple(float(x) for x in ((l1, l2, l3) + (l3,) * max(0, n - MAX_TASKS))[:n])
    s = MergeSettings(method, lam, scale=scale, density=density, drop_rate=drop_rate, rescale=rescale,
                      sign_election=sign_election, t=t, alpha=alpha, beta=beta)
    folder = gradio_session_dir(request)
    out = folder / f"merged_{method}.safetensors"
    notes = merge_files(_upload_paths(base_file)[0], paths, out, s, progress=gradio_progress(progress))
    yaml_path = write_download(folder, f"merged_{method}.yml", to_mergekit_yaml(s, "base", [p.stem for p in paths]))
    readers = [SafetensorsReader(p) for p in [_upload_paths(base_file)[0], *paths]]
    try:
        floats = [k for k, (_, dt) in readers[0].layout().items() if dt.startswith(("F", "BF"))]
        base = {k: readers[0].get(k) for k in floats}
        tuned = [{k: r.get(k) for k in floats} for r in readers[1:]]
    finally:
        for r in readers:
            r.close()
    conflicts = sign_conflicts(base, tuned, density if method == "ties" else 1.0,
                               lambda k: f"layer {layer_index(k)}" if layer_index(k) is not None else "other")
    text = f"Merged {n} models with {METHODS[method]} into `{out.name}`." + "".join(f"\n\n- {x}" for x in notes)
    return str(out), str(yaml_path), text, conflicts_figure(conflicts, density if method == "ties" else 1.0)


# --- layout ------------------------------------------------------------------------------------------

def build(page: gr.Blocks) -> None:
    gr.Markdown(f"# {DEMO.title}\nMerge fine-tuned models without retraining: pick a method, move its sliders, "
                "and the merged model is re-evaluated on every task's held-out set.")
    with gr.Row():
        with gr.Column(scale=1, min_width=280):
            family = gr.Radio(list(TITLES.values()), value=TITLES["digits"], label="Model family")
            method = gr.Dropdown([(v, k) for k, v in METHODS.items()], value="task_arithmetic", label="Method")
            with gr.Group(visible=True) as g_lambdas:
                lam = [gr.Slider(-0.5, 1.5, value=0.3, step=0.05, label=f"lambda {t}", elem_id=f"merging-lambda-{k}")
                       for k, t in enumerate(("rotated", "inverted", "upside_down"))]
            with gr.Group(visible=False) as g_ties:
                density = gr.Slider(0.0, 1.0, value=0.2, step=0.05, label="density k (fraction kept)")
                scale = gr.Slider(0.0, 3.0, value=1.0, step=0.05, label="lambda (scale of the merged vector)")
            with gr.Group(visible=False) as g_dare:
                drop_rate = gr.Slider(0.0, 1.0, value=0.9, step=0.05, label="drop rate p")
                rescale = gr.Checkbox(value=True, label="rescale survivors by 1/(1-p)")
                sign_election = gr.Checkbox(value=False, label="TIES sign election (DARE-TIES)")
            with gr.Group(visible=False) as g_slerp:
                t = gr.Slider(0.0, 1.0, value=0.5, step=0.05, label="t")
            with gr.Group(visible=False) as g_lines:
                alpha = gr.Slider(0.0, 1.5, value=0.3, step=0.05, label="alpha (scale of the first layer)")
                beta = gr.Slider(0.0, 1.5, value=0.5, step=0.05, label="beta (extra scale at the last layer)")
            pair = gr.Dropdown(pair_choices(("rotated", "inverted", "upside_down")), value="rotated & inverted",
                               label="Task pair (SLERP models, heatmap axes)")
            auto = gr.Button("Auto: learn lambdas (AdaMerging)")
            auto_note = gr.Markdown()
        with gr.Column(scale=3):
            with gr.Tab("Built-in families"):
                summary = gr.Markdown(elem_id="merging-summary")
                table = gr.Dataframe(label="Accuracy on held-out test sets", interactive=False, elem_id="merging-table")
                with gr.Row():
                    bars = gr.Plot(label="Accuracy per task")
                    kept = gr.Plot(label="Parameters kept")
                with gr.Row():
                    sweep_button = gr.Button("Sweep lambda: curve + heatmap", variant="primary")
                    weights_button = gr.Button("Export merged weights")
                with gr.Row():
                    curve_plot = gr.Plot(label="Accuracy vs lambda")
                    heatmap = gr.Plot(label="lambda heatmap")
                with gr.Row():
                    conflicts = gr.Plot(label="Sign conflicts per layer")
                    with gr.Column():
                        downloads = gr.File(label="Downloads: mergekit YAML, accuracy CSV", file_count="multiple")
                        weights = gr.File(label="Merged weights (safetensors)")
            with gr.Tab("Your checkpoints"):
                gr.Markdown("Upload a base and two or more fine-tuned safetensors checkpoints of the same architecture "
                            "(each at most the upload limit). The merge runs tensor by tensor, as the CLI "
                            "`python -m models.merging.cli` does for big models. The method and knobs on the left apply.")
                example = gr.Button("Use example files (the digits family as separate checkpoints)")
                base_file = gr.File(label="Base checkpoint (.safetensors)", file_types=[".safetensors"])
                tuned_files = gr.File(label="Fine-tuned checkpoints (.safetensors)", file_count="multiple",
                                      file_types=[".safetensors"])
                lambdas_text = gr.Textbox(label="lambda per model, comma-separated (empty: the sliders)")
                merge_button = gr.Button("Merge", variant="primary")
                merged_file = gr.File(label="Merged checkpoint")
                yaml_file = gr.File(label="mergekit YAML")
                merge_notes = gr.Markdown()
                custom_conflicts = gr.Plot(label="Sign conflicts per layer")
        with gr.Column(scale=1, min_width=220):
            notes = gr.Markdown(f"### {METHODS['task_arithmetic']}\n{NOTES['task_arithmetic']}")
            gr.Markdown(f"### AdaMerging\n{NOTES['adamerging']}\n\n### Papers\n{papers_markdown(DEMO)}")

    knobs = [method, *lam, scale, density, drop_rate, rescale, sign_election, t, pair, alpha, beta]
    live_outputs = [table, summary, bars, conflicts, kept, downloads]
    # .input fires on user edits only, so programmatic updates (family switch, AdaMerging) do not
    # start one evaluation per slider; those handlers chain a single evaluation with .then.
    for widget in knobs:
        widget.input(live, [family, *knobs], live_outputs, trigger_mode="always_last", show_progress="minimal")
    method.change(on_method, method, [g_lambdas, g_ties, g_dare, g_slerp, g_lines, notes])
    family.change(on_family, family, [*lam, pair]).then(live, [family, *knobs], live_outputs).then(
        sweep, [family, *knobs], [curve_plot, heatmap])
    sweep_button.click(sweep, [family, *knobs], [curve_plot, heatmap], api_name="merging_sweep")
    auto.click(auto_lambdas, family, [method, *lam, auto_note]).then(live, [family, *knobs], live_outputs)
    weights_button.click(export_weights, [family, *knobs], weights)
    example.click(example_checkpoints, None, [base_file, tuned_files])
    merge_button.click(merge_uploads, [base_file, tuned_files, lambdas_text, method, *lam, scale, density, drop_rate,
                                       rescale, sign_election, t, alpha, beta],
                       [merged_file, yaml_file, merge_notes, custom_conflicts])
    # The route's load event: the default
    # digits run, so the page opens with numbers and plots rather than empty boxes.
    page.load(live, [family, *knobs], live_outputs).then(sweep, [family, *knobs], [curve_plot, heatmap])
