"""UI conventions shared by every page of both front ends.

- Errors: ``InputError`` messages reach the user verbatim; anything else is logged with its
  traceback and the user sees a short, generic line (never a traceback).
- Progress: library functions take ``models.common.progress.Progress``; the adapters here turn
  ``gr.Progress`` and ``st.progress`` into that callback.
- Files: everything a page writes goes under a per-session directory, so two users never see
  each other's files; ``write_download`` puts results there under a readable name.
gradio and streamlit are imported lazily so each front end loads only its own framework.
"""
from __future__ import annotations

import functools
import inspect
import json
import logging
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from models.common.errors import InputError
from models.common.progress import Progress

log = logging.getLogger("paperlab")

UPLOAD_LIMIT_MB = 50
"""Largest upload accepted by either front end (Gradio's max_file_size, Streamlit's maxUploadSize)."""
TMP_ROOT = Path(tempfile.gettempdir()) / "paperlab"
SESSION_TTL_S = 6 * 3600

_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


# --- errors -------------------------------------------------------------------------------

def user_message(exc: BaseException) -> str:
    """What the user reads for an exception: our message for bad input, a short line otherwise."""
    if isinstance(exc, InputError):
        return str(exc)
    if isinstance(exc, MemoryError):
        return "The input is too large for this server's memory. Try a smaller file or setting."
    return f"Something went wrong on our side ({type(exc).__name__}). The server keeps running; try other settings."


def gradio_handler(fn: Callable) -> Callable:
    """Wrap a Gradio event handler so every failure becomes a ``gr.Error`` shown in the page.

    ``functools.wraps`` keeps the signature, so Gradio still injects ``gr.Request``/``gr.Progress``.
    Generators (streaming handlers) are wrapped too.
    """
    import gradio as gr

    def convert(exc: Exception) -> gr.Error:
        if not isinstance(exc, InputError):
            log.exception("handler %s failed", fn.__name__)
        return gr.Error(user_message(exc), print_exception=False)

    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def gen_wrapper(*args: Any, **kwargs: Any):
            try:
                yield from fn(*args, **kwargs)
            except gr.Error:
                raise
            except Exception as exc:
                raise convert(exc) from None
        return gen_wrapper

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any):
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except Exception as exc:
            raise convert(exc) from None
    return wrapper


@contextmanager
def streamlit_errors() -> Iterator[None]:
    """``with streamlit_errors(): ...`` shows failures with ``st.error`` instead of a traceback."""
    import streamlit as st

    try:
        yield
    except Exception as exc:
        if not isinstance(exc, InputError):
            log.exception("streamlit page failed")
        st.error(user_message(exc))


# --- progress -----------------------------------------------------------------------------

def gradio_progress(progress: Any) -> Progress:
    """Adapt a ``gr.Progress`` object to the library's ``Progress`` callback."""
    return lambda fraction, message: progress(fraction, desc=message)


def streamlit_progress(label: str = "Working...") -> Progress:
    """Create an ``st.progress`` bar and return the callback that moves it."""
    import streamlit as st

    bar = st.progress(0.0, text=label)
    return lambda fraction, message: bar.progress(min(max(fraction, 0.0), 1.0), text=message)


# --- per-session files ----------------------------------------------------------------------

def session_dir(session_id: str | None) -> Path:
    """The private directory for one browser session (created on demand, swept after a TTL)."""
    sid = _SAFE.sub("_", session_id or "") or uuid.uuid4().hex
    path = TMP_ROOT / sid
    path.mkdir(parents=True, exist_ok=True)
    return path


def gradio_session_dir(request: Any) -> Path:
    """Per-session directory for a Gradio handler, keyed by ``gr.Request.session_hash``."""
    return session_dir(getattr(request, "session_hash", None))


def streamlit_session_dir() -> Path:
    """Per-session directory for the current Streamlit session."""
    import streamlit as st

    if "_paperlab_sid" not in st.session_state:
        st.session_state["_paperlab_sid"] = uuid.uuid4().hex
    return session_dir(st.session_state["_paperlab_sid"])


def sweep_sessions(max_age_s: float = SESSION_TTL_S) -> int:
    """Delete session directories untouched for ``max_age_s``; returns how many were removed."""
    if not TMP_ROOT.is_dir():
        return 0
    now, removed = time.time(), 0
    for child in TMP_ROOT.iterdir():
        if child.is_dir() and now - child.stat().st_mtime > max_age_s:
            shutil.rmtree(child, ignore_errors=True)
            removed += 1
    return removed


def write_download(directory: Path, name: str, content: Any) -> Path:
    """Write one result file for download and return its path.

    ``content`` may be a pandas DataFrame (CSV), a dict/list (JSON), a plotly or matplotlib
    figure (PNG), ``bytes`` or ``str``. The file is written to a temporary name and renamed, so
    a failure never leaves a half-written download behind.
    """
    path = Path(directory) / _SAFE.sub("_", name)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.part")
    try:
        _write(tmp, content)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _write(path: Path, content: Any) -> None:
    if hasattr(content, "to_csv"):
        content.to_csv(path, index=False)
    elif isinstance(content, (dict, list)):
        path.write_text(json.dumps(content, indent=2, default=str))
    elif hasattr(content, "savefig"):  # matplotlib figure
        content.savefig(path, format="png", dpi=120, bbox_inches="tight")
    elif hasattr(content, "to_image"):  # plotly figure (kaleido)
        path.write_bytes(content.to_image(format="png", scale=1))
    elif isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        path.write_text(content)
    else:
        raise TypeError(f"cannot write {type(content).__name__} as a download")
