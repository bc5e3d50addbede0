"""The Forecasting page in Streamlit: same flow as the Gradio page (data, models, cycle, forecast,
SparseTSF and results views, downloads), on the same library calls."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from apps.catalogue import demo, papers_markdown
from apps.common import streamlit_errors, streamlit_progress, streamlit_session_dir
from apps.figures import forecasting as figures
from models.forecasting import compare, registry
from models.forecasting.data import BUNDLED, MAX_ROWS

DEMO = demo("forecasting")
UPLOAD = "Upload CSV"
DEFAULT = compare.DEFAULT


def _upload_path(upload) -> str | None:
    """Save the upload into this session's private directory (the loader reads files)."""
    if upload is None:
        return None
    path = streamlit_session_dir() / f"forecasting_upload{Path(upload.name).suffix.lower() or '.csv'}"
    path.write_bytes(upload.getvalue())
    return str(path)


def _controls() -> dict | None:
    dataset = st.radio("Dataset", [*BUNDLED, UPLOAD], horizontal=True)
    upload = None
    if dataset == UPLOAD:
        upload = _upload_path(st.file_uploader(f"Your CSV (time column + numeric columns, <= {MAX_ROWS:,} rows)",
                                               type=["csv", "txt"]))
        if upload is None:
            st.info("Upload a CSV file to continue.")
            return None
    series = compare.load_series(dataset, upload)
    guess = compare.suggest_period(series)
    for note in series.notes:
        st.caption(note)
    with st.expander("Period detection (autocorrelation)"):
        st.markdown(guess.explanation)
        st.plotly_chart(figures.acf_figure(guess), width="stretch")
    default_channels = list(DEFAULT.channels) if dataset in BUNDLED else series.columns[:8]
    channels = st.multiselect("Channels to forecast", series.columns, default=default_channels, key=f"ch_{dataset}")
    models = st.multiselect("Models to compare", registry.MODEL_NAMES, default=list(DEFAULT.models))
    c1, c2, c3 = st.columns(3)
    L = c1.number_input("L (look-back)", min_value=1, value=DEFAULT.L, step=1)
    H = c2.number_input("H (horizon)", min_value=1, value=DEFAULT.H, step=1)
    W = c3.number_input("W (period)", min_value=2, value=guess.period, step=1, key=f"w_{dataset}")
    return {"dataset": dataset, "upload": upload, "channels": channels, "models": models,
            "L": int(L), "H": int(H), "W": int(W)}


def _views(comp: compare.Comparison) -> None:
    results = compare.results_table(comp)
    st.subheader("Results")
    st.dataframe(results, hide_index=True)
    axis = compare.phase_axis_label(comp.series, comp.splits.W)
    st.subheader("Cycle plot")
    st.plotly_chart(figures.cycle_figure(compare.cycle_view(comp), axis, comp.series.columns), width="stretch")
    st.subheader("Forecast")
    c1, c2, c3 = st.columns([2, 1, 1])
    window = c1.slider("Test window", 0, comp.n_test_windows - 1, 0)
    columns = comp.series.columns
    channel = c2.selectbox("Channel", columns, index=columns.index("OT") if "OT" in columns else 0)
    rcf = [t.name for t in comp.trained if t.has_cycle]
    decompose = c3.selectbox("Decompose", ["(none)", *rcf], index=1 if rcf else 0)
    table = compare.forecast_view(comp, window)
    st.plotly_chart(figures.forecast_figure(table, channel, [t.name for t in comp.trained],
                                            decompose if decompose in rcf else None, compare.history_shown(comp)),
                    width="stretch")
    st.subheader("SparseTSF view")
    folded, weights = compare.fold_view(comp, window, channel)
    st.plotly_chart(figures.fold_figure(folded, weights, channel, axis), width="stretch")
    d1, d2, d3 = st.columns(3)
    d1.download_button("Forecasts CSV", table.to_csv(index=False), f"forecasts_test_window_{window}.csv", "text/csv")
    d2.download_button("Metrics CSV", results.to_csv(index=False), "metrics.csv", "text/csv")
    d3.download_button("Checkpoints (zip)", compare.checkpoints_zip(comp), "checkpoints.zip", "application/zip")


def render() -> None:
    st.title(DEMO.title)
    st.markdown(DEMO.summary)
    with streamlit_errors():
        with st.sidebar.expander("How the methods work"):
            st.markdown("\n\n".join(f"**{s.name}.** {s.explain}" for s in registry.SPECS.values()))
            st.markdown(papers_markdown(DEMO))
        config = _controls()
        if config is None:
            return
        is_default = (config["dataset"], tuple(config["channels"]), config["L"], config["H"], config["W"]) == (
            DEFAULT.dataset, DEFAULT.channels, DEFAULT.L, DEFAULT.H, DEFAULT.W)
        if st.button("Run", type="primary") or is_default:  # the default opens from bundled checkpoints
            st.session_state["forecasting_config"] = config
        config = st.session_state.get("forecasting_config")
        if config is None:
            st.info("Press Run to train and compare the models (cached per configuration).")
            return
        comp = compare.compare(compare.load_series(config["dataset"], config["upload"]), config["channels"],
                               config["models"], config["L"], config["H"], config["W"],
                               progress=streamlit_progress("Training"))
        _views(comp)
