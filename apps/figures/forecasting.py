"""Plotly figures of the forecasting views, shared by the Gradio and Streamlit pages."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from models.forecasting.period import PeriodGuess

PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]
LAYOUT = dict(template="plotly_white", margin=dict(l=50, r=20, t=50, b=40), height=380,
              legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0))


def acf_figure(guess: PeriodGuess) -> go.Figure:
    fig = go.Figure(go.Scatter(x=guess.lags, y=guess.acf, mode="lines", name="ACF", line=dict(color=PALETTE[0])))
    if len(guess.peaks):
        fig.add_trace(go.Scatter(x=guess.peaks, y=guess.acf[guess.peaks], mode="markers", name="peaks",
                                 marker=dict(color="#999", size=5)))
    fig.add_vline(x=guess.period, line=dict(color=PALETTE[1], dash="dash"),
                  annotation_text=f"W = {guess.period}", annotation_position="top right")
    fig.update_layout(**{**LAYOUT, "height": 300}, title="Autocorrelation of the training data",
                      xaxis_title="lag (steps)", yaxis_title="ACF")
    return fig


def cycle_figure(cycles: pd.DataFrame, axis_label: str, channels: list[str]) -> go.Figure:
    """One panel per channel: learned Q (lines) over the empirical per-phase mean (bars)."""
    channels = [c for c in channels if c in set(cycles["channel"])] or list(dict.fromkeys(cycles["channel"]))
    if cycles.empty:
        fig = go.Figure()
        fig.update_layout(**LAYOUT, title="No model with a learned cycle (RCF) in this run")
        return fig
    cols = min(len(channels), 4)
    rows = -(-len(channels) // cols)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=channels, shared_xaxes=True)
    models = list(dict.fromkeys(cycles["model"]))
    for k, channel in enumerate(channels):
        r, c = k // cols + 1, k % cols + 1
        sub = cycles[cycles["channel"] == channel]
        first = sub[sub["model"] == models[0]]
        fig.add_trace(go.Bar(x=first["phase"], y=first["empirical mean"], name="empirical per-phase mean",
                             marker_color="#cfd8e3", showlegend=k == 0, legendgroup="emp"), row=r, col=c)
        for j, model in enumerate(models):
            m = sub[sub["model"] == model]
            fig.add_trace(go.Scatter(x=m["phase"], y=m["learned Q"], mode="lines+markers", name=f"Q of {model}",
                                     marker=dict(size=4), line=dict(color=PALETTE[j % len(PALETTE)]),
                                     showlegend=k == 0, legendgroup=model), row=r, col=c)
    fig.update_layout(**{**LAYOUT, "height": 260 * rows + 80},
                      title=f"Learned cycle Q on the true phase axis ({axis_label})")
    fig.update_xaxes(title_text=axis_label, row=rows)
    return fig


def forecast_figure(table: pd.DataFrame, channel: str, models: list[str], decompose: str | None,
                    history: int) -> go.Figure:
    """History (last ``history`` steps), truth and each forecast for one channel; optional
    CycleNet decomposition into cycle part and backbone part in a lower panel."""
    df = table[table["channel"] == channel]
    hist = df[df["part"] == "history"].tail(history)
    fut = df[df["part"] == "forecast"]
    rows = 2 if decompose else 1
    fig = make_subplots(rows=rows, cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        row_heights=[0.62, 0.38] if decompose else [1.0],
                        subplot_titles=[f"{channel}: forecast of test window"] +
                                       ([f"{decompose} = cycle part + backbone part"] if decompose else []))
    fig.add_trace(go.Scatter(x=hist["time"], y=hist["truth"], name="history", line=dict(color="#555")), 1, 1)
    fig.add_trace(go.Scatter(x=fut["time"], y=fut["truth"], name="truth", line=dict(color="#000", width=2)), 1, 1)
    for j, model in enumerate(models):
        fig.add_trace(go.Scatter(x=fut["time"], y=fut[model], name=model,
                                 line=dict(color=PALETTE[j % len(PALETTE)], dash="solid" if j < 4 else "dot")), 1, 1)
    if decompose:
        for label, color in (("cycle part", PALETTE[2]), ("backbone part", PALETTE[4])):
            fig.add_trace(go.Scatter(x=fut["time"], y=fut[f"{decompose} {label}"], name=f"{label} ({decompose})",
                                     line=dict(color=color)), 2, 1)
    fig.update_layout(**{**LAYOUT, "height": 520 if decompose else 380})
    return fig


def fold_figure(folded: np.ndarray, weights: np.ndarray | None, channel: str, axis_label: str) -> go.Figure:
    """Left: look-back folded by period (phase x period). Right: SparseTSF's shared linear map."""
    cols = 2 if weights is not None else 1
    titles = [f"{channel} look-back folded by period"] + (["SparseTSF shared Linear(L/W → H/W) weights"]
                                                          if weights is not None else [])
    fig = make_subplots(rows=1, cols=cols, subplot_titles=titles, horizontal_spacing=0.22)
    fig.add_trace(go.Heatmap(z=folded, colorscale="Viridis", colorbar=dict(x=0.40 if cols == 2 else 1.0, len=0.9),
                             hovertemplate="period %{x}<br>phase %{y}<br>value %{z:.2f}<extra></extra>"), 1, 1)
    fig.update_xaxes(title_text="period in look-back (oldest → newest)", row=1, col=1)
    fig.update_yaxes(title_text=axis_label, row=1, col=1)
    if weights is not None:
        fig.add_trace(go.Heatmap(z=weights, colorscale="RdBu", zmid=0,
                                 hovertemplate="input period %{x}<br>output period %{y}<br>w %{z:.3f}<extra></extra>"),
                      1, 2)
        fig.update_xaxes(title_text="input period (oldest → newest)", row=1, col=2)
        fig.update_yaxes(title_text="forecast period", dtick=1, row=1, col=2)
    fig.update_layout(**{**LAYOUT, "height": 400})
    return fig
