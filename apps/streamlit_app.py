"""Streamlit entry: ``streamlit run apps/streamlit_app.py``. Same pages, same models/ calls."""
import importlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # streamlit puts apps/ on sys.path, not the repo root
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from apps.catalogue import DEMOS  # noqa: E402


def main() -> None:
    st.set_page_config(page_title="PaperLab", layout="wide")
    home = importlib.import_module("apps.streamlit_pages.home")
    pages = [st.Page(home.render, title="Home", url_path="home", default=True)]
    for d in DEMOS:
        module = importlib.import_module(f"apps.streamlit_pages.{d.slug}")
        pages.append(st.Page(module.render, title=d.title, url_path=d.slug))
    st.navigation(pages).run()


main()
