"""Every demo in the catalogue has a page in both front ends with the right entry point."""
import importlib

from apps.catalogue import DEMOS


def test_every_demo_has_both_pages():
    assert {d.slug for d in DEMOS} == {"forecasting", "speech", "voice", "spectral", "merging"}
    for d in DEMOS:
        assert callable(importlib.import_module(f"apps.gradio_pages.{d.slug}").build)
        assert callable(importlib.import_module(f"apps.streamlit_pages.{d.slug}").render)
        assert d.papers and all(p.url.startswith("https://") for p in d.papers)


def test_models_never_import_ui_frameworks():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "models"
    offenders = [str(p) for p in root.rglob("*.py")
                 if any(w in p.read_text() for w in ("import gradio", "import streamlit"))]
    assert offenders == []
