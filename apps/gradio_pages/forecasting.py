"""The Forecasting page: CycleNet's learned cycles and SparseTSF's period-wise map on ETT or a CSV."""
from __future__ import annotations

from pathlib import Path

import gradio as gr

from apps.catalogue import demo, papers_markdown
from apps.common import gradio_handler, gradio_progress, gradio_session_dir, write_download
from apps.figures import forecasting as figures
from models.common.errors import InputError
from models.forecasting import compare, registry
from models.forecasting.data import BUNDLED, MAX_COLUMNS, MAX_ROWS

DEMO = demo("forecasting")
UPLOAD = "Upload CSV"
NO_DECOMPOSITION = "(none)"
DEFAULT = compare.DEFAULT

METHODS_MD = f"""**CycleNet (RCF).** One learnable value per phase and channel, the cycle *Q* (W x C).
For a window starting at phase p, *Q[(p+0..L-1) mod W]* is subtracted from the input, a Linear or
MLP forecasts the residual, and *Q[(p+L+0..H-1) mod W]* is added back. Phases come from the
time column, so *Q[k]* is hour k of the day.

**RCF as a plug-in.** *DLinear+RCF* is DLinear with the same cycle around it; compare it with plain DLinear.

**SparseTSF.** The look-back is cut into W phase subsequences (all 00:00 values, all 01:00 values, ...)
and one shared Linear(L/W -> H/W) forecasts all of them: ~100-1000 parameters. L and H must be multiples of W.

**Baselines.** {registry.SPECS['Linear'].explain} Seasonal naive repeats the last period.

**Protocol.** ETT: 12/4/4 months train/val/test, scaler fit on train, MSE/MAE on the scaled
data over the full test set. Uploads: 70/10/20 split; at most {MAX_ROWS:,} rows and {MAX_COLUMNS}
numeric columns, one time column (or none: row numbers are used), missing values interpolated.
Training: Adam, batch 256, up to 30 epochs, early stopping on validation (patience 5), seed 2024.

Papers:
{papers_markdown(DEMO)}
"""


def _state(dataset: str, upload: str | None, channels: list[str], models: list[str],
           L: float, H: float, W: float) -> dict:
    for label, v in (("L", L), ("H", H), ("W", W)):
        if v is None or int(v) != v or v < 1:
            raise InputError(f"{label} must be a positive whole number.")
    return {"dataset": dataset, "upload": upload if dataset == UPLOAD else None, "channels": list(channels or []),
            "models": list(models or []), "L": int(L), "H": int(H), "W": int(W)}


def _comparison(state: dict, progress=None) -> compare.Comparison:
    series = compare.load_series(state["dataset"], state["upload"])
    return compare.compare(series, state["channels"], state["models"], state["L"], state["H"], state["W"],
                           progress=progress)


def _window_views(comp: compare.Comparison, window: int, channel: str | None, decompose: str | None,
                  out_dir: Path) -> tuple:
    window = int(min(max(window or 0, 0), comp.n_test_windows - 1))
    channel = channel if channel in comp.series.columns else comp.series.columns[-1]
    table = compare.forecast_view(comp, window)
    rcf = [t.name for t in comp.trained if t.has_cycle]
    decompose = decompose if decompose in rcf else None
    fig = figures.forecast_figure(table, channel, [t.name for t in comp.trained], decompose,
                                  compare.history_shown(comp))
    folded, weights = compare.fold_view(comp, window, channel)
    fold = figures.fold_figure(folded, weights, channel, compare.phase_axis_label(comp.series, comp.splits.W))
    csv = write_download(out_dir, f"forecasts_test_window_{window}.csv", table)
    return fig, fold, str(csv)


@gradio_handler
def dataset_changed(dataset: str, upload: str | None):
    """New data: list its channels, suggest W from the ACF, and say what loading changed."""
    if dataset == UPLOAD and not upload:
        return gr.update(), gr.update(), gr.update(), "Upload a CSV file (left), then press Run."
    series = compare.load_series(dataset, upload)
    guess = compare.suggest_period(series)
    default_channels = list(DEFAULT.channels) if dataset in BUNDLED else series.columns[:8]
    notes = "".join(f"\n- {n}" for n in series.notes)
    info = (f"**{series.name}**: {len(series):,} rows x {len(series.columns)} channels, step: "
            f"{series.step_label}.{notes}\n\n{guess.explanation}")
    return (gr.update(choices=series.columns, value=default_channels), guess.period,
            figures.acf_figure(guess), info)


@gradio_handler
def upload_changed(upload: str | None):
    """An upload switches the dataset choice to it (and clears back to ETTh1 when removed)."""
    dataset = UPLOAD if upload else DEFAULT.dataset
    return (dataset, *dataset_changed(dataset, upload))


