"""Plotly figures shared by both front ends (kept here so Gradio and Streamlit draw the same)."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from models.speech.voice.features import MEL, log_mel


def spectrograms(clips: dict[str, np.ndarray], height_per_row: int = 190) -> go.Figure:
    """Stacked log-mel spectrograms (dB) on a shared time axis, one row per named clip."""
    names = list(clips)
    fig = make_subplots(rows=len(names), cols=1, shared_xaxes=True, subplot_titles=names, vertical_spacing=0.08)
    for row, name in enumerate(names, start=1):
        db = log_mel(clips[name]).numpy() * (10 / np.log(10)) * 2  # ln(amplitude) -> dB
        t = np.arange(db.shape[1]) * MEL.hop / MEL.sr
        fig.add_trace(go.Heatmap(z=db, x=t, zmin=db.max() - 80, zmax=db.max(), colorscale="Magma",
                                 showscale=row == 1, colorbar={"title": "dB", "len": 0.5, "y": 1, "yanchor": "top"}),
                      row=row, col=1)
        fig.update_yaxes(title_text="mel bin", row=row, col=1)
    fig.update_xaxes(title_text="time (s)", row=len(names), col=1)
    fig.update_layout(height=60 + height_per_row * len(names), margin={"l": 60, "r": 20, "t": 40, "b": 40})
    return fig
