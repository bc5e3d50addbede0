"""PaperLab's Gradio entry point: ``python app.py`` serves every demo.

Pages use Gradio 6's multipage mechanism (``Blocks.route`` with its automatic navbar) rather
than tabs: each demo gets its own URL a lecturer can link to, and a page's components and
events are only loaded when it is opened, which keeps the first page fast.
"""
import argparse
import logging
import os

import gradio as gr

from apps.common import SESSION_TTL_S, TMP_ROOT, UPLOAD_LIMIT_MB, sweep_sessions
from apps.gradio_pages import home, page_modules
from models.common.device import set_device

CSS = ".paperlab-demo-card {padding: 0.5rem 1rem;}"


def build_app() -> gr.Blocks:
    """Home page at ``/`` plus one route per demo, all registered from apps.catalogue.

    Each page's ``build(page)`` gets the Blocks that ``route()`` returns, so a page can attach its
    own ``page.load`` event (e.g. open with a default run) through the public API.
    """
    # delete_cache: Gradio removes its own cached uploads/outputs older than 6 h, hourly.
    with gr.Blocks(title="PaperLab", delete_cache=(3600, SESSION_TTL_S)) as app:
        home.build(app)
    for title, slug, module in page_modules():
        with app.route(title, f"/{slug}") as page:  # route() hands back the app, scoped to this page
            module.build(page)
    return app


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    default_port = int(os.environ.get("PORT") or os.environ.get("GRADIO_SERVER_PORT") or 7860)
    parser = argparse.ArgumentParser(description="Serve the PaperLab demos.")
    parser.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
                        help="interface to bind (default 127.0.0.1; Spaces sets 0.0.0.0)")
    parser.add_argument("--port", type=int, default=default_port,
                        help="port (default: $PORT, $GRADIO_SERVER_PORT or 7860)")
    parser.add_argument("--share", action="store_true", help="create a public gradio.live link")
    parser.add_argument("--device", default=os.environ.get("PAPERLAB_DEVICE", "auto"),
                        help="torch device: auto (CUDA if present), cpu, cuda, cuda:1 ...")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    set_device(args.device)
    sweep_sessions()
    app = build_app()
    app.queue(default_concurrency_limit=2)
    app.launch(server_name=args.host, server_port=args.port, share=args.share,
               max_file_size=f"{UPLOAD_LIMIT_MB}mb", allowed_paths=[str(TMP_ROOT)],
               css=CSS)


if __name__ == "__main__":
    main()
