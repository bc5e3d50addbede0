"""Gradio pages: one module per demo, each with ``build(page)`` that lays out its Blocks content.

The page list comes from ``apps.catalogue.DEMOS`` (registered there once) plus the home page.
"""
import importlib
from types import ModuleType

from apps.catalogue import DEMOS


def page_modules() -> list[tuple[str, str, ModuleType]]:
    """``(title, slug, module)`` for every demo page, in navigation order."""
    return [(d.title, d.slug, importlib.import_module(f"apps.gradio_pages.{d.slug}")) for d in DEMOS]
