"""Plotly figures for the spectral views, shared by the Gradio and Streamlit pages (no UI framework here)."""
from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from models.spectral.analysis import EPS_GRID, MatrixSpectrum, eps_curve, layer_counts

COLORS = ("#636efa", "#ef553b", "#00cc96", "#ab63fa", "#ffa15a", "#19d3f3")


def short(name: str) -> str:
    """A tensor name without the 'encoder.' / '.weight' noise, for titles and labels."""
    return name.removeprefix("encoder.").removesuffix(".weight")


_LAYOUT = dict(template="plotly_white", margin=dict(l=50, r=20, t=50, b=45), height=360,
               legend=dict(orientation="h", y=-0.22))


def eps_curves(curves: dict[str, list[MatrixSpectrum]], k: int, eps: float) -> go.Figure:
    """Total intruders vs eps, one line per run (the paper's Figure 3 style), eps marked."""
    fig = go.Figure()
    for i, (label, spectra) in enumerate(curves.items()):
        fig.add_trace(go.Scatter(x=EPS_GRID, y=eps_curve(spectra, k), mode="lines+markers", name=label,
                                 line=dict(color=COLORS[i % len(COLORS)])))
    fig.add_vline(x=eps, line_dash="dash", line_color="grey", annotation_text=f"eps = {eps:.2f}")
    n = max((len(s) for s in curves.values()), default=0)
    fig.update_layout(title=f"Intruder dimensions summed over {n} matrices (top k = {k})",
                      xaxis_title="eps (similarity threshold)", yaxis_title="intruders", **_LAYOUT)
    return fig


def layer_bars(curves: dict[str, list[MatrixSpectrum]], k: int, eps: float) -> go.Figure:
    """Intruders per transformer block, grouped by run."""
    fig = go.Figure()
    for i, (label, spectra) in enumerate(curves.items()):
        table = layer_counts(spectra, k, eps)
        fig.add_trace(go.Bar(x=[f"layer {x}" for x in table["layer"]], y=table["intruders"], name=label,
                             marker_color=COLORS[i % len(COLORS)]))
    fig.update_layout(title=f"Intruders per layer (k = {k}, eps = {eps:.2f})", barmode="group",
                      yaxis_title="intruders", **_LAYOUT)
    return fig


def similarity_heatmap(s: MatrixSpectrum, k: int, eps: float, n_base: int = 64, title: str = "") -> go.Figure:
    """|Ut^T U0| for the top-k tuned vectors (rows) against the top ``n_base`` base vectors (columns).

    Intruders are rows with no bright cell; the row labels give m_j over *all* base vectors,
    including those beyond the columns shown.
    """
    m = s.m[:k]
    z = s.sim[:k, :n_base].numpy()
    rows = [f"{'INTRUDER ' if m[j] < eps else ''}ut{j + 1} (m={m[j]:.2f})" for j in range(len(m))]
    fig = go.Figure(go.Heatmap(z=z, x=[f"u0_{i + 1}" for i in range(z.shape[1])], y=rows, zmin=0, zmax=1,
                               colorscale="Viridis", colorbar=dict(title="|cos|")))
    fig.update_layout(title=title or f"{short(s.name)}: |cos(tuned, base)|", **_LAYOUT)
    fig.update_layout(height=max(300, 60 + 22 * len(rows)), legend=None)
    fig.update_yaxes(autorange="reversed")
    return fig


def spectra_plot(s: MatrixSpectrum, n: int = 64, title: str = "") -> go.Figure:
    """Singular values of W0 and Wt (left) and of the update dW (right), top ``n``, log scale."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("W0 vs Wt", f"dW = Wt - W0 (rank {s.delta_rank})"))
    idx = list(range(1, n + 1))
    fig.add_trace(go.Scatter(x=idx, y=s.base_sigma[:n].numpy(), name="pre-trained W0", mode="lines"), 1, 1)
    fig.add_trace(go.Scatter(x=idx, y=s.tuned_sigma[:n].numpy(), name="tuned Wt", mode="lines",
                             line=dict(dash="dash")), 1, 1)
    fig.add_trace(go.Scatter(x=idx, y=s.delta_sigma[:n].numpy(), name="update dW", mode="lines+markers",
                             marker=dict(size=4)), 1, 2)
    fig.update_yaxes(type="log", title_text="singular value", row=1, col=1)
    fig.update_yaxes(type="log", row=1, col=2)
    fig.update_xaxes(title_text="index i")
    fig.update_layout(title=title or f"{short(s.name)}: singular values", **_LAYOUT)
    return fig


def mitigation_plot(table, subtitle: str) -> go.Figure:
    """Task accuracy and embedding drift as each run's intruders are scaled by lambda."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("task accuracy (tweets)", "forgetting: embedding drift"))
    for i, (run, rows) in enumerate(table.groupby("run", sort=False)):
        rows, line = rows.sort_values("lambda"), dict(color=COLORS[i % len(COLORS)])
        fig.add_trace(go.Scatter(x=rows["lambda"], y=rows["accuracy"], name=run, mode="lines+markers",
                                 legendgroup=run, line=line), 1, 1)
        fig.add_trace(go.Scatter(x=rows["lambda"], y=rows["drift"], name=run, mode="lines+markers",
                                 legendgroup=run, showlegend=False, line=line), 1, 2)
    fig.update_xaxes(title_text="lambda (intruder singular values x lambda)", range=[-0.05, 1.05])
    fig.update_layout(title=f"Scaling intruders down ({subtitle})", **_LAYOUT)
    return fig
