"""Fixtures shared by every test folder: the real apps served on free loopback ports."""
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_http(url: str, proc: subprocess.Popen, timeout: float = 120.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")



def start_server(cmd: list[str], url: str, log_name: str) -> Iterator[str]:
    """Run ``cmd`` until the test session ends; yield ``url`` once it answers."""
    log = (Path(os.environ.get("TMPDIR", "/tmp")) / log_name).open("w")
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        wait_for_http(url, proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="session")
def gradio_url() -> Iterator[str]:
    """Base URL of ``python app.py`` on a free port (no trailing slash)."""
    port = free_port()
    yield from start_server([sys.executable, "app.py", "--port", str(port)],
                            f"http://127.0.0.1:{port}", "paperlab-gradio.log")


@pytest.fixture(scope="session")
def streamlit_url() -> Iterator[str]:
    port = free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", "apps/streamlit_app.py",
           "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true"]
    yield from start_server(cmd, f"http://127.0.0.1:{port}", "paperlab-streamlit.log")
