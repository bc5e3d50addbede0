"""The app shell: flags and environment conventions, and the home page's handler."""
import json
from pathlib import Path
from types import SimpleNamespace

import app
from apps import common
from apps.gradio_pages import home


def test_flags_default_to_loopback_and_honour_space_ports(monkeypatch):
    for var in ("PORT", "GRADIO_SERVER_PORT", "GRADIO_SERVER_NAME", "PAPERLAB_DEVICE"):
        monkeypatch.delenv(var, raising=False)
    args = app.parse_args([])
    assert (args.host, args.port, args.share, args.device) == ("127.0.0.1", 7860, False, "auto")
    monkeypatch.setenv("GRADIO_SERVER_PORT", "7001")
    assert app.parse_args([]).port == 7001
    monkeypatch.setenv("PORT", "8080")
    assert app.parse_args([]).port == 8080
    flags = app.parse_args(["--host", "0.0.0.0", "--port", "9000", "--share", "--device", "cpu"])
    assert (flags.host, flags.port, flags.share, flags.device) == ("0.0.0.0", 9000, True, "cpu")


def test_build_app_registers_every_demo_route():
    blocks = app.build_app()
    routes = {route.strip("/") for route, *_ in blocks.pages}
    assert routes == {"", "forecasting", "speech", "voice", "spectral", "merging"}


def test_environment_report_goes_to_the_sessions_own_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(common, "TMP_ROOT", tmp_path)
    a = home.download_environment("first", SimpleNamespace(session_hash="aaa"))
    b = home.download_environment("second", SimpleNamespace(session_hash="bbb"))
    assert a != b and "aaa" in a and "bbb" in b
    report = json.loads(Path(a).read_text())
    assert report["note"] == "first" and report["device"] in ("cpu", "cuda")
