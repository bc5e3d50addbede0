"""The forecasting page (placeholder until its issue builds it)."""
import gradio as gr

from apps.catalogue import demo, not_built_markdown

DEMO = demo("forecasting")


def build() -> None:
    gr.Markdown(not_built_markdown(DEMO))
