"""Plotly figures shared by the Gradio and Streamlit speech pages (no UI framework imports)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from models.speech.pipeline import log_spectrogram

FLOOR_DB = -80.0
MAX_COLUMNS = 300  # keeps each heatmap small enough to ship to the browser quickly


def spectrograms(signals: list[tuple[str, np.ndarray]], sr: int) -> go.Figure:
    """Stacked, time-aligned spectrograms on ONE colour scale (dB re full scale, -80..0)."""
    fig = make_subplots(rows=len(signals), cols=1, shared_xaxes=True, vertical_spacing=0.04,
                        subplot_titles=[name for name, _ in signals])
    for row, (_, audio) in enumerate(signals, start=1):
        t, f, db = log_spectrogram(audio, sr, n_fft=256, floor_db=FLOOR_DB, max_frames=MAX_COLUMNS)
        fig.add_trace(go.Heatmap(x=np.round(t, 3), y=np.round(f / 1000, 3), z=np.round(db, 1),
                                 coloraxis="coloraxis", hovertemplate="%{x:.2f} s, %{y:.2f} kHz: %{z:.0f} dB<extra></extra>"),
                      row=row, col=1)
        fig.update_yaxes(title_text="kHz", row=row, col=1)
    fig.update_xaxes(title_text="time (s)", row=len(signals), col=1)
    fig.update_layout(coloraxis={"colorscale": "Magma", "cmin": FLOOR_DB, "cmax": 0.0,
                                 "colorbar": {"title": {"text": "dB"}}},
                      height=170 * len(signals) + 60, margin={"l": 50, "r": 20, "t": 30, "b": 40})
    return fig


def mask_image(mask: np.ndarray, hop_s: float = 0.01, sr: int = 16000) -> go.Figure:
    """|M| of the FRCRN complex ratio mask: 0 = bin removed, 1 = bin kept."""
    step = max(1, int(np.ceil(mask.shape[1] / MAX_COLUMNS)))
    m = mask[:, ::step]
    freqs = np.linspace(0, sr / 2000, mask.shape[0])
    fig = go.Figure(go.Heatmap(x=np.round(np.arange(m.shape[1]) * hop_s * step, 3), y=np.round(freqs, 3),
                               z=np.round(m, 3), zmin=0, zmax=1, colorscale="Viridis",
                               colorbar={"title": {"text": "|M|"}}))
    fig.update_layout(title="PaperLab FRCRN complex ratio mask |M| (1 = keep, 0 = remove)",
                      xaxis_title="time (s)", yaxis_title="kHz", height=300,
                      margin={"l": 50, "r": 20, "t": 40, "b": 40})
    return fig


METRIC_COLUMNS = {"si_sdr": "SI-SDR (dB)", "pesq": "PESQ-WB", "stoi": "STOI", "dnsmos_ovrl": "DNSMOS OVRL",
                  "dnsmos_sig": "DNSMOS SIG", "dnsmos_bak": "DNSMOS BAK", "seconds": "time (s)", "rtf": "RTF"}


COMPACT = ("si_sdr", "pesq", "stoi", "dnsmos_ovrl", "seconds", "rtf")


def metrics_table(rows: list[dict], compact: bool = False) -> pd.DataFrame:
    """One row per signal with the metric columns that exist, rounded for display.

    ``compact`` drops the DNSMOS sub-scores so the table fits beside the controls.
    """
    keys = [k for k in METRIC_COLUMNS if not compact or k in COMPACT]
    table = pd.DataFrame([{"engine": r["name"], **{METRIC_COLUMNS[k]: r[k] for k in keys if k in r}} for r in rows])
    return table.round(3)
