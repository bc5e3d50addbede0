"""Shared fixtures for page-handler tests: a fake Gradio request with its own session directory."""
from types import SimpleNamespace

import pytest

from apps import common


def no_progress(*args, **kwargs) -> None:
    """Stands in for gr.Progress when a handler is called directly."""


@pytest.fixture()
def request_a(tmp_path, monkeypatch):
    """A request from session "session-a", its files kept under this test's tmp_path."""
    monkeypatch.setattr(common, "TMP_ROOT", tmp_path)
    return SimpleNamespace(session_hash="session-a")
