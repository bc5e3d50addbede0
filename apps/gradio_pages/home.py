"""Home page: what each demo shows, where it comes from, how to start."""
import gradio as gr

from apps.catalogue import DEMOS, papers_markdown

INTRO = """# PaperLab
Recent machine-learning papers as hands-on tools: real models, real data, honest numbers.
Every demo runs on a laptop CPU; pick one in the navigation bar above."""


def build() -> None:
    gr.Markdown(INTRO)
    for d in DEMOS:
        with gr.Group():
            gr.Markdown(f"### [{d.title}](/{d.slug})\n{d.summary}\n\n**Start:** {d.how_to_start}\n\n"
                        f"{papers_markdown(d)}", elem_classes="paperlab-demo-card")
