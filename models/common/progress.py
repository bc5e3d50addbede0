"""The single progress-callback type that long-running library functions accept.

Front ends adapt it: Gradio to ``gr.Progress``, Streamlit to ``st.progress`` (see apps/common.py).
"""
from collections.abc import Callable

Progress = Callable[[float, str], None]
"""Called with a fraction in [0, 1] and a short human-readable status."""


def report(progress: Progress | None, fraction: float, message: str) -> None:
    """Call ``progress`` if there is one, clamping the fraction so adapters never see nonsense."""
    if progress is not None:
        progress(min(max(float(fraction), 0.0), 1.0), message)
