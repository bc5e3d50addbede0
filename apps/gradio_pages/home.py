"""Home page: what each demo shows, where it comes from, how to start."""
import gradio as gr

from apps.catalogue import DEMOS, papers_markdown
from apps.common import gradio_handler, gradio_session_dir, write_download
from models.common.environment import environment_report

INTRO = """# PaperLab
Recent machine-learning papers as hands-on tools: real models, real data, honest numbers.
Every demo runs on a laptop CPU; pick one in the navigation bar above."""


@gradio_handler
def download_environment(note: str, request: gr.Request) -> str:
    """The environment report (plus the user's note) as JSON in this session's own directory."""
    report = environment_report() | {"note": (note or "").strip()[:2000], "session": request.session_hash}
    return str(write_download(gradio_session_dir(request), "paperlab-environment.json", report))


def build(page: gr.Blocks) -> None:
    gr.Markdown(INTRO)
    for d in DEMOS:
        with gr.Group():
            gr.Markdown(f"### [{d.title}](/{d.slug})\n{d.summary}\n\n**Start:** {d.how_to_start}\n\n"
                        f"{papers_markdown(d)}", elem_classes="paperlab-demo-card")
    with gr.Accordion("Environment report (attach it to bug reports)", open=False):
        note = gr.Textbox(label="What were you doing? (optional)", lines=2)
        button = gr.Button("Make report")
        report = gr.File(label="paperlab-environment.json")
    button.click(download_environment, inputs=note, outputs=report, api_name="environment")
