"""The Voice page's Gradio handlers (called directly) and its Streamlit flow (AppTest)."""
from __future__ import annotations

from pathlib import Path

import gradio as gr
import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from streamlit.testing.v1 import AppTest

from apps.gradio_pages import voice as page
from models.speech.voice import knn_vc, lab, tts, voices
from tests.pages.conftest import no_progress




def test_speak_returns_both_voices_phonemes_plot_and_downloads(request_a):
    plain, converted, ipa, fig, info, files, heard = page.speak(
        tts.DEFAULT_TEXT, "espeak en-us (US male)", 175, 50, voices.DEFAULT_TARGET, None, knn_vc.DEFAULT_SPACE, 0.8,
        "iSTFTNet (trained here)", False, request_a, no_progress)
    for path in (plain, converted):
        audio, sr = sf.read(path)
        assert sr == 16000 and len(audio) > sr and "session-a" in path
    assert "ˈ" in ipa and "s of audio" in info
    assert len(fig.data) == 2 and len(files) == 2 and heard["visible"] is False


def test_speak_without_target_gives_only_the_engine_voice(request_a):
    plain, converted, *_, files, _heard = page.speak("Hello there.", "flite slt (US female)", 175, 50,
                                              voices.NO_CONVERSION, None, knn_vc.DEFAULT_SPACE, 1.0, "Griffin-Lim",
                                              False, request_a, no_progress)
    assert Path(plain).is_file() and converted is None and files == [plain]


def test_speak_can_check_the_words_with_the_offline_recogniser(request_a):
    text = "The quick brown fox jumps over the lazy dog."
    *_, files, heard = page.speak(text, "flite rms (US male)", 175, 50, voices.DEFAULT_TARGET, None,
                                  knn_vc.DEFAULT_SPACE, 0.5, "iSTFTNet (trained here)", True, request_a, no_progress)
    table = heard["value"]
    assert heard["visible"] and list(table["clip"]) == ["engine voice", "converted (blend 0.50)"]
    assert table["WER"].iloc[0] <= 0.3  # flite's recorded voice is recognised well unconverted
    assert all(0 <= w <= 2 for w in table["WER"]) and any(f.endswith("tts_recognised.csv") for f in files)


@pytest.mark.parametrize(("text", "message"),
                         [("", "no text"), ("x" * 401, "limit is 400"), ("\u4f60\u597d", "cannot be spoken")],
                         ids=["empty", "too-long", "chinese"])
def test_speak_bad_text_shows_a_message_not_a_traceback(request_a, text, message):
    with pytest.raises(gr.Error, match=message):
        page.speak(text, "espeak en-us (US male)", 175, 50, voices.NO_CONVERSION, None, knn_vc.DEFAULT_SPACE, 1.0,
                   "Griffin-Lim", False, request_a, no_progress)


def test_bad_reference_uploads_are_explained(request_a, tmp_path):
    short = tmp_path / "short.wav"
    sf.write(short, 0.3 * np.sin(np.arange(8000) / 5.0), 16000)
    with pytest.raises(gr.Error, match="at least 2 s"):
        page.speak("Hello.", "espeak en-us (US male)", 175, 50, voices.UPLOADED, str(short), knn_vc.DEFAULT_SPACE, 1.0,
                   "Griffin-Lim", False, request_a, no_progress)
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros(16000 * 4), 16000)
    with pytest.raises(gr.Error, match="silent"):
        page.speak("Hello.", "espeak en-us (US male)", 175, 50, voices.UPLOADED, str(silent), knn_vc.DEFAULT_SPACE, 1.0,
                   "Griffin-Lim", False, request_a, no_progress)
    with pytest.raises(gr.Error, match="Upload or record"):
        page.speak("Hello.", "espeak en-us (US male)", 175, 50, voices.UPLOADED, None, knn_vc.DEFAULT_SPACE, 1.0,
                   "Griffin-Lim", False, request_a, no_progress)


