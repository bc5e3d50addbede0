"""Tables and plotly figures both front ends show, built in one place."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from models.merging.family import Reference
from models.merging.sweeps import Evaluation

COLOURS = {"base": "#9aa0a6", "fine-tuned": "#4c78a8", "merged": "#f58518"}
LAYOUT = dict(template="plotly_white", height=340, margin=dict(l=50, r=20, t=45, b=45),
              title_font_size=14, legend=dict(orientation="h", y=-0.22))


def accuracy_table(tasks: Sequence[str], ref: Reference, ev: Evaluation) -> pd.DataFrame:
    """Per task: base, fine-tuned, merged accuracy (%) and merged/fine-tuned; last row the averages."""
    rows = [{"task": t, "base %": 100 * b, "fine-tuned %": 100 * f, "merged %": 100 * m,
             "merged / fine-tuned %": 100 * m / max(f, 1e-9)}
            for t, b, f, m in zip(tasks, ref.base, ref.tuned, ev.accuracies)]
    df = pd.DataFrame(rows)
    mean = {"task": "average"} | {c: df[c].mean() for c in df.columns[1:]}
    return pd.concat([df, pd.DataFrame([mean])], ignore_index=True).round(1)


def accuracy_bars(tasks: Sequence[str], ref: Reference, ev: Evaluation) -> go.Figure:
    fig = go.Figure()
    for name, values in (("base", ref.base), ("fine-tuned", ref.tuned), ("merged", ev.accuracies)):
        fig.add_bar(x=list(tasks), y=[100 * v for v in values], name=name, marker_color=COLOURS[name],
                    text=[f"{100 * v:.1f}" for v in values], textposition="outside")
    fig.update_layout(title="Accuracy per task (test sets)", yaxis=dict(title="accuracy %", range=[0, 112]),
                      barmode="group", **LAYOUT)
    return fig


def curve_figure(tasks: Sequence[str], xs: Sequence[float], evals: Sequence[Evaluation], knob: str,
                 current: float | None, title: str) -> go.Figure:
    fig = go.Figure()
    for k, task in enumerate(tasks):
        fig.add_scatter(x=list(xs), y=[100 * e.accuracies[k] for e in evals], mode="lines+markers", name=task)
    fig.add_scatter(x=list(xs), y=[100 * e.normalised for e in evals], mode="lines", name="normalised average",
                    line=dict(color="black", width=3, dash="dot"))
    if current is not None:
        fig.add_vline(x=current, line=dict(color=COLOURS["merged"], width=2), annotation_text="current")
    fig.update_layout(title=title, xaxis_title=knob, yaxis_title="accuracy %", **LAYOUT)
    return fig


def heatmap_figure(xs: Sequence[float], grid: np.ndarray, names: tuple[str, str]) -> go.Figure:
    best = np.unravel_index(np.argmax(grid), grid.shape)
    fig = go.Figure(go.Heatmap(z=100 * grid, x=[f"{x:.2f}" for x in xs], y=[f"{x:.2f}" for x in xs],
                               colorscale="Viridis", colorbar=dict(title="norm. avg %"),
                               text=np.round(100 * grid).astype(int), texttemplate="%{text}"))
    fig.update_layout(title=f"Normalised avg. (task arithmetic); best ({xs[best[0]]:.2f}, {xs[best[1]]:.2f})",
                      xaxis_title=f"lambda {names[1]}", yaxis_title=f"lambda {names[0]}",
                      **(LAYOUT | dict(height=380)))
    return fig


def conflicts_figure(conflicts: dict[str, float], density: float) -> go.Figure:
    fig = go.Figure(go.Bar(x=list(conflicts), y=[100 * v for v in conflicts.values()], marker_color="#e45756",
                           text=[f"{100 * v:.1f}" for v in conflicts.values()], textposition="outside"))
    top = max([100 * v for v in conflicts.values()] + [1.0])
    fig.update_layout(title=f"Sign conflicts per layer (top {100 * density:.0f}% of each d_i)",
                      yaxis=dict(title="% entries with both signs", range=[0, 1.18 * top]), **LAYOUT)
    return fig


def kept_figure(kept: dict[str, float]) -> go.Figure:
    fig = go.Figure(go.Bar(x=list(kept), y=[100 * v for v in kept.values()], marker_color="#54a24b",
                           text=[f"{100 * v:.0f}" for v in kept.values()], textposition="outside"))
    fig.update_layout(title="Parameters each method changes", yaxis=dict(title="% of parameters", range=[0, 118]),
                      **LAYOUT)
    return fig
