"""Streamlit pages: one module per demo with ``render()``, same names as apps/gradio_pages."""