def test_convert_clip_scores_the_conversion(request_a):
    wav, fig, rows, files = page.convert_clip("Held-out sentence, espeak en-us", None, voices.DEFAULT_TARGET, None,
                                              knn_vc.DEFAULT_SPACE, 1.0, 1.0, 0, "iSTFTNet (trained here)",
                                              request_a, no_progress)
    scores = dict(rows)
    assert Path(wav).is_file() and len(fig.data) == 2 and len(files) == 2
    assert scores["speaker similarity to target"] > scores["speaker similarity to source"]
    assert 0 < scores["STOI vs source"] <= 1
    with pytest.raises(gr.Error, match="Pick a target"):
        page.convert_clip("Held-out sentence, espeak en-us", None, voices.NO_CONVERSION, None, knn_vc.DEFAULT_SPACE,
                          1.0, 1.0, 0, "Griffin-Lim", request_a, no_progress)
    with pytest.raises(gr.Error, match="Upload or record"):
        page.convert_clip(lab.UPLOADED_CLIP, None, voices.DEFAULT_TARGET, None, knn_vc.DEFAULT_SPACE, 1.0, 1.0, 0,
                          "Griffin-Lim", request_a, no_progress)


def test_matching_space_note_explains_the_choice_and_unknown_spaces_are_refused(request_a):
    assert "Content encoder" in page.explain_space(knn_vc.DEFAULT_SPACE)
    assert "Mel cepstra" in page.explain_space("mel cepstra (untrained baseline)")
    with pytest.raises(gr.Error, match="Unknown matching space"):
        page.convert_clip("Held-out sentence, espeak en-us", None, voices.DEFAULT_TARGET, None, "wavlm", 1.0, 1.0, 0,
                          "Griffin-Lim", request_a, no_progress)


def test_vocoder_lab_fills_every_player_and_the_metrics_table(request_a, tmp_path):
    clip = tmp_path / "mine.wav"
    sf.write(clip, lab.example_audio(next(iter(lab.EXAMPLES)))[: 16000 * 2], 16000)
    out = page.run_lab(lab.UPLOADED_CLIP, str(clip), ["FreeV + Griffin-Lim", "iSTFTNet (trained here)"],
                       request_a, no_progress)
    original, gl, freev, neural, table, fig, files = out
    assert Path(original).is_file() and gl is None and Path(freev).is_file() and Path(neural).is_file()
    assert isinstance(table, pd.DataFrame) and list(table.columns)[:4] == ["vocoder", "mel distance", "PESQ", "STOI"]
    assert len(fig.data) == 3 and any(f.endswith(".csv") for f in files)
    not_audio = tmp_path / "x.mp3"
    not_audio.write_bytes(b"definitely not audio")
    with pytest.raises(gr.Error, match="could not be decoded"):
        page.run_lab(lab.UPLOADED_CLIP, str(not_audio), ["Griffin-Lim"], request_a, no_progress)


def render_voice() -> None:
    from apps.streamlit_pages import voice

    voice.render()


def test_streamlit_page_speaks():
    at = AppTest.from_function(render_voice, default_timeout=180)
    at.run()
    at.button[0].click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.text_input[0].value  # the phonemes


def test_streamlit_page_checks_the_words():
    at = AppTest.from_function(render_voice, default_timeout=180)
    at.run()
    at.checkbox[0].check()
    at.button[0].click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    table = at.dataframe[0].value
    assert list(table["clip"]) == ["engine voice", "converted (blend 1.00)"] and table["WER"].between(0, 2).all()


def test_convert_clip_with_the_flow_converter(request_a):
    wav, _fig, rows, files = page.convert_clip("Held-out sentence, flite awb (Scottish male)", None,
                                               voices.DEFAULT_TARGET, None, knn_vc.FLOW, 1.0, 1.0, 0,
                                               "iSTFTNet (trained here)", request_a, no_progress)
    scores = dict(rows)
    assert Path(wav).is_file() and len(files) == 2
    assert scores["speaker similarity to target"] > scores["speaker similarity to source"]