@gradio_handler
def run(dataset: str, upload: str | None, channels: list[str], models: list[str], L: float, H: float,
        W: float, request: gr.Request, progress=gr.Progress()):
    """Train or fetch every chosen model, then draw all views for the first test window."""
    state = _state(dataset, upload, channels, models, L, H, W)
    comp = _comparison(state, gradio_progress(progress))
    out_dir = gradio_session_dir(request)
    results = compare.results_table(comp)
    metrics_csv = write_download(out_dir, "metrics.csv", results)
    ckpt = write_download(out_dir, "checkpoints.zip", compare.checkpoints_zip(comp))
    cycles = figures.cycle_figure(compare.cycle_view(comp), compare.phase_axis_label(comp.series, comp.splits.W),
                                  comp.series.columns)
    channel = "OT" if "OT" in comp.series.columns else comp.series.columns[0]
    rcf = [t.name for t in comp.trained if t.has_cycle]
    decompose = rcf[0] if rcf else NO_DECOMPOSITION
    fig, fold, forecasts_csv = _window_views(comp, 0, channel, decompose, out_dir)
    sources = ", ".join(f"{k}: {v}" for k, v in comp.sources.items())
    status = (f"**{comp.series.name}**, channels {', '.join(comp.series.columns)}, L={comp.splits.L}, "
              f"H={comp.splits.H}, W={comp.splits.W}; {comp.n_test_windows:,} test windows. Models: {sources}.")
    return (state, status, results, cycles,
            gr.update(maximum=comp.n_test_windows - 1, value=0),
            gr.update(choices=comp.series.columns, value=channel),
            gr.update(choices=[NO_DECOMPOSITION, *rcf], value=decompose),
            fig, fold, [forecasts_csv, str(metrics_csv), str(ckpt)])


@gradio_handler
def show_window(state: dict | None, window: float, channel: str, decompose: str, request: gr.Request):
    """Redraw the forecast and SparseTSF views for another test window or channel (cached models)."""
    if not state:
        raise InputError("Press Run first.")
    comp = _comparison(state)
    out_dir = gradio_session_dir(request)
    fig, fold, forecasts_csv = _window_views(comp, int(window), channel, decompose, out_dir)
    others = [str(p) for p in (out_dir / "metrics.csv", out_dir / "checkpoints.zip") if p.is_file()]
    return fig, fold, [forecasts_csv, *others]


def build(page: gr.Blocks) -> None:
    gr.Markdown(f"# {DEMO.title}\n{DEMO.summary}")
    state = gr.State(None)
    with gr.Row():
        with gr.Column(scale=1, min_width=300):
            dataset = gr.Radio([*BUNDLED, UPLOAD], value=DEFAULT.dataset, label="Dataset")
            upload = gr.File(label=f"Your CSV (time column + numeric columns, <= {MAX_ROWS:,} rows)",
                             file_types=[".csv", ".txt"], type="filepath")
            channels = gr.CheckboxGroup(list(DEFAULT.channels), value=list(DEFAULT.channels),
                                        label="Channels to forecast")
            models = gr.CheckboxGroup(registry.MODEL_NAMES, value=list(DEFAULT.models), label="Models to compare")
            with gr.Row():
                L = gr.Number(DEFAULT.L, label="L (look-back)", precision=0, minimum=1)
                H = gr.Number(DEFAULT.H, label="H (horizon)", precision=0, minimum=1)
                W = gr.Number(DEFAULT.W, label="W (period)", precision=0, minimum=2)
            run_btn = gr.Button("Run", variant="primary")
            gr.Markdown("The default setting opens from bundled checkpoints; other settings train here "
                        "(about 5-60 s per model on 2 CPU cores) and are cached.")
            with gr.Accordion("How the methods work", open=False):
                gr.Markdown(METHODS_MD)
        with gr.Column(scale=3):
            status = gr.Markdown("Loading the default configuration...", elem_id="forecasting-status")
            results = gr.Dataframe(label="Test results (MSE/MAE on scaled data; published numbers where they exist)",
                                   interactive=False, elem_id="forecasting-results", wrap=True)
            cycle_plot = gr.Plot(label="Cycle plot", elem_id="forecasting-cycles")
            with gr.Row():
                window = gr.Slider(0, 1, 0, step=1, label="Test window")
                channel = gr.Dropdown(list(DEFAULT.channels), value="OT", label="Channel")
                decompose = gr.Dropdown([NO_DECOMPOSITION], value=NO_DECOMPOSITION, label="Decompose")
            forecast_plot = gr.Plot(label="Forecast", elem_id="forecasting-forecast")
            fold_plot = gr.Plot(label="SparseTSF view", elem_id="forecasting-fold")
            files = gr.File(label="Downloads: forecasts CSV, metrics CSV, checkpoints", file_count="multiple",
                            interactive=False)
            with gr.Accordion("Period detection (autocorrelation)", open=False):
                period_md = gr.Markdown()
                acf_plot = gr.Plot(label="ACF")

    run_inputs = [dataset, upload, channels, models, L, H, W]
    run_outputs = [state, status, results, cycle_plot, window, channel, decompose, forecast_plot, fold_plot, files]
    detect_outputs = [channels, W, acf_plot, period_md]
    dataset.input(dataset_changed, [dataset, upload], detect_outputs)
    upload.upload(upload_changed, [upload], [dataset, *detect_outputs])
    run_btn.click(run, run_inputs, run_outputs)
    view_inputs = [state, window, channel, decompose]
    view_outputs = [forecast_plot, fold_plot, files]
    window.release(show_window, view_inputs, view_outputs)
    channel.input(show_window, view_inputs, view_outputs)
    decompose.input(show_window, view_inputs, view_outputs)
    # This route's load event: open with the default run from bundled checkpoints.
    page.load(run, run_inputs, run_outputs).then(dataset_changed, [dataset, upload], detect_outputs)
