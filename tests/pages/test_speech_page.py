"""The Speech page's Gradio handlers (called directly, no browser) and its Streamlit flow."""
from __future__ import annotations

from types import SimpleNamespace

import gradio as gr
import pandas as pd
import pytest
import soundfile as sf
from streamlit.testing.v1 import AppTest

from apps.gradio_pages import speech as page
from tests.pages.conftest import no_progress




def test_enhance_example_gives_players_metrics_spectrograms_mask(request_a):
    notes, table, *rest = page.enhance(page.EXAMPLE, "white", 5, 1, None, None,
                                       ["PaperLab FRCRN", "Spectral gating"], request_a, no_progress)
    players, spec, mask, files = rest[:page.PLAYERS], rest[page.PLAYERS], rest[page.PLAYERS + 1], rest[-1]
    assert "Voice espeak:" in notes or "Voice flite:" in notes
    assert isinstance(table, pd.DataFrame) and list(table["engine"]) == ["Input (noisy)", "PaperLab FRCRN", "Spectral gating"]
    assert {"SI-SDR (dB)", "PESQ-WB", "STOI", "DNSMOS OVRL", "RTF"} <= set(table.columns)
    visible = [p for p in players if p["visible"]]
    assert len(visible) == 3 and all("session-a" in p["value"] for p in visible)
    audio, sr = sf.read(visible[1]["value"])
    assert sr == 16000 and len(audio) == 4 * 16000
    assert len(spec.data) == 3 and mask["visible"] and len(files) == 4


def test_enhance_upload_keeps_input_rate_and_has_no_reference(request_a, tmp_path):
    from models.speech import data

    ex = data.noisy_example(3, "test", sr=16000, seconds=2.0, snr_db=5, noise_kind="pink")
    from models.common.audio import resample

    path = tmp_path / "mine.wav"
    mine = resample(ex["noisy"], 16000, 44100)
    sf.write(path, mine, 44100)
    notes, table, *rest = page.enhance(page.UPLOAD, "pink", 5, 1, str(path), None, ["RNNoise"], request_a, no_progress)
    assert "SI-SDR (dB)" not in table.columns and "DNSMOS OVRL" in table.columns
    assert "No clean reference" in notes
    audio, sr = sf.read(rest[1]["value"])
    assert sr == 44100 and len(audio) == len(mine)


@pytest.mark.parametrize("args,message", [
    ((page.UPLOAD, None, None), "No file uploaded"),
    ((page.RECORD, None, None), "Nothing recorded"),
])
def test_missing_input_is_a_user_message(request_a, args, message):
    source, upload, recording = args
    with pytest.raises(gr.Error, match=message):
        page.enhance(source, "white", 5, 1, upload, recording, ["RNNoise"], request_a, no_progress)


def test_bad_upload_is_a_user_message(request_a, tmp_path):
    bad = tmp_path / "notes.mp3"
    bad.write_text("definitely not audio")
    with pytest.raises(gr.Error, match="could not be decoded"):
        page.enhance(page.UPLOAD, "white", 5, 1, str(bad), None, ["RNNoise"], request_a, no_progress)
    with pytest.raises(gr.Error, match="at least one"):
        page.enhance(page.EXAMPLE, "white", 5, 1, None, None, [], request_a, no_progress)


def test_separate_example_reports_si_sdri(request_a):
    _notes, table, mix, spk1, spk2, spec, files = page.separate(page.EXAMPLE, 0, 4, 1, None, None, request_a, no_progress)
    assert list(table["output"]) == ["Speaker 1", "Speaker 2"] and "SI-SDRi (dB)" in table.columns
    for path in (mix, spk1, spk2):
        audio, sr = sf.read(path)
        assert sr == 16000 and len(audio) == 4 * 16000
    assert len(spec.data) == 3 and len(files) == 4


def test_sessions_do_not_share_files(request_a):
    other = SimpleNamespace(session_hash="session-b")
    a = page.separate(page.EXAMPLE, 0, 4, 1, None, None, request_a, no_progress)[2]
    b = page.separate(page.EXAMPLE, 0, 4, 1, None, None, other, no_progress)[2]
    assert "session-a" in a and "session-b" in b and a != b


def render_speech() -> None:
    from apps.streamlit_pages import speech

    speech.render()


def test_streamlit_enhancement_flow():
    at = AppTest.from_function(render_speech, default_timeout=240)
    at.run()
    at.multiselect[0].set_value(["Spectral gating"])
    at.button[0].click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert len(at.dataframe) == 1
